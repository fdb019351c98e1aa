"""Where and how networks run: the device (device.py), the engines behind one `Network`
interface (onnxrt.py, openvino.py, torchnet.py), and the one place that picks an engine per
network and says why (choice.py)."""

from installation.runtime.choice import beside_server, open_network
from installation.runtime.device import (
    CPU,
    CUDA,
    TENSORRT,
    Device,
    RuntimeConfig,
    choose_device,
    muted_stderr,
    torch_device,
)
from installation.runtime.network import Network, Port
from installation.runtime.onnxrt import OrtNetwork, create_session

__all__ = [
    "CPU", "CUDA", "TENSORRT", "Device", "Network", "OrtNetwork", "Port", "RuntimeConfig",
    "beside_server", "choose_device", "create_session", "muted_stderr", "open_network",
    "torch_device",
]
