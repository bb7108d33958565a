"""The one error type users of the engine need to catch."""

from __future__ import annotations


class DesignError(ValueError):
    """An invalid design, or input that cannot be turned into one.

    The message always names the field, the value that was given and what is allowed, so the
    app and the CLI can show it to a person as it is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DesignTooLarge(DesignError):
    """A valid design that exceeds the configured parameter or activation-memory cap."""
