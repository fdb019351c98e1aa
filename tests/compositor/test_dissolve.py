"""Dissolves run from the frozen picture to the live one, smoothly and on time."""

from __future__ import annotations

import numpy as np

from installation.compositor.dissolve import Dissolve


def test_dissolve_from_old_to_live_then_off() -> None:
    old = np.full((4, 4, 3), 200, np.uint8)
    live = np.zeros((4, 4, 3), np.uint8)
    d = Dissolve()
    assert d.apply(live, 0.0) is live  # nothing to dissolve from
    d.start(old, t=10.0, duration_s=2.0)
    old[:] = 0  # frozen: a copy was taken
    assert d.active and np.all(d.apply(live, 10.0) == 200)
    assert np.all(d.apply(live, 11.0) == 100)  # halfway (smoothstep is 0.5 at 0.5)
    quarter = int(d.apply(live, 10.5)[0, 0, 0])
    assert 150 < quarter < 200  # eased: slow at the start
    assert d.apply(live, 12.0) is live and not d.active


def test_dissolve_between_sizes_and_cuts() -> None:
    d = Dissolve()
    d.start(np.full((8, 8, 3), 255, np.uint8), t=0.0, duration_s=1.0)
    out = d.apply(np.zeros((4, 6, 3), np.uint8), 0.5)  # the new scene is another size
    assert out.shape == (4, 6, 3) and np.all(out == 128)
    d.start(np.zeros((2, 2, 3), np.uint8), t=0.0, duration_s=0.0)  # no time: a cut
    assert not d.active
    d.start(None, t=0.0, duration_s=1.0)  # nothing shown yet: a cut
    assert not d.active
