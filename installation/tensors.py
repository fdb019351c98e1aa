"""Pictures as torch tensors on a device: one upload, one download per frame.

The on-device paths (effects/on_device.py, temporal/on_device.py) keep a frame as a
[1, 3, H, W] float tensor from its upload to the one download of the picture shown; these
are their ends and their shared filters, each the twin of the numpy/OpenCV step it
replaces (tests/test_tensors.py holds them to it).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# OpenCV's fixed-point RGB → grey (cv2.COLOR_RGB2GRAY on uint8, OpenCV 4): weights in
# 1/2^15 summing to 2^15 (found against cv2.cvtColor: tests/test_tensors.py).
_GREY_WEIGHTS = (9798, 19235, 3735)
_GREY_SHIFT = 15


def upload(image: np.ndarray, device: str | torch.device, scale: float = 1.0 / 255.0
           ) -> torch.Tensor:
    """HxWx3 uint8 → [1, 3, H, W] float32 (× `scale`: [0, 1] by default) on `device` (one
    copy to it)."""
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device, non_blocking=True)
    return t.permute(2, 0, 1).unsqueeze(0).float().mul_(scale)


def require_finite(x: torch.Tensor, what: str) -> None:
    """ValueError('`what` is not finite') when any value is NaN or ±inf (NaN would be cast
    to black): the effect thread then passes the camera frame through and reports it."""
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{what} is not finite")


def levels(x: torch.Tensor, what: str = "network output") -> torch.Tensor:
    """[0, 1] floats → grey levels as floor(clip(x) * 255 + 0.5), still in float (the
    numpy path's uint8 values before the cast); ValueError when not finite."""
    require_finite(x, what)
    return torch.floor(x.clamp(0.0, 1.0) * 255.0 + 0.5)


def download(levels_: torch.Tensor) -> np.ndarray:
    """[1, 3, H, W] grey levels 0..255 (whole numbers) → HxWx3 uint8 on the host."""
    return levels_.to(torch.uint8)[0].permute(1, 2, 0).contiguous().cpu().numpy()


def quantise(x: torch.Tensor, what: str = "style network output") -> torch.Tensor:
    """[1, 3, H, W] floats in [0, 1] → HxWx3 uint8 as floor(clip(x) * 255 + 0.5), on x's
    device (as style.to_uint8); ValueError when any value is NaN or ±inf."""
    return levels(x, what).to(torch.uint8)[0].permute(1, 2, 0).contiguous()


def pad_to(x: torch.Tensor, hp: int, wp: int) -> torch.Tensor:
    """Reflect-pad [1, 3, H, W] bottom and right to (hp, wp), as numpy's 'reflect' (about
    the last row/column, not repeating it); repeated reflection where a side is short."""
    while x.shape[2] < hp or x.shape[3] < wp:
        dh = min(hp - x.shape[2], x.shape[2] - 1)
        dw = min(wp - x.shape[3], x.shape[3] - 1)
        if dh <= 0 and dw <= 0:  # a 1 px side: nothing to mirror, so repeat it
            return F.pad(x, (0, wp - x.shape[3], 0, hp - x.shape[2]), mode="replicate")
        x = F.pad(x, (0, max(dw, 0), 0, max(dh, 0)), mode="reflect")
    return x


def grey_levels(rgb: torch.Tensor) -> torch.Tensor:
    """[1, 3, H, W] whole grey levels 0..255 → [H, W] uint8 grey, exactly as OpenCV's
    COLOR_RGB2GRAY on the uint8 picture (its fixed-point weights and rounding)."""
    q = rgb[0].to(torch.int32)
    r, g, b = _GREY_WEIGHTS
    total = q[0] * r + q[1] * g + q[2] * b + (1 << (_GREY_SHIFT - 1))
    return (total >> _GREY_SHIFT).to(torch.uint8)


def reflect_101(n: int, pad: int, device: torch.device) -> torch.Tensor:
    """Indices 0..n-1 for positions -pad..n+pad-1 under OpenCV's BORDER_REFLECT_101
    (mirrored about the edge pixel, again and again where `pad` exceeds the side)."""
    idx = torch.arange(-pad, n + pad, device=device).abs()
    if n == 1:
        return torch.zeros_like(idx)
    period = 2 * n - 2
    idx = idx % period
    return torch.where(idx >= n, period - idx, idx)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """[N, C, H, W] float blurred as cv2.GaussianBlur(x, (0, 0), sigma) on float32 pictures:
    the same kernel (its size from sigma as OpenCV picks it for float pictures) and
    BORDER_REFLECT_101 at the edges; separable, each channel alone."""
    size = round(sigma * 4 * 2 + 1) | 1  # OpenCV: cvRound(sigma * 4 * 2 + 1) | 1
    kernel = torch.from_numpy(cv2.getGaussianKernel(size, sigma, cv2.CV_32F).ravel())
    kernel = kernel.to(x.device, x.dtype)
    c, pad = x.shape[1], size // 2
    rows = reflect_101(x.shape[2], pad, x.device)
    cols = reflect_101(x.shape[3], pad, x.device)
    y = x.index_select(2, rows)
    y = F.conv2d(y, kernel.view(1, 1, size, 1).expand(c, 1, size, 1), groups=c)
    y = y.index_select(3, cols)
    return F.conv2d(y, kernel.view(1, 1, 1, size).expand(c, 1, 1, size), groups=c)
