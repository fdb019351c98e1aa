"""Temporal stability: the repainted picture holds still where the visitor does.

- `flow`: dense optical flow (DIS), warping along it, and where the warp can be trusted
  (forward–backward consistency, the picture kept in view, the camera picture agreeing);
- `stabiliser`: a scene's effect output blended with its last output carried along the
  flow, and the camera picture held steady against sensor noise (`[scenes.temporal]`);
- `on_device`: the same stabiliser on the torch engine's device (the frame stays there);
- `flicker`: `python main.py flicker`, the temporal warping and ghosting errors of plain
  and stabilised repainting on clips.
"""

from installation.temporal.config import TemporalConfig
from installation.temporal.stabiliser import Stabiliser

__all__ = ["Stabiliser", "TemporalConfig"]
