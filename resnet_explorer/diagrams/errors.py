"""Errors of the diagrams package."""

from __future__ import annotations

from resnet_explorer.errors import ResNetExplorerError


class DiagramError(ResNetExplorerError, ValueError):
    """A diagram that cannot be drawn as asked (no such stage or block, a bad option)."""


class RenderError(ResNetExplorerError, RuntimeError):
    """The Graphviz ``dot`` program failed to render a diagram (a failure: CLI exit 1)."""

    exit_code = 1


class DotNotFoundError(RenderError):
    """The Graphviz ``dot`` program, needed for SVG and PNG export, is not installed."""
