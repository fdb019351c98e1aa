"""The base of every config section, apart so stage configs can import it without cycles.

`installation.config` assembles the whole file from sections that live beside the stage
they configure (`motion.config`, `latent.config`, `compositor.layers`), so those modules
must not import `installation.config` itself.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section: unknown keys refused, values frozen after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
