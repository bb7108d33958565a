"""The store's SQL and row mappers: the one place that knows the tables' statements and turns a
row into a record. `library` (the `Store`) and `exchange` (export / import) both use it, and
nothing here imports either of them.

A row written by another program (or damaged on disk) may hold a JSON column that is not JSON,
or a value of the wrong type. A mapper then raises `DamagedRowError`, whose message names the
record (``design 'r50': its tags are not a JSON list of text``); listings skip such rows and
report them (`Store.damaged`), so the rest of the library stays readable. Nothing is rewritten.
"""

from __future__ import annotations

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


def saved_design(row: sqlite3.Row) -> SavedDesign:
    what = _label(row, "name", "design")
    return SavedDesign(
        id=row["id"],
        name=_text(row, "name", what),
        hash=_text(row, "hash", what),
        design_json=_text(row, "design_json", what),
        tags=_texts(row, "tags", what),
        notes=_text(row, "notes", what),
        created=_text(row, "created", what),
        updated=_text(row, "updated", what),
        block_types=_texts(row, "block_types", what),
    )


def saved_profile(row: sqlite3.Row) -> SavedProfile:
    what = _label(row, "id", "profile")
    return SavedProfile(
        id=row["id"],
        design_hash=_text(row, "design_hash", what),
        design_json=_text(row, "design_json", what),
        device=_text(row, "device", what),
        settings=_json(row, "settings", what, dict),
        results=_json(row, "results", what, dict),
        created=_text(row, "created", what),
    )


def run(row: sqlite3.Row) -> Run:
    what = _label(row, "run_id", "run")
    return Run(
        run_id=_text(row, "run_id", what),
        design_hash=_text(row, "design_hash", what),
        design_json=_text(row, "design_json", what),
        config=_json(row, "config", what, dict),
        status=_text(row, "status", what),
        started=_text(row, "started", what),
        updated=_text(row, "updated", what),
        finished=_text(row, "finished", what, null=True),
        error=_text(row, "error", what, null=True),
        steps=row["n_steps"],
        last_step=row["last_step"],
    )


def step(row: sqlite3.Row) -> Step:
    what = f"{_label(row, 'run_id', 'run')} step {row['step']!r:.30}"
    if isinstance(row["step"], bool) or not isinstance(row["step"], int):
        raise DamagedRowError(f"{what}: the step is not a whole number")
    return Step(
        step=row["step"],
        time=_text(row, "time", what),
        loss=_number(row, "loss", what),
        acc=_number(row, "acc", what),
        lr=_number(row, "lr", what),
        metrics=_json(row, "metrics", what, dict),
    )


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
