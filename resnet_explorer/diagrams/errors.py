"""Errors of the diagrams package."""

from __future__ import annotations


class DiagramError(ValueError):
    """A diagram that cannot be drawn as asked (no such stage or block, a bad option)."""


class RenderError(RuntimeError):
    """The Graphviz ``dot`` program failed to render a diagram."""


class DotNotFoundError(RenderError):
    """The Graphviz ``dot`` program, needed for SVG and PNG export, is not installed."""
