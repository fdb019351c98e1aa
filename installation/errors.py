"""Errors an operator can fix. They end the program with one line and exit code 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem the operator can fix: bad config, missing file, missing model.

    The message is one line that names the thing and says what to do.
    """

    exit_code = 2


class ConfigError(UserError):
    """`config.toml` (or a flag overriding it) holds a key the program cannot accept."""


class ModelError(UserError):
    """A model file is missing, altered or cannot be loaded."""


class SourceError(UserError):
    """A picture source (camera, video, image) cannot be opened."""
