"""Pydantic validation errors as messages a person can act on: one line per problem, naming
the field (``stages[0].stride``), the value given and what is allowed.

Shared by the `Design`, design spaces, library imports and the engine's settings models
(`ProbeConfig`, `LatencyOptions`), so that they all speak alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import PlainValidator, ValidationError, ValidationInfo


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (never the 4,300-digit ``repr`` of an int)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_whole(value: Any) -> bool:
    """An ``int`` that is not a ``bool`` (JSON's ``true`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """An ``int`` or ``float``, not a ``bool``, neither NaN nor infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def checks(*rules: tuple[Callable[[Any], bool], str], optional: bool = False) -> PlainValidator:
    """A field's whole validation in the project's words, for ``Annotated[type, checks(...)]``.

    The value passes unchanged (None too when ``optional``) when every ``(ok, message)`` rule
    holds, tried in turn (a later ``ok`` may assume the earlier ones held); else a ValueError of
    the first failing rule's ``message``, formatted with the field's ``name`` and the ``value``
    given (`short`). A message that starts with the name (``"{name}={value}: must be >= 1"``)
    is shown by `describe` as it is.
    """

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is None and optional:
            return value
        for ok, message in rules:
            if not ok(value):
                raise ValueError(message.format(name=info.field_name, value=short(value)))
        return value

    return PlainValidator(check)


def loc_text(loc: tuple[Any, ...], root: str = "design") -> str:
    """``("stages", 0, "stride")`` -> ``"stages[0].stride"`` (``root`` for the whole value)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or root


def first_field(exc: ValidationError) -> str | None:
    """The field of the first problem (None: the value as a whole)."""
    errors = exc.errors()
    return loc_text(tuple(errors[0]["loc"])) if errors and errors[0]["loc"] else None


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text"}.get(type(value), type(value).__name__)


def describe(
    exc: ValidationError,
    *,
    root: str = "design",
    clean: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
) -> list[str]:
    """One line per problem of ``exc`` (a container's error that only repeats a nested one is
    left out). ``clean`` rewrites a location first (e.g. to drop a union's tag). A message of
    a validator that already starts with its field's name is shown as it is."""
    lines = []
    errors = exc.errors()
    locs = [tuple(clean(tuple(e["loc"])) if clean else e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(clean(tuple(err["loc"]))) if clean else tuple(err["loc"])
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs):
            continue
        where = loc_text(loc, root)
        kind = err["type"]
        if kind == "extra_forbidden":
            lines.append(f"{where}: unknown field (value {short(err['input'])})")
        elif kind == "missing":
            lines.append(f"{where}: required field is missing")
        elif kind == "too_short" and where == "stages":
            lines.append("stages: a design needs at least 1 stage (the stage list is empty)")
        elif kind == "list_type":
            lines.append(f"{where} must be a list, got {_type_name(err['input'])}")
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            lines.append(f"{where} must be an object, got {_type_name(err['input'])}")
        elif kind == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
            named = where == root or message.startswith(
                (f"{where}:", f"{where}.", f"{where} ", f"{where}=")
            )
            lines.append(message if named else f"{where}: {message}")
        else:
            lines.append(f"{where} = {short(err['input'])}: {err['msg']}")
    return lines
