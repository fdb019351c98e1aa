"""The operator's keyboard: one table from keys to commands, used by the loop and printed by
`--help-keys`. Closing the window is `quit`."""

from __future__ import annotations

from collections.abc import Callable

import pygame

from installation.commands import Command, Name

# key → (command, value, what it does for the operator)
KEYMAP: dict[int, tuple[Name, int | None, str]] = {
    pygame.K_RIGHT: (Name.STYLE_STEP, 1, "next style (crossfades)"),
    pygame.K_LEFT: (Name.STYLE_STEP, -1, "previous style"),
    pygame.K_DOWN: (Name.SCENE_STEP, 1, "next scene"),
    pygame.K_UP: (Name.SCENE_STEP, -1, "previous scene"),
    pygame.K_h: (Name.HUD, None, "show / hide the operator HUD"),
    pygame.K_f: (Name.FULLSCREEN, None, "fullscreen / window"),
    pygame.K_m: (Name.MIRROR, None, "mirror on / off"),
    pygame.K_SPACE: (Name.PAUSE, None, "pause / resume (freezes the picture)"),
    pygame.K_s: (Name.SNAPSHOT, None, "snapshot to snapshots.folder (only when "
                 "snapshots.enabled)"),
    pygame.K_r: (Name.RESEED, None, "reseed the latent walk (glides to a new walk)"),
    pygame.K_g: (Name.GENERATOR, None, "switch generator: eyes / faces (this scene and its "
                 "attract)"),
    pygame.K_a: (Name.ATTRACT, None, "attract mode now / back to interaction"),
    pygame.K_t: (Name.TEMPORAL, None, "temporal stabilisation on / off (scenes with temporal "
                 "settings)"),
    pygame.K_v: (Name.OVERLAY, None, "visitors overlay on / off: boxes, heads, motion and "
                 "silhouettes over the picture, for setting up a camera (window only)"),
    **{getattr(pygame, f"K_{n}"): (Name.PRESET, n, "recall preset 1-9 (in the order saved)")
       for n in range(1, 10)},
    pygame.K_q: (Name.QUIT, None, "quit (closes any recording properly)"),
    pygame.K_ESCAPE: (Name.QUIT, None, "quit (closes any recording properly)"),
}


def commands(events: list[pygame.event.Event]) -> list[Command]:
    """The operator commands in a batch of pygame events (window close counts as quit)."""
    out: list[Command] = []
    for e in events:
        if e.type == pygame.QUIT:
            out.append(Command(Name.QUIT, source="window"))
        elif e.type == pygame.KEYDOWN and e.key in KEYMAP:
            name, value, _ = KEYMAP[e.key]
            out.append(Command(name, value, source="keys"))
    return out


class KeyControl:
    """The keyboard as an input surface: `events` is the window's event pump."""

    def __init__(self, events: Callable[[], list[pygame.event.Event]]) -> None:
        self.events = events

    def start(self) -> KeyControl:
        return self

    def stop(self) -> None:
        """The window owns the events: nothing to stop."""

    def drain(self) -> list[Command]:
        return commands(self.events())


def help_text() -> str:
    names = {pygame.K_RIGHT: "Right", pygame.K_LEFT: "Left", pygame.K_DOWN: "Down",
             pygame.K_UP: "Up", pygame.K_SPACE: "Space", pygame.K_ESCAPE: "Esc"}
    by_action: dict[str, list[str]] = {}
    for key, (_, _, what) in KEYMAP.items():
        by_action.setdefault(what, []).append(names.get(key, pygame.key.name(key).upper()))
    rows = [f"  {' / '.join(keys):<10} {what}" for what, keys in by_action.items()]
    return "Keys:\n" + "\n".join(rows)
