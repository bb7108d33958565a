"""The library as one JSON document (``resnet-explorer/library/v1``) and back.

Import checks the whole document first (`parse_document`: frozen pydantic models; a bad record
is named, ``designs[2].design: invalid design: ...``) and writes it in one transaction
(`apply_import`): either all of it lands or nothing does. It never overwrites: a design whose
name is taken by a different design is skipped (``on_conflict="skip"``) or saved under
"NAME (imported)" (``"rename"``); an identical design, profile or an already present run id is
left as it is. Export reads in one transaction (`export_document`) and skips, and reports, rows
damaged on disk. Both work on a connection; `Store` runs them (nothing here imports it).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from resnet_explorer import jsonio, validation
from resnet_explorer.design import Design
from resnet_explorer.status import StoredStatus
from resnet_explorer.store import records, rows, schema
from resnet_explorer.store.errors import (
    DamagedRowError,
    NewerSchemaError,
    NotFoundError,
    StoreError,
)

FORMAT = "resnet-explorer/library"
FORMAT_VERSION = 1
SCHEMA = f"{FORMAT}/v{FORMAT_VERSION}"
MAX_IMPORT_BYTES = 256 * 1024 * 1024
ON_CONFLICT = ("skip", "rename")
_SCHEMA_RE = re.compile(r"^resnet-explorer/library/v(\d+)$")


@dataclass
class ImportReport:
    """What an import did, by design name / run id."""

    designs_added: list[str] = field(default_factory=list)
    designs_renamed: list[tuple[str, str]] = field(default_factory=list)  # (name in file, saved as)
    designs_skipped: list[str] = field(default_factory=list)  # name taken by a different design
    designs_unchanged: list[str] = field(default_factory=list)  # already saved, identical
    profiles_added: int = 0
    profiles_unchanged: int = 0
    runs_added: list[str] = field(default_factory=list)
    runs_skipped: list[str] = field(default_factory=list)  # run id already present

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["designs_renamed"] = [{"name": a, "saved_as": b} for a, b in self.designs_renamed]
        return data


# --- export -----------------------------------------------------------------------------------


def _documents(
    found: Iterable[sqlite3.Row], mapper: Callable[[sqlite3.Row], Any], damaged: list[str]
) -> list[dict[str, Any]]:
    """Each row as its export document; damaged rows are skipped and reported."""
    out = []
    for row in found:
        try:
            out.append(mapper(row).to_dict())
        except DamagedRowError as exc:
            if str(exc) not in damaged:
                damaged.append(str(exc))
    return out


def export_document(
    conn: sqlite3.Connection,
    names: Iterable[str] | None = None,
    *,
    include_runs: bool = True,
    damaged: list[str],
    where: str = "the library",
) -> dict[str, Any]:
    """The export document (docs/store.md) read through ``conn`` (inside one transaction).
    Rows damaged on disk are left out and their messages appended to ``damaged``."""
    wanted = None if names is None else [records.check_name(n) for n in names]
    if wanted is None:
        design_rows = conn.execute("SELECT * FROM designs ORDER BY id").fetchall()
        hashes = None
    else:
        design_rows = []
        for name in dict.fromkeys(wanted):
            row = rows.design_row(conn, name)
            if row is None:
                raise NotFoundError(f"no design named {name!r} in {where}")
            design_rows.append(row)
        hashes = sorted({row["hash"] for row in design_rows})

    def of_designs(sql: str, order: str) -> list[sqlite3.Row]:
        if hashes is None:
            return conn.execute(f"{sql} ORDER BY {order}").fetchall()
        marks = ",".join("?" * len(hashes))
        return conn.execute(
            f"{sql} WHERE design_hash IN ({marks}) ORDER BY {order}", hashes
        ).fetchall()

    runs_out = []
    if include_runs:
        for doc in _documents(
            of_designs(rows.SELECT_RUNS, "started, run_id"), rows.run, damaged
        ):
            steps = conn.execute(
                "SELECT * FROM steps WHERE run_id = ? ORDER BY step", (doc["run_id"],)
            )
            doc["steps"] = [s.row() for s in rows.readable(steps, rows.step, damaged)]
            runs_out.append(doc)
    return {
        **empty_export(),
        "designs": _documents(design_rows, rows.saved_design, damaged),
        "profiles": _documents(
            of_designs("SELECT * FROM profiles", "id"), rows.saved_profile, damaged
        ),
        "runs": runs_out,
    }


def empty_export() -> dict[str, Any]:
    """The export of an empty library."""
    return {
        "schema": SCHEMA,
        "exported": schema.now(),
        "library_schema": schema.SCHEMA_VERSION,
        "designs": [],
        "profiles": [],
        "runs": [],
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """An export document as JSON text (strict JSON: no NaN)."""
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


# --- import: the document's records -----------------------------------------------------------


def _checked(check: Callable[..., Any], *args: Any) -> BeforeValidator:
    """A pydantic validator running one of `records`' checks (its message names the problem)."""
    return BeforeValidator(lambda value: check(value, *args))


