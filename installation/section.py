"""The base of every config section, apart so stage configs can import it without cycles.

`installation.show.config` assembles the whole file from sections that live beside the stage
they configure (`motion.config`, `latent.config`, `compositor.layers`), so those modules
must not import `installation.show.config` itself.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TEXT = 4096  # the longest string any setting takes (a path, a name, an address), chars


class Section(BaseModel):
    """A config section: unknown keys refused, values frozen after validation, floats
    finite, strings at most `MAX_TEXT` long. Every number field also carries bounds of its
    own (`tests/show/test_config.py` checks that none is left open)."""

    # Every float finite (NaN and infinities refused wherever a float is read, dict values
    # included) and every string bounded: no value the file can hold stops the show.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False,
                              str_max_length=MAX_TEXT)


S = TypeVar("S", bound=Section)


def with_value(section: S, field: str, value: object) -> S:
    """`section` with one setting changed and checked (a live change: OSC); ValueError with
    pydantic's reason when the value is not allowed."""
    try:
        return type(section).model_validate({**section.model_dump(), field: value})
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


class Listener(Section):
    """A service listening on the network (OSC, status): off unless enabled, loopback
    unless told otherwise. Subclasses set the port's default."""

    enabled: bool = False
    host: str = Field("127.0.0.1", description="address to listen on; 0.0.0.0 = every network")
    port: int = Field(0, ge=0, le=65535, description="port; 0 = any free one")
