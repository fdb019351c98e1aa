"""installation: a real-time interactive AI art installation. See README.md."""

import os

# pygame prints a banner on import; an installation's log has no use for it.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
