"""Errors of the probes: bad probe input is a `ValueError` with a message a person can act on."""

from __future__ import annotations

from resnet_explorer.errors import ResNetExplorerError


class ProbeError(ResNetExplorerError, ValueError):
    """A probe that cannot run as asked (bad config, unknown experiment, ...)."""


class DataError(ProbeError):
    """A dataset that cannot be loaded (missing, offline, damaged, wrong format)."""
