"""Pictures: the one set of geometry helpers (resize, crop, cover, letterbox), reading, writing.

Every stage that changes a picture's size goes through here, so a 2.35:1 clip in a 16:9
scene is cropped the same way in the effects, the dream, the tools and the window. Sizes
are (W, H) in pixels, as OpenCV takes them; pictures are HxWxC numpy arrays.

    resize_to        crop to the target's aspect, then resize (the effects' input)
    cover            scale to cover, then crop (the compositor's layers; smooth enlarging)
    square_crop      the centred square
    fit_longer_side  a size scaled so its longer side is given
    place            where a picture goes in an output: letterbox ("fit") or crop ("fill")
    resize_into      resize into a buffer (a view), copying when the size already matches
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from installation.errors import UserError

Size = tuple[int, int]  # (W, H), px

JPEG_QUALITY = 95  # 0..100, for .jpg/.jpeg outputs (PNG, WebP-lossless and BMP are lossless)

FitMode = Literal["fit", "fill"]
FIT_MODES: tuple[FitMode, ...] = ("fit", "fill")


# -- resizing ------------------------------------------------------------------------------


def interpolation(src: Size, dst: Size) -> int:
    """OpenCV's interpolation from `src` to `dst` (W, H): INTER_AREA when neither side grows
    (it averages, no aliasing), else INTER_LINEAR."""
    shrink = dst[0] <= src[0] and dst[1] <= src[1]
    return cv2.INTER_AREA if shrink else cv2.INTER_LINEAR


def resize_to(image: np.ndarray, size: Size) -> np.ndarray:
    """`image` at `size` (W, H): INTER_AREA when neither side grows, else INTER_LINEAR.

    A picture of another shape is centre-cropped to the target's aspect first (a 2.35:1
    clip in a 16:9 scene loses its sides rather than being squashed). Returns `image`
    itself when it already has that size.
    """
    w, h = size
    if image.shape[1] == w and image.shape[0] == h:
        return image
    ih, iw = image.shape[:2]
    crop_w, crop_h = round(ih * w / h), round(iw * h / w)  # the aspect-true crop, px
    if crop_w < iw:
        x = (iw - crop_w) // 2
        image = image[:, x : x + crop_w]
    elif crop_h < ih:
        y = (ih - crop_h) // 2
        image = image[y : y + crop_h]
    interp = interpolation((image.shape[1], image.shape[0]), size)
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)


def cover(image: np.ndarray, size: Size) -> np.ndarray:
    """`image` scaled to cover (W, H), centre-cropped: smooth (cubic) when enlarging.

    Unlike `resize_to` it scales the whole picture first and crops after, with INTER_CUBIC
    when enlarging: the compositor's layers, where a 64 px GAN picture fills the screen.
    """
    w, h = size
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    sw, sh = max(w, round(iw * scale)), max(h, round(ih * scale))
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    big = cv2.resize(image, (sw, sh), interpolation=interp)
    x, y = (sw - w) // 2, (sh - h) // 2
    return big[y : y + h, x : x + w]


def resize_into(src: np.ndarray, dst: np.ndarray) -> None:
    """`src` resized to fill `dst` (a buffer or a view of one) in place; a plain copy when
    the sizes match. Interpolation as `interpolation`."""
    s, d = (src.shape[1], src.shape[0]), (dst.shape[1], dst.shape[0])
    if s == d:
        np.copyto(dst, src)
    else:
        cv2.resize(src, d, dst=dst, interpolation=interpolation(s, d))


# -- crops and sizes -----------------------------------------------------------------------


def square_crop(image: np.ndarray) -> np.ndarray:
    """The centred square of the largest side that fits (a view)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def fit_longer_side(size: Size, longer_px: int) -> Size:
    """`size` (W, H) scaled so its longer side is `longer_px`: each side
    round(side * longer_px / longer), at least 1 px."""
    w, h = size
    longer = max(w, h)
    return max(1, round(w * longer_px / longer)), max(1, round(h * longer_px / longer))


@dataclass(frozen=True)
class Placement:
    """Where a picture goes: a source crop (x, y, w, h) drawn at a destination rect (x, y, w, h).

    All values are pixels; the source crop is in the input picture, the destination rect
    in the output buffer.
    """

    src: tuple[int, int, int, int]
    dst: tuple[int, int, int, int]


def place(picture: Size, output: Size, mode: FitMode) -> Placement:
    """The placement of a `picture` (W, H) in an `output` (W, H), both in pixels.

    "fit" shows the whole picture, centred, with black bars where the aspect ratios differ
    (letterbox); "fill" covers the whole output and crops the picture's overflow equally
    on both sides.
    """
    pw, ph = picture
    ow, oh = output
    if mode == "fit":
        scale = min(ow / pw, oh / ph)
        dw = min(ow, max(1, round(pw * scale)))
        dh = min(oh, max(1, round(ph * scale)))
        return Placement((0, 0, pw, ph), ((ow - dw) // 2, (oh - dh) // 2, dw, dh))
    if mode == "fill":
        scale = max(ow / pw, oh / ph)
        cw = min(pw, max(1, round(ow / scale)))
        ch = min(ph, max(1, round(oh / scale)))
        return Placement(((pw - cw) // 2, (ph - ch) // 2, cw, ch), (0, 0, ow, oh))
    raise ValueError(f"fit mode {mode!r} is not one of {', '.join(FIT_MODES)}")


# -- reading and writing -------------------------------------------------------------------


def read_picture(path: Path) -> np.ndarray:
    """An image file as HxWx3 uint8 RGB; UserError naming the file when it cannot be read."""
    if not path.is_file():
        raise UserError(f"picture {path} not found")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UserError(f"picture {path} cannot be read as an image (png, jpg, webp, bmp)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


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
