"""The 26-style effect: crossfade numerics, blends, strength, preserve-colour, sizes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from installation.effects import PassThrough, build_effect
from installation.effects.config import StyleConfig, style_weights
from installation.effects.style import (
    MultiStyleEffect,
    StyleMixer,
    postprocess,
    preprocess,
)
from installation.models import ModelStore
from installation.pictures import resize_to
from installation.runtime import Device, OrtNetwork
from installation.show.config import SceneConfig


def one_hot(i: int) -> np.ndarray:
    w = np.zeros(26, np.float32)
    w[i] = 1.0
    return w


def direct(session: OrtNetwork, rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The network called by hand with the documented pre-processing (shared/MODELS.md)."""
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float32) / 255.0
    x = np.pad(x, ((0, (-h) % 4), (0, (-w) % 4), (0, 0)), mode="reflect")
    out = session.run({"image": x.transpose(2, 0, 1)[None].copy(),
                       "style_weights": weights.astype(np.float32)})[0]
    y = np.clip(out[0, :, :h, :w].transpose(1, 2, 0), 0, 1)
    return np.floor(y * 255 + 0.5).astype(np.uint8)


@pytest.fixture(scope="module")
def session(store: ModelStore, cpu: Device) -> OrtNetwork:
    return OrtNetwork(store.require("multistyle26"), cpu)


def scene(**kw: object) -> SceneConfig:
    return SceneConfig.model_validate({"name": "test", "size": (98, 58), **kw})


# -- StyleMixer ---------------------------------------------------------------------------


def test_crossfade_start_middle_end() -> None:
    m = StyleMixer(one_hot(7))
    m.set_target(one_hot(12), t=10.0, duration_s=2.0)
    np.testing.assert_allclose(m.weights(10.0), one_hot(7))
    np.testing.assert_allclose(m.weights(11.0)[[7, 12]], [0.5, 0.5], atol=1e-6)
    # smoothstep at a quarter of the way: 3u² − 2u³ = 0.15625
    np.testing.assert_allclose(m.weights(10.5)[[7, 12]], [0.84375, 0.15625], atol=1e-6)
    np.testing.assert_allclose(m.weights(12.0), one_hot(12))
    np.testing.assert_allclose(m.weights(99.0), one_hot(12))
    for t in np.linspace(9.0, 13.0, 41):
        w = m.weights(float(t))
        assert w.dtype == np.float32 and w.shape == (26,)
        assert (w >= 0).all() and abs(float(w.sum()) - 1.0) < 1e-6


def test_retarget_mid_fade_is_continuous() -> None:
    m = StyleMixer(one_hot(0))
    m.set_target(one_hot(1), t=0.0, duration_s=1.0)
    before = m.weights(0.3)
    m.set_target(one_hot(2), t=0.3, duration_s=1.0)
    np.testing.assert_allclose(m.weights(0.3), before, atol=1e-7)
    np.testing.assert_allclose(m.weights(0.3001), before, atol=1e-3)
    assert m.weights(0.8)[2] > 0 and m.weights(0.8)[1] > 0
    np.testing.assert_allclose(m.weights(1.3), one_hot(2))


def test_duration_zero_switches_at_once() -> None:
    m = StyleMixer(one_hot(3))
    m.set_target(style_weights({"4": 1, "5": 3}), t=5.0, duration_s=0.0)
    np.testing.assert_allclose(m.weights(5.0)[[4, 5]], [0.25, 0.75])
    assert not m.fading(5.0)


def test_mixer_normalises_and_refuses_bad_weights() -> None:
    m = StyleMixer([2.0] + [0.0] * 25)
    np.testing.assert_allclose(m.weights(0.0), one_hot(0))
    with pytest.raises(ValueError):
        m.set_target([0.0] * 26, 0.0, 1.0)
    with pytest.raises(ValueError):
        StyleMixer([1.0] * 5)


# -- pre- and post-processing -------------------------------------------------------------


