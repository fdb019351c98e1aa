"""Still preview: one picture file through a style network, written to another file.

Behind `python main.py stylize IN OUT --style N [--size PX] [--strength S]
[--preserve-color] [--style-image PAINTING] [--effect style|dream|fast-dream:NAME]`.
At strength 1 without preserve-colour the output is exactly the network's answer under the
documented pre-processing (see `style.py`): nothing else is applied, and PNG is written
losslessly. `--effect dream` runs the full iterative dream on the still (`STILL_DREAM`:
more steps and octaves than a live frame gets); `fast-dream:NAME` a trained network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from installation.effects.arbitrary import PICTURE_EXTENSIONS, StylePredictor, StyleTransform
from installation.effects.config import NUM_STYLES, style_weights
from installation.effects.style import MultiStyleNet, finish, padded_shape
from installation.errors import UserError
from installation.models import ModelStore
from installation.pictures import fit_longer_side, read_picture, resize_to, write_picture
from installation.runtime import Device, open_network

STILL_DREAM = {"steps": 10, "octaves": 3}  # a still gets a whole dream, not one frame's


def stylize_file(
    src: Path,
    dst: Path,
    style: int,
    size: int | None,
    strength: float,
    preserve_color: bool,
    style_image: Path | None,
    device: Device,
    store: ModelStore,
    effect: str = "style",
    layers: str | None = None,
) -> tuple[int, int]:
    """Repaint the picture `src` and write it to `dst`; returns the output size (W, H), px.

    `size` is the output's longer side (None keeps the picture's size); the picture is
    resized with `pictures.resize_to` (INTER_AREA shrinking, INTER_LINEAR enlarging). With
    `style_image`, that painting is the style (arbitrary-style networks at 384 px, then
    resized to the output size) and `style` is not used for the picture. `effect` "dream"
    or "fast-dream:NAME" dreams instead of painting (`layers`, as "6:1,9:0.5", for the
    dream's objective; default: DreamConfig's).
    """
    # Check every argument before the (slower) networks load.
    _check_effect(effect, style_image, layers)
    _check_options(style, size, strength, dst, style_image)
    image = read_picture(src)

    h, w = image.shape[:2]
    if size is not None:
        w, h = fit_longer_side((w, h), size)
        image = resize_to(image, (w, h))

    out = _repaint(image, effect, style, strength, preserve_color, style_image, layers,
                   device, store)
    write_picture(dst, out)
    return w, h


def _check_effect(effect: str, style_image: Path | None, layers: str | None) -> None:
    """`effect` is one `stylize_file` knows, and `style_image` and `layers` go with it."""
    dreaming = effect == "dream" or effect.startswith("fast-dream:")
    if effect != "style" and (style_image is not None or not dreaming):
        raise UserError(f"--effect {effect}: use style, dream or fast-dream:NAME "
                        "(--style-image goes with style)")
    if layers is not None and effect != "dream":
        raise UserError("--layers goes with --effect dream (a fast network has its own)")


def _check_options(style: int, size: int | None, strength: float, dst: Path,
                   style_image: Path | None) -> None:
    """The style index, output size (longer side, px) and strength (0..1) are in range, and
    the output can be written as a picture and the style image read."""
    if not 0 <= style < NUM_STYLES:
        raise UserError(f"--style {style} is out of range; allowed 0..{NUM_STYLES - 1}")
    if size is not None and not 1 <= size <= 16384:
        raise UserError(f"--size {size} is out of range; allowed 1..16384 px (longer side)")
    if not 0.0 <= strength <= 1.0:
        raise UserError(f"--strength {strength} is out of range; allowed 0..1")
    if dst.suffix.lower() not in PICTURE_EXTENSIONS:
        allowed = ", ".join(PICTURE_EXTENSIONS)
        raise UserError(f"output file {dst}: unsupported extension; use one of {allowed}")
    if not dst.parent.is_dir():
        raise UserError(f"output file {dst}: folder {dst.parent} does not exist")
    if style_image is not None and not style_image.is_file():
        raise UserError(f"style image {style_image} not found")


def _repaint(image: np.ndarray, effect: str, style: int, strength: float,
             preserve_color: bool, style_image: Path | None, layers: str | None,
             device: Device, store: ModelStore) -> np.ndarray:
    """`image` (RGB uint8 at the output size) dreamt or painted as `stylize_file` says,
    then finished (strength, preserve-colour) for writing."""
    if effect == "dream":
        return finish(_dream(image, layers, device, store), image, strength, preserve_color)
    if effect != "style":
        return finish(_fast_dream(image, effect.partition(":")[2], device, store), image,
                      strength, preserve_color)
    if style_image is None:
        net = MultiStyleNet(open_network("multistyle26", store.require("multistyle26"),
                                         device, store.engine_cache,
                                         size=_padded(image)))
        weights = np.asarray(style_weights(style), np.float32)
        return finish(net.stylise(image, weights), image, strength, preserve_color)
    return _paint_like(image, style_image, strength, preserve_color, device, store)


def _padded(image: np.ndarray) -> tuple[int, int]:
    """(W, H) of `image` rounded up as the picture networks take it (multiples of 4)."""
    h, w = padded_shape(*image.shape[:2])
    return w, h


def _dream(image: np.ndarray, layers: str | None, device: Device,
           store: ModelStore) -> np.ndarray:
    """The iterative dream of a still, float32 0..1."""

    from installation.dream.ascent import dream, to_tensor
    from installation.dream.backbone import load_backbone
    from installation.dream.config import DreamConfig, parse_layers
    from installation.runtime import torch_device

    try:
        cfg = DreamConfig(**STILL_DREAM) if layers is None else \
            DreamConfig(layers=parse_layers(layers), **STILL_DREAM)
    except ValueError as exc:
        raise UserError(f"--layers {layers!r}: {exc}") from None
    where = torch_device(device)
    net = load_backbone(store, where)
    x = to_tensor(image)
    out = dream(net, x.to(where), cfg.weights(), cfg.steps, cfg.step_size, cfg.octaves,
                cfg.octave_scale, cfg.jitter_px)
    return out[0].permute(1, 2, 0).cpu().numpy() / np.float32(255.0)


def _fast_dream(image: np.ndarray, name: str, device: Device, store: ModelStore) -> np.ndarray:
    """A trained dream network's answer, float32 0..1."""
    from installation.dream.fast import DreamRunner, network_path

    runner = DreamRunner(open_network(f"fast-dream:{name}", network_path(store, name), device,
                                      store.engine_cache, 255.0, _padded(image)), name)
    return runner.run(image).astype(np.float32) / np.float32(255.0)


def _paint_like(
    image: np.ndarray,
    painting: Path,
    strength: float,
    preserve_color: bool,
    device: Device,
    store: ModelStore,
) -> np.ndarray:
    """`image` in the style of `painting`; strength mixes style vectors, as in the live view."""
    predictor = StylePredictor(open_network("arbitrary-predict", store.require(
        "arbitrary-predict"), device, store.engine_cache))
    transform = StyleTransform(open_network("arbitrary-transform", store.require(
        "arbitrary-transform"), device, store.engine_cache))
    fitted = transform.fit(image)
    vector = predictor.of_image(read_picture(painting))
    if strength < 1.0:
        own = predictor.of_image(fitted)
        vector = np.float32(strength) * vector + np.float32(1.0 - strength) * own
    h, w = image.shape[:2]
    # The transform runs at its fixed size; the result (and the picture, for preserve-colour)
    # come back to the output size before finishing.
    painted = resize_to(np.ascontiguousarray(transform.run(fitted, vector)), (w, h))
    return finish(painted, image, 1.0, preserve_color)
