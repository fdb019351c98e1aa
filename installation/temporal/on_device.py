"""The stabiliser on the painting network's device (torch): the frame stays there.

With the torch engine the style scene's frame is uploaded once, held steady, painted,
blended with the last output carried along the flow, and downloaded once as the picture
shown. Only the grey picture comes back to the host each frame (uint8, a third of the
frame), for OpenCV's DIS flow, which runs on the helper thread while the network paints;
the flows go up at the size they were found (≤ `flow.MAX_FLOW_WIDTH` px wide) and are
brought to full size there. Every step is the twin of the numpy `Stabiliser`'s
(stabiliser.py, the reference): `tests/temporal/test_on_device.py` holds the two together
on CPU torch, so a GPU run changes only the device.

Where they differ, and by how much: OpenCV's remap places its samples on a 1/32 px grid
and torch's grid_sample exactly, so warped pixels differ by a fraction of a grey level.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from installation.temporal.config import TemporalConfig
from installation.temporal.flow import ROUND_TRIP_ABS_PX2, ROUND_TRIP_REL, Grid
from installation.temporal.stabiliser import (
    STEADY_BLUR_PX,
    TRUST_BLUR_PX,
    Carried,
    Last,
    Steadier,
)
from installation.tensors import download, gaussian_blur, grey_levels, levels, upload

Tensor = torch.Tensor


def _length2(flow: Tensor) -> Tensor:
    """[1, H, W]: the squared length of each vector of a [1, 2, H, W] flow, px²."""
    return flow[:, 0] * flow[:, 0] + flow[:, 1] * flow[:, 1]


class DeviceGrid:
    """`flow.Grid` for [1, C, H, W] tensors and [1, 2, H, W] flows on one device."""

    def __init__(self, size: tuple[int, int], device: torch.device) -> None:
        w, h = size
        self.size = size
        self.ys, self.xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                                          torch.arange(w, dtype=torch.float32, device=device),
                                          indexing="ij")

    def maps(self, flow: Tensor) -> tuple[Tensor, Tensor]:
        """Where each pixel samples: x + flow, px ([1, H, W] each)."""
        return self.xs + flow[:, 0], self.ys + flow[:, 1]

    def warp(self, picture: Tensor, flow: Tensor, mode: str = "bilinear") -> Tensor:
        """`picture` sampled at x + flow(x) (off the edge, the nearest edge pixel, as
        BORDER_REPLICATE); "bicubic" is OpenCV's INTER_CUBIC (a = -0.75)."""
        w, h = self.size
        map_x, map_y = self.maps(flow)
        # align_corners: -1 and 1 are the centres of the edge pixels, as px 0 and W-1.
        gx = map_x * (2.0 / max(w - 1, 1)) - 1.0
        gy = map_y * (2.0 / max(h - 1, 1)) - 1.0
        grid = torch.stack([gx, gy], dim=-1)
        return F.grid_sample(picture, grid, mode=mode, padding_mode="border",
                             align_corners=True)

    def inside(self, flow: Tensor) -> Tensor:
        w, h = self.size
        map_x, map_y = self.maps(flow)
        return (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)

    def round_trip(self, back: Tensor, forward: Tensor) -> Tensor:
        """[1, H, W]: the round-trip miss over its allowance (`flow.Grid.round_trip`)."""
        there = self.warp(forward, back)
        miss = _length2(back + there)
        allowed = ROUND_TRIP_REL * (_length2(back) + _length2(there)) + ROUND_TRIP_ABS_PX2
        return torch.where(self.inside(back), miss / allowed, torch.inf)


