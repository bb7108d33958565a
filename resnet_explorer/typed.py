"""`Record`: a frozen dataclass that is also its own JSON document.

The engine hands typed values across its boundaries (probe events, job status, exploration
snapshots): attributes with declared types and `Literal` states, checked by a type checker and
read as ``event.step``. Their documented JSON form is a mapping (``event["step"]``,
``json.dumps(event)``, ``{**event}``), and callers that log or store them rely on it, so a
`Record` is also a read-only ``dict`` holding exactly that form, built once when it is made.
`same_named` copies the fields one record shares, by name, with another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, NoReturn


class Record(dict):
    """Base of the engine's typed records: subclasses are ``@dataclass(frozen=True, eq=False)``
    (equal when their JSON forms are equal, as dicts are).

    ``KIND``: when set, the JSON form starts with ``"event": KIND`` (the event's kind).
    ``OMIT_NONE``: fields left out of the JSON form while they are None (optional keys, e.g.
    diagnostics an evaluation did not record). ``FLATTEN``: a field holding a mapping whose keys
    take its place in the JSON form (an event that carries a document).
    """

    KIND: ClassVar[str | None] = None
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()
    FLATTEN: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        dict.update(self, self._json_form())

    def _json_form(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.KIND is None else {"event": self.KIND}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self.OMIT_NONE:
                continue
            if f.name == self.FLATTEN:
                out.update(value)
            else:
                out[f.name] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form as a new plain dict (one level deep: nested documents are shared)."""
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy rebuild from the fields
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return (_rebuild, (type(self), values))

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only (a frozen record)")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = __ior__ = _read_only  # type: ignore[assignment]


def _rebuild(cls: type[Record], values: dict[str, Any]) -> Record:
    return cls(**values)


def same_named(source: object, names: Iterable[str]) -> dict[str, Any]:
    """The attributes ``names`` of ``source`` as keyword arguments (``{name: source.name}``):
    what a record built from another takes from the fields the two share under one name."""
    return {name: getattr(source, name) for name in names}
