"""The store's errors: all are `StoreError` (a `ValueError`) with a message fit for a person."""

from __future__ import annotations

from resnet_explorer.errors import ResNetExplorerError


class StoreError(ResNetExplorerError, ValueError):
    """The library cannot do what was asked: bad input, a missing record, an unusable file."""


class NotALibraryError(StoreError):
    """The file exists but is not a ResNet Explorer library; it is left untouched."""


class NewerSchemaError(StoreError):
    """The library was written by a newer ResNet Explorer; it is left untouched."""


class NotFoundError(StoreError):
    """No design, run or profile with that name or id."""


class NameTakenError(StoreError):
    """A design with that name is already saved."""


class DamagedRowError(StoreError):
    """A row of the library that cannot be read (a JSON column that is not JSON, a wrong type).
    The row is left as it is; listings skip it and report it (`Store.damaged`)."""


class BusyError(StoreError):
    """Other writers held the library locked for longer than the timeout."""
