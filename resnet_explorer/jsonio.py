"""JSON in and out of the engine, one way: parsing text a user gave, and making data JSON-safe.

`parse` reads JSON text from a file, a link, a library column or a results line and turns every
way it can fail (not UTF-8, malformed, nested thousands deep, an integer of thousands of digits)
into one error whose message says what was wrong. `plain` turns data (mappings, sequences,
numpy / torch scalars) into plain JSON values: non-finite floats become ``null``, integers must
fit in 64 bits (what SQLite stores), keys must be text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from resnet_explorer.errors import ResNetExplorerError

#: Integers with more digits are refused while parsing (10**30 is beyond every count we store;
#: Python itself refuses to parse more than 4,300 digits, with a message about its internals).
MAX_INT_DIGITS = 30
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class JsonError(ResNetExplorerError, ValueError):
    """JSON text that cannot be read, or data that cannot be written as JSON."""


class _TooManyDigits(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.digits = digits


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _TooManyDigits(digits)
    return int(text)


def parse(text: str | bytes, *, what: str = "JSON", error: type[Exception] = JsonError) -> Any:
    """The JSON value of ``text``; any failure is ``error`` with a message starting with
    ``what`` (e.g. ``"design JSON"``): ``design JSON is malformed: Expecting value ...``."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{what} is malformed: not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text, parse_int=_parse_int)
    except _TooManyDigits as exc:
        where = _huge_path(text)
        subject = f"{where} is " if where else ""
        raise error(
            f"{what}: {subject}an integer of {exc.digits:,} digits; at most {MAX_INT_DIGITS} "
            "are accepted"
        ) from None
    except RecursionError:
        raise error(f"{what} is malformed: nested too deeply") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise error(f"{what} is malformed: {exc}") from None


class _Huge:
    """Stands in for an integer too long to parse, so that its place can be named."""


def _huge_path(text: str) -> str:
    """Where the first over-long integer of ``text`` sits (``stages[0].blocks``), or ""."""

    def mark(digits: str) -> Any:
        return _Huge() if len(digits.lstrip("-")) > MAX_INT_DIGITS else int(digits)

    try:
        data = json.loads(text, parse_int=mark)
    except (ValueError, RecursionError):
        return ""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Huge):
            return path or "the value"
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value))))
    return ""


def plain(value: Any, where: str, *, error: type[Exception] = JsonError, depth: int = 0) -> Any:
    """``value`` as plain JSON data (see the module doc); anything else is ``error`` naming
    ``where`` (``config.lr``, ``steps[3].loss``)."""
    if depth > 64:
        raise error(f"{where}: nested more than 64 levels deep")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise error(f"{where}: the integer {_digits(value)} does not fit in 64 bits")
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise error(f"{where}: key {key!r:.60} must be text")
            out[key] = plain(item, f"{where}.{key}", error=error, depth=depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [
            plain(item, f"{where}[{i}]", error=error, depth=depth + 1)
            for i, item in enumerate(value)
        ]
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            scalar = item()
        except (TypeError, ValueError, RuntimeError):
            scalar = value
        if scalar is not value and not hasattr(scalar, "item"):
            return plain(scalar, where, error=error, depth=depth + 1)
    raise error(f"{where}: {type(value).__name__} value {value!r:.60} is not JSON data")


def _digits(value: int) -> str:
    """A short text for an integer of any size (``str`` refuses more than 4,300 digits)."""
    if value.bit_length() > 96:
        return f"{'-' if value < 0 else ''}~10^{int(value.bit_length() * math.log10(2))}"
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text (no NaN / Infinity: `plain` the data first)."""
    return json.dumps(value, allow_nan=False, **kwargs)
