"""What the web console shows: /health's object and the fields of the console's controls,
all from one published frame state (so the page never disagrees with /health)."""

from __future__ import annotations

from typing import Any

from installation.state import FrameState


def console_record(health: dict[str, Any], state: FrameState) -> dict[str, Any]:
    """`GET /api/state` and each event: `health` (the /health object) with the scenes,
    the style, its strength (None: the scene has no style network) and the switches, each
    True / False, or None where the scene has no such thing (no stabiliser, no walk, no
    visitors)."""
    walk, perception, temporal = state.walk, state.perception, state.temporal
    return {
        **health,
        "scenes": list(state.scenes),
        "style": state.style,
        "strength": None if state.strength is None else round(state.strength, 3),
        "switches": {
            "blackout": state.blackout,
            "pause": state.paused,
            "hud": state.hud,
            "mirror": state.mirror,
            "temporal": None if temporal is None else temporal.on,
            "attract": None if walk is None else walk.attract,
            "overlay": None if perception is None else state.overlay,
        },
        "presets": list(state.presets),
    }
