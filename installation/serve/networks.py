"""Which networks a server hosts: every network a scene may send (style, arbitrary style,
fast dream, the GAN generators, the live dream's ascent), by the names the display side
opens them with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from installation.dream.fast import network_path
from installation.dream.ports import BACKBONE, LIVE_DREAM
from installation.errors import UserError
from installation.gan.renderer import MODELS as GENERATORS
from installation.models import ModelStore

STYLE = ("multistyle26", "arbitrary-predict", "arbitrary-transform")
FAST_DREAM = "fast-dream:"  # + the network's name: models/dream-NAME.onnx


@dataclass(frozen=True)
class Hosted:
    name: str  # as the display side opens it ("fast-dream:ripples")
    path: Path  # the verified model file
    picture_scale: float  # the range of its picture inputs (1 or 255)


def known_names(store: ModelStore) -> list[str]:
    dreams = sorted(f"{FAST_DREAM}{m.removeprefix('dream-')}" for m in store.manifest.models
                    if m.startswith("dream-") and m != "dream-backbone")
    return [*STYLE, *dreams, *(model for model, _ in GENERATORS.values()), LIVE_DREAM]


def hosted(store: ModelStore, names: list[str] | None = None,
           flag: str = "--networks") -> list[Hosted]:
    """The networks named (None: all known), their files verified (ModelError in one
    line when one is missing or altered; UserError naming `flag`, the option that named
    them, for a name that is no network)."""
    known = known_names(store)
    wanted = names or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise UserError(f"{flag}: {', '.join(unknown)} is not a network this project "
                        f"serves; known: {', '.join(known)}")
    out = []
    for name in wanted:
        if name.startswith(FAST_DREAM):
            out.append(Hosted(name, network_path(store, name.removeprefix(FAST_DREAM)), 255.0))
        elif name == LIVE_DREAM:  # torch weights, not an ONNX file
            out.append(Hosted(name, store.require(BACKBONE), 255.0))
        else:
            out.append(Hosted(name, store.require(name), 1.0))
    return out