def _design(value: Any) -> Design:
    if isinstance(value, Design):
        return value
    return Design.from_dict(value)  # a DesignError names the field


def _stamp(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        raise ValueError(f"must be a time stamp (ISO 8601 text), got {validation.short(value)}")
    return value


def _error_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"must be text or null, got {validation.short(value)}")
    return value if value is None else value[: records.MAX_NOTES]


DesignValue = Annotated[Design, BeforeValidator(_design)]
Stamp = Annotated[str | None, BeforeValidator(_stamp)]


class _Entry(BaseModel):
    # Within v1 keys are only ever added and a reader ignores keys it does not know
    # (docs/store.md), so unknown keys are ignored here rather than refused.
    model_config = ConfigDict(frozen=True, extra="ignore")


class DesignEntry(_Entry):
    """``designs[i]`` of an export."""

    name: Annotated[str, _checked(records.check_name)]
    design: DesignValue
    tags: Annotated[tuple[str, ...], _checked(records.check_tags)] = ()
    notes: Annotated[str, _checked(records.check_notes)] = ""
    created: Stamp = None
    updated: Stamp = None


class ProfileEntry(_Entry):
    """``profiles[i]`` of an export."""

    design: DesignValue
    device: Annotated[str, _checked(records.check_name, "device")]
    settings: Annotated[str, _checked(records.json_doc, "settings")] = "{}"
    results: Annotated[str, _checked(records.json_doc, "results")] = "{}"
    created: Stamp = None


class RunEntry(_Entry):
    """``runs[i]`` of an export; ``steps`` are flat rows (`records.step_row`)."""

    run_id: Annotated[str, _checked(records.check_run_id)]
    design: DesignValue
    config: Annotated[str, _checked(records.json_doc, "config")] = "{}"
    status: StoredStatus
    started: Stamp = None
    updated: Stamp = None
    finished: Stamp = None
    error: Annotated[str | None, BeforeValidator(_error_text)] = None
    steps: list[dict[str, Any]] = Field(default_factory=list)


class ExportDocument(_Entry):
    """A whole export, checked (`parse_document`)."""

    designs: list[DesignEntry] = Field(default_factory=list)
    profiles: list[ProfileEntry] = Field(default_factory=list)
    runs: list[RunEntry] = Field(default_factory=list)


def loads(text: str | bytes) -> dict[str, Any]:
    """Parse an export document's text (its structure is checked by `parse_document`)."""
    if len(text) > MAX_IMPORT_BYTES:
        raise StoreError(f"the file is {len(text):,} bytes; at most {MAX_IMPORT_BYTES:,}")
    doc = jsonio.parse(text, what="not a library export: the JSON", error=StoreError)
    if not isinstance(doc, dict):
        raise StoreError("not a library export: the JSON is not an object")
    return doc


def _check_schema(doc: Mapping[str, Any]) -> None:
    value = doc.get("schema")
    match = _SCHEMA_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise StoreError(
            f"not a library export: its schema is {validation.short(value)}, expected "
            f"{SCHEMA!r} (`library export` writes one)"
        )
    if len(match.group(1)) > 6 or int(match.group(1)) > FORMAT_VERSION:
        raise NewerSchemaError(
            f"the export is {value}, from a newer ResNet Explorer; this version reads {SCHEMA}"
        )


