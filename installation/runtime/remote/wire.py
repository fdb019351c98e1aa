"""How one network call travels to the serving engine (Triton) and back.

Both sides name things the same way here: the served model's name, its tensors (`in0`,
`out0`, ... in the network's own order, so no ONNX tensor name has to survive Triton's
config syntax), the leading batch axis every tensor gains on the wire (Triton's dynamic
batcher stacks requests along it) and the parameters a model's config and a request carry.
"""

from __future__ import annotations

import re

import numpy as np

from installation.errors import UserError

# A served model's config parameters (config.pbtxt), read back by the display side.
SHA256 = "sha256"  # of the model file the server runs: the display side runs the same
NETWORK = "network"  # the project's name for it ("fast-dream:ripples")
CLIENT = "client"  # a request's parameter: which display machine sent it (server metrics)
# Why a network runs locally when the server has no such model: a server may host only some
# (`serve --networks`), so it is shown in the HUD but is no fault in /health.
NOT_HOSTED = "the server does not host it"

_URL = re.compile(r"^(?:grpc://)?(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


def served_name(name: str) -> str:
    """The model's name on the server: Triton names models by folder, so no ':'."""
    return name.replace(":", ".")


def input_name(i: int) -> str:
    return f"in{i}"


def output_name(i: int) -> str:
    return f"out{i}"


def parse_url(url: str) -> str:
    """`[runtime] remote` ("host:port" or "grpc://host:port") → the client's "host:port";
    UserError in one line otherwise."""
    m = _URL.match(url.strip())
    if m is None or not 0 < int(m["port"]) < 65536:
        raise UserError(f"runtime.remote = {url!r}: give the server's gRPC address as "
                        "'HOST:PORT' (the port `python main.py serve` prints), or '' for none")
    return f"{m['host']}:{m['port']}"


def batched(a: np.ndarray) -> np.ndarray:
    """`a` with the wire's batch axis in front (one request = a batch of one)."""
    return np.ascontiguousarray(a)[np.newaxis]


def unbatched(a: np.ndarray) -> np.ndarray:
    """The array one request sent, without the wire's batch axis."""
    if a.ndim == 0 or a.shape[0] != 1:
        raise ValueError(f"a tensor of shape {a.shape} is not one request's (1, ...)")
    return a[0]