@pytest.mark.parametrize("hw", [(58, 98), (61, 97), (3, 2), (64, 64)])
def test_preprocess_is_reflect_padded_nchw(hw: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    h, w = hw
    want = np.pad(img.astype(np.float32) / 255.0, ((0, (-h) % 4), (0, (-w) % 4), (0, 0)),
                  mode="reflect").transpose(2, 0, 1)[None]
    got = preprocess(img)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(postprocess(got.copy(), h, w), img)


# -- the effect ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(512, 512, 3), (40, 50, 3), (58, 98, 3)])
def test_output_is_scene_sized_uint8(session: OrtNetwork, shape: tuple[int, ...],
                                     photo: np.ndarray) -> None:
    effect = MultiStyleEffect(session, scene(), crossfade_s=1.0)
    out = effect(resize_to(photo, (shape[1], shape[0])), 0.0)
    assert out.shape == (58, 98, 3) and out.dtype == np.uint8 and out.flags.c_contiguous


def test_single_style_and_blend_equal_the_network(session: OrtNetwork,
                                                  photo: np.ndarray) -> None:
    camera = resize_to(photo, (98, 58))  # aspect crop tested above
    blend = {"3": 0.5, "12": 0.5}
    effect = MultiStyleEffect(session, scene(styles=[7, blend]), crossfade_s=0.0)
    np.testing.assert_array_equal(effect(photo, 0.0), direct(session, camera, one_hot(7)))
    effect.step_style(+1, 1.0)
    w = np.asarray(style_weights(blend), np.float32)
    np.testing.assert_array_equal(effect(photo, 1.0), direct(session, camera, w))


def test_mid_fade_frame_is_the_blended_vector(session: OrtNetwork,
                                              photo: np.ndarray) -> None:
    camera = resize_to(photo, (98, 58))  # aspect crop tested above
    effect = MultiStyleEffect(session, scene(styles=[7, 12]), crossfade_s=2.0)
    effect.step_style(+1, 0.0)
    half = one_hot(7) * 0.5 + one_hot(12) * 0.5
    np.testing.assert_array_equal(effect(photo, 1.0), direct(session, camera, half))


def test_describe_shows_target_and_fade(session: OrtNetwork, photo: np.ndarray) -> None:
    effect = MultiStyleEffect(session, scene(styles=[7, 12, {"3": 1, "12": 1}]), crossfade_s=1.0)
    assert effect.describe() == "7"
    effect.step_style(+1, 10.0)
    assert effect.describe() == "7→12"
    effect(photo, 11.5)
    assert effect.describe() == "12"
    effect.step_style(+1, 12.0)
    effect(photo, 13.5)
    assert effect.describe() == "3:0.50+12:0.50"
    effect.step_style(-2, 14.0)  # wraps around
    assert effect.describe() == "3:0.50+12:0.50→7"
    effect.set_style(25, 20.0)
    effect(photo, 30.0)
    assert effect.describe() == "25"


def test_strength_zero_gives_the_camera_picture(session: OrtNetwork,
                                                photo: np.ndarray) -> None:
    effect = MultiStyleEffect(session, scene(strength=0.0), crossfade_s=1.0)
    camera = resize_to(photo, (98, 58))  # aspect crop tested above
    np.testing.assert_array_equal(effect(photo, 0.0), camera)


def test_half_strength_is_between(session: OrtNetwork, photo: np.ndarray) -> None:
    camera = resize_to(photo, (98, 58))  # aspect crop tested above.astype(np.float32)
    full = MultiStyleEffect(session, scene(), crossfade_s=1.0)(photo, 0.0).astype(np.float32)
    half = MultiStyleEffect(session, scene(strength=0.5), crossfade_s=1.0)(photo, 0.0)
    np.testing.assert_allclose(half, (full + camera) / 2, atol=1.0)


def test_preserve_colour_keeps_the_camera_chroma(session: OrtNetwork,
                                                 photo: np.ndarray) -> None:
    camera = resize_to(photo, (98, 58))  # aspect crop tested above
    plain = MultiStyleEffect(session, scene(styles=[5]), 1.0)(photo, 0.0)
    kept = MultiStyleEffect(session, scene(styles=[5], preserve_color=True), 1.0)(photo, 0.0)

    def crcb(rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., 1:].astype(np.float32)

    def luma(rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)

    # Rounding and clipping to the RGB gamut move chroma a little; the style moves it a lot.
    assert np.median(np.abs(crcb(kept) - crcb(camera))) <= 1.0
    assert np.abs(crcb(kept) - crcb(camera)).mean() < 3.0
    assert np.abs(crcb(plain) - crcb(camera)).mean() > 3 * np.abs(crcb(kept) - crcb(camera)).mean()
    # ... and the brightness comes from the painting.
    assert np.abs(luma(kept) - luma(plain)).mean() < np.abs(luma(kept) - luma(camera)).mean()


def test_build_effect_makes_each_kind(store: ModelStore, cpu: Device, photo: np.ndarray) -> None:
    cfg = StyleConfig()
    style = build_effect(scene(), cfg, cpu, store)
    assert isinstance(style, MultiStyleEffect) and style.name == "style"
    none = build_effect(scene(effect="none"), cfg, cpu, store)
    assert isinstance(none, PassThrough) and none.describe() == "none"
    np.testing.assert_array_equal(
        none(photo, 0.0), resize_to(photo, (98, 58))  # aspect crop tested above
    )
    none.step_style(1, 0.0)


def test_an_output_that_is_not_finite_is_refused_not_cast_to_black() -> None:
    from installation.effects.style import to_uint8

    for bad in (np.nan, np.inf, -np.inf):
        x = np.full((4, 5, 3), 0.5, np.float32)
        x[2, 3, 1] = bad
        with pytest.raises(ValueError, match="style network output is not finite"):
            to_uint8(x)
    assert to_uint8(np.full((2, 2, 3), 0.5, np.float32)).max() == 128
