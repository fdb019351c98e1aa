"""The `[motion]` section: defaults, ranges, unknown keys, the analysis size."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from installation.motion import MotionConfig


def test_defaults_are_valid_and_frozen() -> None:
    cfg = MotionConfig()
    assert cfg.width == 160 and cfg.height == 0
    with pytest.raises(ValidationError):
        cfg.width = 320  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("width", 8),  # too small to see anyone
        ("height", 10),  # neither 0 (from the aspect) nor 24..480
        ("noise_floor", -0.1),
        ("energy_scale", 0.0),
        ("energy_tau_s", 0.0),  # a time constant must be positive
        ("poly_n", 6),  # OpenCV allows 5 or 7
        ("levels", 0),
        ("background_fraction", 1.5),
    ],
)
def test_out_of_range_values_are_refused_with_the_key_named(key: str, value: object) -> None:
    with pytest.raises(ValidationError) as err:
        MotionConfig.model_validate({key: value})
    assert err.value.errors()[0]["loc"] == (key,)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        MotionConfig.model_validate({"energy_tau": 0.2})  # missing the `_s`
    assert err.value.errors()[0]["type"] == "extra_forbidden"


def test_analysis_size_follows_the_camera_aspect_unless_given() -> None:
    assert MotionConfig().analysis_size(1280, 720) == (160, 90)
    assert MotionConfig().analysis_size(640, 272) == (160, 68)
    assert MotionConfig(width=120, height=80).analysis_size(1280, 720) == (120, 80)


@pytest.mark.parametrize(("frame", "size"), [
    ((16, 4320), (8, 640)),  # a very tall source narrows the picture, not the memory
    ((100, 100_000), (8, 640)),
    ((7680, 16), (160, 8)),  # a very wide one keeps a few rows
    ((0, 0), (160, 160)),  # no size yet: square, not a division by zero
])
def test_analysis_size_is_bounded_whatever_the_camera(frame: tuple[int, int],
                                                      size: tuple[int, int]) -> None:
    got = MotionConfig().analysis_size(*frame)
    assert got == size
    assert max(got) <= 640 and min(got) >= 8
