"""The style scene's per-frame work as torch ops on the network's own device.

With the torch engine (CUDA, or CPU for the checks) a frame is uploaded once at the
scene's size, and scaled to [0, 1], padded, painted, colour-kept, mixed with the camera
and quantised there; one download per frame. With the stabiliser on, `paint` hands the
painted picture to temporal/on_device.py, still on the device. Each step follows its numpy
twin in effects/style.py (the reference): `tests/effects/test_on_device.py` holds them to
it on CPU torch, so a GPU run changes only the device.
"""

from __future__ import annotations

import numpy as np
import torch

from installation.runtime.network import TensorNetwork
from installation.tensors import pad_to, quantise, upload

# OpenCV's float RGB↔YCrCb (cv2.COLOR_RGB2YCrCb / YCrCb2RGB, ITU-R BT.601), so that
# preserve_color matches keep_colour in effects/style.py.
_Y = (0.299, 0.587, 0.114)
_CR, _CB, _DELTA = 0.713, 0.564, 0.5  # chroma scales; the float offset
_R_CR, _G_CR, _G_CB, _B_CB = 1.403, -0.714, -0.344, 1.773


def keep_colour(stylised: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Luminance of `stylised`, chroma of `original` (both [1, 3, H, W] RGB in [0, 1])."""
    r, g, b = original[:, 0], original[:, 1], original[:, 2]
    y0 = _Y[0] * r + _Y[1] * g + _Y[2] * b
    cr = (r - y0) * _CR
    cb = (b - y0) * _CB
    y = (_Y[0] * stylised[:, 0] + _Y[1] * stylised[:, 1] + _Y[2] * stylised[:, 2])
    return torch.stack([y + _R_CR * cr, y + _G_CR * cr + _G_CB * cb, y + _B_CB * cb], 1)


class DeviceStyle:
    """One frame of the style effect on the network's device: upload → network → one
    download. `camera` at the scene's size; the result equals style.finish's."""

    def __init__(self, network: TensorNetwork, image_input: str, weights_input: str) -> None:
        self.network = network
        self.device = network.torch_device
        self.image_input = image_input
        self.weights_input = weights_input

    def __call__(self, camera: np.ndarray, weights: np.ndarray, strength: float,
                 preserve_color: bool, padded: tuple[int, int]) -> np.ndarray:
        with torch.inference_mode():
            cam = upload(camera, self.device)
            return quantise(self.paint(cam, weights, strength, preserve_color, padded)
                            ).cpu().numpy()

    def paint(self, cam: torch.Tensor, weights: np.ndarray, strength: float,
              preserve_color: bool, padded: tuple[int, int]) -> torch.Tensor:
        """[1, 3, H, W] in [0, 1] on the device → the painted picture there, [1, 3, H, W]
        in ~[0, 1], unclipped (the stabiliser's input: temporal/on_device.py)."""
        h, w = cam.shape[2:]
        with torch.inference_mode():
            x = pad_to(cam, *padded)
            wt = torch.from_numpy(np.asarray(weights, np.float32)).to(self.device)
            out = self.network.run_tensors({self.image_input: x, self.weights_input: wt})[0]
            stylised = out[:, :, :h, :w].float()
            if preserve_color:
                stylised = keep_colour(stylised, cam)
            if strength < 1.0:
                stylised = strength * stylised + (1.0 - strength) * cam
            return stylised
