"""The operator's keyboard map: one table, used by the loop and printed by `--help-keys`."""

from __future__ import annotations

from enum import Enum

import pygame


class Action(Enum):
    NEXT_STYLE = "next style (crossfades)"
    PREV_STYLE = "previous style"
    NEXT_SCENE = "next scene"
    PREV_SCENE = "previous scene"
    HUD = "show / hide the operator HUD"
    FULLSCREEN = "fullscreen / window"
    MIRROR = "mirror on / off"
    PAUSE = "pause / resume (freezes the picture)"
    SNAPSHOT = "snapshot to snapshots.folder (only when snapshots.enabled)"
    RESEED = "reseed the latent walk (glides to a new walk)"
    GENERATOR = "switch generator: eyes / faces (this scene and its attract)"
    ATTRACT = "attract mode now / back to interaction"
    TEMPORAL = "temporal stabilisation on / off (scenes with temporal settings)"
    QUIT = "quit (closes any recording properly)"


KEYMAP: dict[int, Action] = {
    pygame.K_RIGHT: Action.NEXT_STYLE,
    pygame.K_LEFT: Action.PREV_STYLE,
    pygame.K_DOWN: Action.NEXT_SCENE,
    pygame.K_UP: Action.PREV_SCENE,
    pygame.K_h: Action.HUD,
    pygame.K_f: Action.FULLSCREEN,
    pygame.K_m: Action.MIRROR,
    pygame.K_SPACE: Action.PAUSE,
    pygame.K_s: Action.SNAPSHOT,
    pygame.K_r: Action.RESEED,
    pygame.K_g: Action.GENERATOR,
    pygame.K_a: Action.ATTRACT,
    pygame.K_t: Action.TEMPORAL,
    pygame.K_q: Action.QUIT,
    pygame.K_ESCAPE: Action.QUIT,
}


def actions(events: list[pygame.event.Event]) -> list[Action]:
    """The operator actions in a batch of pygame events (window close counts as quit)."""
    out: list[Action] = []
    for e in events:
        if e.type == pygame.QUIT:
            out.append(Action.QUIT)
        elif e.type == pygame.KEYDOWN and e.key in KEYMAP:
            out.append(KEYMAP[e.key])
    return out


def help_text() -> str:
    names = {pygame.K_RIGHT: "Right", pygame.K_LEFT: "Left", pygame.K_DOWN: "Down",
             pygame.K_UP: "Up", pygame.K_SPACE: "Space", pygame.K_ESCAPE: "Esc"}
    by_action: dict[Action, list[str]] = {}
    for key, action in KEYMAP.items():
        by_action.setdefault(action, []).append(names.get(key, pygame.key.name(key).upper()))
    rows = [f"  {' / '.join(keys):<10} {action.value}" for action, keys in by_action.items()]
    return "Keys:\n" + "\n".join(rows)
