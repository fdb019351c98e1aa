"""The still preview: exactly the network's answer under the documented pre-processing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.tools.stylize import stylize_file


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def network_directly(model: Path, rgb: np.ndarray, style: int) -> np.ndarray:
    """onnxruntime by hand: RGB, [0, 1], NCHW, reflect-pad to ×4, crop, clip, floor(x*255+.5)."""
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float32) / 255.0
    x = np.pad(x, ((0, (-h) % 4), (0, (-w) % 4), (0, 0)), mode="reflect")
    weights = np.zeros(26, np.float32)
    weights[style] = 1.0
    out = session.run(["stylized"], {"image": x.transpose(2, 0, 1)[None].copy(),
                                     "style_weights": weights})[0]
    y = np.clip(out[0, :, :h, :w].transpose(1, 2, 0), 0.0, 1.0)
    return np.floor(y * 255 + 0.5).astype(np.uint8)


@pytest.fixture
def picture(tmp_path: Path, photo: np.ndarray) -> Path:
    """A photo whose sides (203 x 150) are not multiples of 4."""
    return write_rgb(tmp_path / "in.png", np.ascontiguousarray(photo[40:190, 100:303]))


@pytest.mark.parametrize(
    ("size", "expected_wh", "interp"),
    [
        (None, (203, 150), None),
        (122, (122, 90), cv2.INTER_AREA),  # 150 * 122 / 203 = 90.1 → 90
        (250, (250, 185), cv2.INTER_LINEAR),  # 150 * 250 / 203 = 184.7 → 185
    ],
)
def test_equals_the_network_called_directly(
    picture: Path, tmp_path: Path, store: ModelStore, cpu: Device,
    size: int | None, expected_wh: tuple[int, int], interp: int | None,
) -> None:
    out = tmp_path / "out.png"
    got_wh = stylize_file(picture, out, 9, size, 1.0, False, None, cpu, store)
    assert got_wh == expected_wh
    rgb = read_rgb(picture)
    if interp is not None:
        rgb = cv2.resize(rgb, expected_wh, interpolation=interp)
    want = network_directly(store.require("multistyle26"), rgb, 9)
    np.testing.assert_array_equal(read_rgb(out), want)


def test_strength_zero_and_preserve_colour(picture: Path, tmp_path: Path, store: ModelStore,
                                           cpu: Device) -> None:
    out = tmp_path / "out.png"
    stylize_file(picture, out, 3, None, 0.0, False, None, cpu, store)
    np.testing.assert_array_equal(read_rgb(out), read_rgb(picture))
    kept = tmp_path / "kept.png"
    stylize_file(picture, kept, 3, None, 1.0, True, None, cpu, store)
    chroma = cv2.cvtColor(read_rgb(kept), cv2.COLOR_RGB2YCrCb)[..., 1:].astype(np.float32)
    orig = cv2.cvtColor(read_rgb(picture), cv2.COLOR_RGB2YCrCb)[..., 1:].astype(np.float32)
    assert np.abs(chroma - orig).mean() < 3.0


def test_style_image(picture: Path, tmp_path: Path, store: ModelStore, cpu: Device) -> None:
    painting = store.root / "paintings" / "retina.jpg"
    out = tmp_path / "painted.jpg"
    assert stylize_file(picture, out, 0, 100, 0.8, False, painting, cpu, store) == (100, 74)
    assert read_rgb(out).shape == (74, 100, 3)


def test_errors_name_the_file(picture: Path, tmp_path: Path, store: ModelStore,
                              cpu: Device) -> None:
    out = tmp_path / "out.png"
    with pytest.raises(UserError, match=r"nowhere\.png not found"):
        stylize_file(tmp_path / "nowhere.png", out, 0, None, 1.0, False, None, cpu, store)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(UserError, match=r"notes\.png cannot be read"):
        stylize_file(text, out, 0, None, 1.0, False, None, cpu, store)
    with pytest.raises(UserError, match=r"out\.gif: unsupported extension"):
        stylize_file(picture, tmp_path / "out.gif", 0, None, 1.0, False, None, cpu, store)
    with pytest.raises(UserError, match="missing-folder"):
        stylize_file(picture, tmp_path / "missing-folder" / "o.png", 0, None, 1.0, False, None,
                     cpu, store)
    with pytest.raises(UserError, match=r"monet\.jpg not found"):
        stylize_file(picture, out, 0, None, 1.0, False, tmp_path / "monet.jpg", cpu, store)
    assert not out.exists()


@pytest.mark.parametrize("style", [-1, 26, 100])
def test_style_index_out_of_range(picture: Path, tmp_path: Path, store: ModelStore,
                                  cpu: Device, style: int) -> None:
    with pytest.raises(UserError, match=rf"--style {style} is out of range; allowed 0..25"):
        stylize_file(picture, tmp_path / "o.png", style, None, 1.0, False, None, cpu, store)


@pytest.mark.parametrize("effect", ["dream", "fast-dream:ripples"])
def test_dream_effects_on_a_still(effect: str, picture: Path, tmp_path: Path,
                                  store: ModelStore, cpu: Device) -> None:
    out = tmp_path / "dream.png"
    layers = "4" if effect == "dream" else None
    assert stylize_file(picture, out, 0, 64, 1.0, False, None, cpu, store, effect,
                        layers) == (64, 47)
    dreamt, before = read_rgb(out), cv2.resize(read_rgb(picture), (64, 47),
                                                interpolation=cv2.INTER_AREA)
    assert dreamt.shape == (47, 64, 3)
    assert np.abs(dreamt.astype(float) - before).mean() > 2.0


@pytest.mark.parametrize(("effect", "layers", "says"), [
    ("paint", None, "--effect paint"),
    ("style", "6", "--layers goes with --effect dream"),
    ("dream", "99", "--layers '99'"),
    ("fast-dream:nope", None, "'nope'"),
])
def test_dream_options_are_checked(effect: str, layers: str | None, says: str, picture: Path,
                                   tmp_path: Path, store: ModelStore, cpu: Device) -> None:
    with pytest.raises(UserError, match=says):
        stylize_file(picture, tmp_path / "o.png", 0, 64, 1.0, False, None, cpu, store,
                     effect, layers)
