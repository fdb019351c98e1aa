"""Display stage: fit pictures to the screen (`screen`), show them (`window`, `hud`) and
write them to a video file (`recorder`).

`screen` and `recorder` need no display; only `window` and `hud` import pygame (its import
greeting is silenced in `installation/__init__.py`).
"""
