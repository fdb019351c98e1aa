"""Perception: the visitors as people — who is there, where, how they move, at any distance.

`Perceiver` turns camera frames into `Visitors` (tracked people, their silhouettes, and
the walk's signals: energy in body heights per second through an automatic gain, presence,
crowd); `PerceptionWorker` runs it in its own thread at its own rate on a source's newest
frame (newest wins). Settings: `PerceptionConfig` (`[perception]`).
"""

from installation.perception.analyzer import Perceiver
from installation.perception.config import PerceptionConfig
from installation.perception.visitors import Visitor, Visitors

__all__ = ["Perceiver", "PerceptionConfig", "Visitor", "Visitors"]
