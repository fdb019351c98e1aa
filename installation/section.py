"""The base of every config section, apart so stage configs can import it without cycles.

`installation.show.config` assembles the whole file from sections that live beside the stage
they configure (`motion.config`, `latent.config`, `compositor.layers`), so those modules
must not import `installation.show.config` itself.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

MAX_TEXT = 4096  # the longest string any setting takes (a path, a name, an address), chars
# A number that must be above 0 must be at least this: 1e-300 is above 0 and turns a rate
# into a wait of 1e300 s, a time constant into an overflow.
MIN_POSITIVE = 1e-3
HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")  # an IP address (v4, v6) or a host name


class Section(BaseModel):
    """A config section: unknown keys refused, values frozen after validation, floats
    finite, strings at most `MAX_TEXT` long. Every number field also carries bounds of its
    own (`tests/show/test_config.py` checks that none is left open)."""

    # Every float finite (NaN and infinities refused wherever a float is read, dict values
    # included) and every string bounded: no value the file can hold stops the show.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False,
                              str_max_length=MAX_TEXT)

    @field_validator("*", mode="after")
    @classmethod
    def _not_vanishing(cls, v: Any, info: ValidationInfo) -> Any:
        """A field bounded "above 0" takes no number so close to 0 that it means infinity
        somewhere else (a wait, a rate, a division)."""
        if isinstance(v, float) and 0 < v < MIN_POSITIVE and info.field_name is not None:
            field = cls.model_fields[info.field_name]
            if any(isinstance(m, annotated_types.Gt) and m.gt == 0 for m in field.metadata):
                raise ValueError(f"must be at least {MIN_POSITIVE:g} (above 0, and not by "
                                 "a vanishing amount)")
        return v


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

    @field_validator("host")
    @classmethod
    def _address(cls, v: str) -> str:
        if not HOST.match(v):
            raise ValueError("give an IP address or a host name (letters, digits, '.', ':', "
                             "'-', '_'), e.g. 127.0.0.1 or 0.0.0.0")
        return v
    port: int = Field(0, ge=0, le=65535, description="port; 0 = any free one")
