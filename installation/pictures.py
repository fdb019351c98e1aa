"""Writing pictures: stills, contact sheets, side-by-side comparisons."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from installation.errors import UserError

JPEG_QUALITY = 95  # 0..100, for .jpg/.jpeg outputs (PNG, WebP-lossless and BMP are lossless)


def caption(image: np.ndarray, text: str, org: tuple[int, int], scale: float) -> None:
    """White text with a dark outline (readable on any picture), drawn in place at `org`
    (x, y of the baseline's start, px); `scale` is OpenCV's font scale."""
    for colour, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick,
                    cv2.LINE_AA)


def write_picture(dst: Path, rgb: np.ndarray) -> None:
    """Write an RGB picture; the extension picks the format (JPEG at `JPEG_QUALITY`, WebP
    lossless). UserError (one line) when it cannot be written."""
    ext = dst.suffix.lower()
    params: list[int] = []
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, 101]  # above 100 = lossless
    try:
        ok = cv2.imwrite(str(dst), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    except cv2.error as exc:
        raise UserError(f"output file {dst} cannot be written: {exc.err}") from None
    if not ok:
        raise UserError(f"output file {dst} cannot be written")
