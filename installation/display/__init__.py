"""Display stage: fit pictures to the screen (`screen`), show them (`window`, `hud`) and
write them to a video file (`recorder`).

`screen` and `recorder` need no display; only `window` and `hud` import pygame.
"""

import os

# pygame prints a greeting on import; the operator's console is for our own lines.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
