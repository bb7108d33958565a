"""The store's SQL and row mappers: the one place that knows the tables' statements and turns a
row into a record. `library` (the `Store`) and `exchange` (export / import) both use it, and
nothing here imports either of them.

A row written by another program (or damaged on disk) may hold a JSON column that is not JSON,
or a value of the wrong type. A mapper then raises `DamagedRowError`, whose message names the
record (``design 'r50': its tags are not a JSON list of text``); listings skip such rows and
report them (`Store.damaged`), so the rest of the library stays readable. Nothing is rewritten.
"""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from resnet_explorer import jsonio
from resnet_explorer.store import records
from resnet_explorer.store.errors import DamagedRowError, NotFoundError
from resnet_explorer.store.records import Run, SavedDesign, SavedProfile, Step

T = TypeVar("T")

INSERT_DESIGN = (
    "INSERT INTO designs (name, design_json, hash, block_types, tags, notes, created, updated) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_DESIGN = (
    "UPDATE designs SET design_json = ?, hash = ?, block_types = ?, tags = ?, notes = ?, "
    "updated = ? WHERE id = ?"
)
INSERT_PROFILE = (
    "INSERT INTO profiles (design_hash, design_json, device, settings, results, created) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
SAME_PROFILE = (
    "SELECT 1 FROM profiles WHERE design_hash = ? AND design_json = ? AND device = ? "
    "AND settings = ? AND results = ? AND created = ?"
)
INSERT_RUN = (
    "INSERT INTO runs (run_id, design_hash, design_json, config, status, started, updated, "
    "finished, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_STEP = (
    "INSERT INTO steps (run_id, step, loss, acc, lr, metrics, time) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
#: Runs with their step count and last step.
SELECT_RUNS = (
    "SELECT runs.*, (SELECT count(*) FROM steps s WHERE s.run_id = runs.run_id) AS n_steps, "
    "(SELECT max(step) FROM steps s WHERE s.run_id = runs.run_id) AS last_step FROM runs"
)


# --- queries (inside a transaction) -----------------------------------------------------------


def design_row(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM designs WHERE name = ?", (name,)).fetchone()


def run_status(conn: sqlite3.Connection, run_id: str) -> str:
    """The status of run ``run_id``; `NotFoundError` if there is none."""
    row = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no run with id {run_id!r}")
    return row[0]


def run_row(conn: sqlite3.Connection, run_id: str) -> Run:
    return run(conn.execute(SELECT_RUNS + " WHERE run_id = ?", (run_id,)).fetchone())


def free_name(conn: sqlite3.Connection, name: str, word: str) -> str:
    """The first of "NAME (word)", "NAME (word 2)", ... not taken (within the transaction)."""
    n = 1
    while True:
        suffix = f" ({word})" if n == 1 else f" ({word} {n})"
        candidate = name[: records.MAX_NAME - len(suffix)] + suffix
        if design_row(conn, candidate) is None:
            return candidate
        n += 1


def where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """``" WHERE a AND b"`` and its arguments, for the conditions whose argument is not None."""
    used = [(sql, arg) for sql, arg in conditions if arg is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in used), [arg for _, arg in used]


# --- reading columns --------------------------------------------------------------------------


def _text(row: sqlite3.Row, column: str, what: str, *, null: bool = False) -> Any:
    value = row[column]
    if value is None and null:
        return None
    if not isinstance(value, str):
        raise DamagedRowError(f"{what}: its {column} is not text ({type(value).__name__})")
    return value


def _json(row: sqlite3.Row, column: str, what: str, kind: type) -> Any:
    text = row[column]
    if not isinstance(text, str):
        raise DamagedRowError(f"{what}: its {column} is not JSON text ({type(text).__name__})")
    try:
        value = jsonio.parse(text, what=column)
    except jsonio.JsonError as exc:
        raise DamagedRowError(f"{what}: its {column} column is not valid JSON ({exc})") from None
    if not isinstance(value, kind):
        shown = "a JSON list" if kind is list else "a JSON object"
        raise DamagedRowError(f"{what}: its {column} is not {shown}")
    return value


def _texts(row: sqlite3.Row, column: str, what: str) -> tuple[str, ...]:
    value = _json(row, column, what, list)
    if not all(isinstance(v, str) for v in value):
        raise DamagedRowError(f"{what}: its {column} is not a JSON list of text")
    return tuple(value)


def _number(row: sqlite3.Row, column: str, what: str) -> float | None:
    value = row[column]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DamagedRowError(f"{what}: its {column} is not a number ({value!r:.40})")
    return float(value)


def _label(row: sqlite3.Row, key: str, kind: str) -> str:
    try:
        value = row[key]
    except (IndexError, KeyError):
        value = None
    return f"{kind} {value!r:.80}" if value is not None else kind


# --- mappers ----------------------------------------------------------------------------------


def _as_is(row: sqlite3.Row, column: str, what: str) -> Any:
    return row[column]


def _text_or_none(row: sqlite3.Row, column: str, what: str) -> str | None:
    return _text(row, column, what, null=True)


def _object(row: sqlite3.Row, column: str, what: str) -> dict[str, Any]:
    return _json(row, column, what, dict)


def _steps(row: sqlite3.Row, column: str, what: str) -> int:
    return row["n_steps"]  # counted by `SELECT_RUNS`


_Reader = Callable[[sqlite3.Row, str, str], Any]


@functools.cache
def _fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _record(kind: type[T], row: sqlite3.Row, what: str, **readers: _Reader) -> T:
    """A ``kind`` (a record dataclass) from ``row``: each field read from the column of its
    name by its reader in ``readers``, or by `_text` (checked text) when it has none, in the
    order the fields are declared (a row damaged in several columns names the first)."""
    return kind(**{name: readers.get(name, _text)(row, name, what) for name in _fields(kind)})


def saved_design(row: sqlite3.Row) -> SavedDesign:
    what = _label(row, "name", "design")
    return _record(SavedDesign, row, what, id=_as_is, tags=_texts, block_types=_texts)


def saved_profile(row: sqlite3.Row) -> SavedProfile:
    what = _label(row, "id", "profile")
    return _record(SavedProfile, row, what, id=_as_is, settings=_object, results=_object)


def run(row: sqlite3.Row) -> Run:
    what = _label(row, "run_id", "run")
    return _record(Run, row, what, config=_object, finished=_text_or_none, error=_text_or_none,
                   steps=_steps, last_step=_as_is)  # fmt: skip


def step(row: sqlite3.Row) -> Step:
    what = f"{_label(row, 'run_id', 'run')} step {row['step']!r:.30}"
    if isinstance(row["step"], bool) or not isinstance(row["step"], int):
        raise DamagedRowError(f"{what}: the step is not a whole number")
    return _record(Step, row, what, step=_as_is, loss=_number, acc=_number, lr=_number,
                   metrics=_object)  # fmt: skip


def readable(
    rows: Iterable[sqlite3.Row], mapper: Callable[[sqlite3.Row], T], damaged: list[str]
) -> list[T]:
    """``mapper`` over ``rows``, skipping the damaged ones (their messages go to ``damaged``)."""
    out = []
    for row in rows:
        try:
            out.append(mapper(row))
        except DamagedRowError as exc:
            if str(exc) not in damaged:
                damaged.append(str(exc))
    return out
