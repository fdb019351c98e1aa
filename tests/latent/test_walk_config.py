"""The walk's config is strict (unknown keys, wrong ranges refused, naming the key), and the
label tour and seeded axes it describes hold their promises."""

from __future__ import annotations

import tomllib
from itertools import pairwise

import numpy as np
import pytest
from pydantic import ValidationError

from installation.latent import AxisMapping, WalkConfig
from installation.latent.labels import LabelCycle
from installation.latent.noise import SmoothNoise, orthonormal_axes

SCENE_WALK = """
seed = 3
labels = 8
label_hold_s = 4.0
[intensity]
idle = 0.2
[[mapping]]
signal = "centroid_x"
axis = 0
gain = 0.8
[[mapping]]
signal = "direction_y"
axis = 1
gain = -0.5
mode = "velocity"
"""


def _refused(**raw: object) -> str:
    with pytest.raises(ValidationError) as exc:
        WalkConfig.model_validate(raw)
    return str(exc.value)


def test_a_walk_table_from_toml() -> None:
    cfg = WalkConfig.model_validate(tomllib.loads(SCENE_WALK))
    assert cfg.seed == 3 and cfg.labels == 8 and cfg.intensity.idle == 0.2
    assert cfg.mapping[1] == AxisMapping(signal="direction_y", axis=1, gain=-0.5, mode="velocity")
    assert WalkConfig().mapping[0].signal == "centroid_x"  # defaults are valid


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"sped": 1.0}, "sped", "Extra inputs"),
        ({"idle_speed": 0.0}, "idle_speed", "greater than 0"),
        ({"max_step": 2.0}, "max_step", "less than or equal to 1.5"),
        ({"response_tau_s": 0.0}, "response_tau_s", "greater than or equal to 0.01"),
        ({"label_fade_s": 0.0}, "label_fade_s", "greater than or equal to 0.05"),
        ({"intensity": {"idle": 1.5}}, "intensity.idle", "less than or equal to 1"),
        ({"mapping": [{"signal": "centroid_z", "axis": 0}]}, "mapping.0.signal", "centroid_x"),
        ({"mapping": [{"signal": "energy", "axis": 0, "gian": 1}]}, "mapping.0.gian", "Extra"),
        ({"axes": 2, "mapping": [{"signal": "energy", "axis": 2}]}, "mapping", "allowed 0..1"),
        ({"dim": 3, "axes": 4}, "axes", "at most dim (3)"),
    ],
)
def test_bad_values_are_refused_naming_the_key(raw: dict[str, object], key: str, hint: str) -> None:
    msg = _refused(**raw)
    assert key in msg and hint in msg


def test_frozen() -> None:
    with pytest.raises(ValidationError):
        WalkConfig().seed = 5  # type: ignore[misc]


# -- seeded pieces ---------------------------------------------------------------------------


def test_axes_are_orthonormal_and_seeded() -> None:
    a = orthonormal_axes(7, 100, 4)
    assert a.shape == (100, 4)
    np.testing.assert_allclose(a.T @ a, np.eye(4), atol=1e-12)
    assert np.array_equal(a, orthonormal_axes(7, 100, 4))
    assert not np.allclose(a, orthonormal_axes(8, 100, 4))


def test_drift_noise_is_a_smooth_function_of_time_only() -> None:
    n = SmoothNoise(seed=1, dim=100, period_s=2.0)
    ts = np.linspace(0.0, 20.0, 2001)
    forward = np.array([n(t) for t in ts])
    backward = np.array([SmoothNoise(1, 100, 2.0)(t) for t in ts[::-1]])[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-12)  # order of calls is irrelevant
    jumps = np.linalg.norm(np.diff(forward, axis=0), axis=1)
    assert jumps.max() < 0.02  # 0.01 s apart: no step at the control points
    assert np.linalg.norm(forward, axis=1).min() > 0.2


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_label_tour_visits_every_class_and_never_repeats(count: int) -> None:
    tour = LabelCycle(count, seed=4, hold_s=1.0, fade_s=1.0)
    order = [tour.class_at(i) for i in range(40 * count)]
    if count > 1:
        assert all(a != b for a, b in pairwise(order))
    for k in range(40):  # each round holds every class once
        assert sorted(order[k * count : (k + 1) * count]) == list(range(count)) or count == 2
    assert set(order) == set(range(count))
    assert tour(0.5)[order[0]] == 1.0
    mid = tour(1.5)  # halfway through the first fade
    assert mid.sum() == pytest.approx(1.0)
    if count > 1:
        assert mid[order[0]] == pytest.approx(0.5) and mid[order[1]] == pytest.approx(0.5)