class DeviceStabiliser(Steadier[Tensor]):
    """The stabiliser with its pictures as [1, 3, H, W] float tensors (0..255) on `device`;
    `paint` takes and gives [1, 3, H, W] in [0, 1] there (effects/on_device.py)."""

    def __init__(self, cfg: TemporalConfig, size: tuple[int, int], device: str) -> None:
        super().__init__(cfg, size)
        self.device = device
        self._where = torch.device(device)
        self._grid = DeviceGrid(size, self._where)

    def device_grid(self, grid: Grid) -> DeviceGrid:
        """The device twin of `grid` (made again when the size changed)."""
        made = self._grid
        if made.size != grid.size:
            made = self._grid = DeviceGrid(grid.size, self._where)
        return made

    def plain(self, picture: np.ndarray, paint: Callable[[Tensor], Tensor]) -> np.ndarray:
        with torch.inference_mode():
            return download(levels(paint(upload(picture, self._where))))

    def steady(self, picture: np.ndarray) -> Tensor:
        with torch.inference_mode():
            new = upload(picture, self._where, 1.0)  # grey levels 0..255
            noise, held = self.cfg.noise, self._held
            if noise <= 0.0 or held is None or held.shape != new.shape:
                if noise > 0.0:
                    self._held = new
                return new
            delta = new - held
            change = gaussian_blur(delta, STEADY_BLUR_PX).abs().mean(1, keepdim=True)
            take = (change / noise - 1.0).clamp(0.0, 1.0)  # 0 up to noise, 1 from twice it
            held = held + take * delta
            self._held = held
            return torch.floor((held + 0.5).clamp(0.0, 255.0))

    def grey_of(self, steady: Tensor) -> np.ndarray:
        with torch.inference_mode():
            return grey_levels(steady).cpu().numpy()

    def painted(self, paint: Callable[[Tensor], Tensor], steady: Tensor) -> Tensor:
        with torch.inference_mode():
            out = paint(steady / 255.0)
            if out.shape[2:] != steady.shape[2:]:
                out = F.interpolate(out, size=steady.shape[2:], mode="area")
            return levels(out)

    def _full(self, flow: np.ndarray, size: tuple[int, int]) -> Tensor:
        """A flow as `Flow.coarse` found it → [1, 2, H, W] px at `size` (W, H) on the
        device, brought up as `Flow.__call__` does on the host (bilinear, scaled)."""
        w, h = size
        t = torch.from_numpy(flow).to(self._where).permute(2, 0, 1).unsqueeze(0)
        small_h, small_w = flow.shape[:2]
        if (small_h, small_w) == (h, w):
            return t
        t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
        scale = torch.tensor([w / small_w, h / small_h], device=self._where)
        return t * scale.view(1, 2, 1, 1)

    def trust(self, grid: DeviceGrid, last: Last[Tensor], steady: Tensor, back: Tensor,
              forward: Tensor) -> Tensor:
        """[1, 1, H, W] 0..1 (`Stabiliser.trust`)."""
        trust = torch.exp(-grid.round_trip(back, forward))  # exp(-inf) = 0 off the edge
        carried = torch.floor(grid.warp(last.steady, back) + 0.5)  # remap rounds uint8
        diff = (carried - steady).abs().mean(1)
        trust = trust * torch.exp(-torch.square(diff / self.cfg.change))
        blurred = gaussian_blur(trust.unsqueeze(1), TRUST_BLUR_PX)
        return torch.minimum(trust.unsqueeze(1), blurred)

    def carry(self, grid: Grid, last: Last[Tensor], steady: Tensor, g: np.ndarray
              ) -> Carried[Tensor]:
        back_found = self._flow.coarse(g, last.grey)
        forward_found = self._flow.coarse(last.grey, g)
        with torch.inference_mode():
            on = self.device_grid(grid)
            back = self._full(back_found, grid.size)
            forward = self._full(forward_found, grid.size)
            keep = self.cfg.strength * self.trust(on, last, steady, back, forward)
            return keep, on.warp(last.out, back, "bicubic")

    def mix(self, out: Tensor, carried: Carried[Tensor] | None) -> tuple[np.ndarray, float]:
        with torch.inference_mode():
            kept = 0.0
            if carried is not None:
                keep, last = carried
                kept = float(keep.mean())
                out += keep * (last - out)
                out.clamp_(0.0, 255.0)  # bicubic overshoots a little at edges
            return download(torch.floor(out + 0.5)), kept

    def sized(self, picture: Tensor, size: tuple[int, int], interp: int) -> Tensor:
        """Resized by OpenCV on the host (a rare event: adaptive resolution's rungs)."""
        with torch.inference_mode():
            host = picture[0].permute(1, 2, 0).cpu().numpy()
            resized = cv2.resize(host, size, interpolation=interp)
            return torch.from_numpy(resized).to(self._where).permute(2, 0, 1).unsqueeze(0)
