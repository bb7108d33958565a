"""The engine's errors: every error it raises for bad input derives from `ResNetExplorerError`.

Catch `ResNetExplorerError` once (the CLI does, in `cli.main`; the app at the top of a page) and
show its message as it is: it names what was wrong and what is allowed. ``exit_code`` is what
the CLI exits with: 2 for bad input (the default), 1 for a failure of a tool it relies on.
"""

from __future__ import annotations


class ResNetExplorerError(Exception):
    """Base of every error the engine raises on purpose; the message is fit for a person."""

    #: The CLI's exit status for this error (2: bad input; 1: a failure).
    exit_code: int = 2


class DesignError(ResNetExplorerError, ValueError):
    """An invalid design, or input that cannot be turned into one.

    The message always names the field, the value that was given and what is allowed, so the
    app and the CLI can show it to a person as it is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DesignTooLarge(DesignError):
    """A valid design that exceeds the configured parameter or activation-memory cap."""