@dataclass(frozen=True)
class ImportPlan:
    """A checked export: rows ready to insert (`apply_import` writes them)."""

    designs: list[tuple[Any, ...]]
    profiles: list[tuple[Any, ...]]
    runs: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]


def parse_document(doc: Mapping[str, Any] | str | bytes) -> ImportPlan:
    """Check every record of an export (text or parsed) before anything is written; a problem
    is a `StoreError` naming the record and field."""
    if isinstance(doc, str | bytes):
        doc = loads(doc)
    if not isinstance(doc, Mapping):
        raise StoreError("not a library export: expected a JSON object")
    _check_schema(doc)
    try:
        checked = ExportDocument.model_validate(dict(doc))
    except ValidationError as exc:
        raise StoreError("; ".join(validation.describe(exc, root="the export"))) from None
    stamp = schema.now()
    designs = []
    for d in checked.designs:
        created, text = d.created or stamp, d.design.to_json()
        updated = d.updated or created
        designs.append((d.name, text, d.design.hash, d.tags, d.notes, created, updated))
    profiles = [
        (p.design.hash, p.design.to_json(), p.device, p.settings, p.results, p.created or stamp)
        for p in checked.profiles
    ]
    runs = [_run_rows(i, run, stamp) for i, run in enumerate(checked.runs)]
    return ImportPlan(designs, profiles, runs)


def _run_rows(i: int, run: RunEntry, stamp: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    where = f"runs[{i}]"
    started = run.started or stamp
    steps, seen = [], set()
    for j, row in enumerate(run.steps):
        values = records.step_row(row, f"{where}.steps[{j}]")
        if values[0] in seen:
            raise StoreError(f"{where}.steps[{j}]: step {values[0]} appears twice")
        seen.add(values[0])
        try:
            time = _stamp(row.get("time")) or started
        except ValueError as exc:
            raise StoreError(f"{where}.steps[{j}].time {exc}") from None
        steps.append((*values, time))
    head = (
        run.run_id,
        run.design.hash,
        run.design.to_json(),
        run.config,
        run.status,
        started,
        run.updated or started,
        run.finished,
        run.error,
    )
    return head, steps


# --- import: writing --------------------------------------------------------------------------


def _same_design(old: sqlite3.Row, design_hash: str, tags: tuple[str, ...], notes: str) -> bool:
    try:
        saved = rows.saved_design(old)
    except DamagedRowError:
        return False  # a damaged row is never "the same": it is kept, the import goes aside
    return saved.hash == design_hash and saved.tags == tags and saved.notes == notes


def apply_import(conn: sqlite3.Connection, plan: ImportPlan, *, on_conflict: str) -> ImportReport:
    """Write a checked export through ``conn`` (inside one write transaction)."""
    if on_conflict not in ON_CONFLICT:
        raise StoreError(f"on_conflict {on_conflict!r} is unknown; use one of {ON_CONFLICT}")
    report = ImportReport()
    for name, text, design_hash, tags, notes, created, updated in plan.designs:
        old = rows.design_row(conn, name)
        target = name
        if old is not None:
            if _same_design(old, design_hash, tags, notes):
                report.designs_unchanged.append(name)
                continue
            if on_conflict == "skip":
                report.designs_skipped.append(name)
                continue
            target = rows.free_name(conn, name, "imported")
            report.designs_renamed.append((name, target))
        else:
            report.designs_added.append(name)
        blocks = schema.block_types(text)
        conn.execute(
            rows.INSERT_DESIGN,
            (target, text, design_hash, blocks, json.dumps(list(tags)), notes, created, updated),
        )
    for row in plan.profiles:
        if conn.execute(rows.SAME_PROFILE, row).fetchone():
            report.profiles_unchanged += 1
            continue
        conn.execute(rows.INSERT_PROFILE, row)
        report.profiles_added += 1
    for run, steps in plan.runs:
        if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run[0],)).fetchone():
            report.runs_skipped.append(run[0])
            continue
        conn.execute(rows.INSERT_RUN, run)
        conn.executemany(rows.INSERT_STEP, [(run[0], *s) for s in steps])
        report.runs_added.append(run[0])
    return report
