"""Motion analysis: how visitors move, from the capture stream, as smoothed signals.

`MotionAnalyzer` turns frames into `MotionSignals` (energy, centroid, direction, a motion
mask, presence); `MotionWorker` runs it in its own thread on a source's newest frame and
publishes the newest signals in a `LatestSlot`. Settings: `MotionConfig` (`[motion]`).
"""

from installation.motion.analyzer import MotionAnalyzer, MotionSignals
from installation.motion.config import MotionConfig
from installation.motion.worker import MotionWorker

__all__ = ["MotionAnalyzer", "MotionConfig", "MotionSignals", "MotionWorker"]
