"""The library as one JSON document (``resnet-explorer/library/v1``) and back.

Import checks the whole document first and writes it in one transaction: either all of it
lands or nothing does. It never overwrites: a design whose name is taken by a different design
is skipped (``on_conflict="skip"``) or saved under "NAME (imported)" (``"rename"``); an
identical design, profile or an already present run id is left as it is.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from resnet_explorer import jsonio
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.store import records, schema
from resnet_explorer.store.errors import NewerSchemaError, NotFoundError, StoreError

if TYPE_CHECKING:
    from resnet_explorer.store.library import Store

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


def export_library(
    store: Store, names: Iterable[str] | None = None, *, include_runs: bool = True
) -> dict[str, Any]:
    """See `Store.export_library`. Read in one transaction, so the document is consistent."""
    from resnet_explorer.store import library

    wanted = None if names is None else [records.check_name(n) for n in names]

    def read(conn: sqlite3.Connection) -> dict[str, Any]:
        if wanted is None:
            design_rows = conn.execute("SELECT * FROM designs ORDER BY id").fetchall()
            hashes = None
        else:
            design_rows = []
            for name in dict.fromkeys(wanted):
                row = conn.execute("SELECT * FROM designs WHERE name = ?", (name,)).fetchone()
                if row is None:
                    raise NotFoundError(f"no design named {name!r} in library {store.path}")
                design_rows.append(row)
            hashes = sorted({row["hash"] for row in design_rows})

        def of_designs(sql: str, order: str) -> list[sqlite3.Row]:
            if hashes is None:
                return conn.execute(f"{sql} ORDER BY {order}").fetchall()
            marks = ",".join("?" * len(hashes))
            return conn.execute(
                f"{sql} WHERE design_hash IN ({marks}) ORDER BY {order}", hashes
            ).fetchall()

        profiles = of_designs("SELECT * FROM profiles", "id")
        runs_out = []
        if include_runs:
            for row in of_designs(library._RUNS_SQL, "started, run_id"):
                run = library._run_from(row).to_dict()
                steps = conn.execute(
                    "SELECT * FROM steps WHERE run_id = ? ORDER BY step", (row["run_id"],)
                )
                run["steps"] = [library._step(s).row() for s in steps]
                runs_out.append(run)
        return {
            "schema": SCHEMA,
            "exported": schema.now(),
            "library_schema": schema.SCHEMA_VERSION,
            "designs": [library._saved(r).to_dict() for r in design_rows],
            "profiles": [library._profile_row(r).to_dict() for r in profiles],
            "runs": runs_out,
        }

    return store._run(read, write=False)


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


# --- import -----------------------------------------------------------------------------------


def loads(text: str | bytes) -> dict[str, Any]:
    """Parse an export document's text (its structure is checked by `import_library`)."""
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
            f"not a library export: its schema is {value!r}, expected {SCHEMA!r} "
            "(`library export` writes one)"
        )
    if int(match.group(1)) > FORMAT_VERSION:
        raise NewerSchemaError(
            f"the export is {value}, from a newer ResNet Explorer; this version reads {SCHEMA}"
        )


def _design(value: Any, where: str) -> Design:
    try:
        return Design.from_dict(value)
    except DesignError as exc:
        raise StoreError(f"{where}: {exc}") from None


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise StoreError(f"{key} must be a list, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise StoreError(f"{key}[{i}] must be an object, got {type(item).__name__}")
    return value


def _stamp(value: Any, where: str, default: str | None) -> str | None:
    if value is None:
        return default
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        raise StoreError(f"{where} must be a time stamp (ISO 8601 text), got {value!r:.60}")
    return value


def _parse(doc: Mapping[str, Any]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every record of ``doc``, checked, as rows ready to insert."""
    _check_schema(doc)
    stamp = schema.now()
    designs = []
    for i, item in enumerate(_list(doc, "designs")):
        where = f"designs[{i}]"
        name = records.check_name(item.get("name"), f"{where}.name")
        design = _design(item.get("design"), f"{where}.design")
        text = design.to_json()
        tags = records.check_tags(item.get("tags"))
        notes = records.check_notes(item.get("notes"))
        created = _stamp(item.get("created"), f"{where}.created", stamp)
        updated = _stamp(item.get("updated"), f"{where}.updated", created)
        designs.append((name, text, design.hash, tags, notes, created, updated))
    profiles = []
    for i, item in enumerate(_list(doc, "profiles")):
        where = f"profiles[{i}]"
        design = _design(item.get("design"), f"{where}.design")
        profiles.append(
            (
                design.hash,
                design.to_json(),
                records.check_name(item.get("device"), f"{where}.device"),
                records.json_doc(item.get("settings"), f"{where}.settings"),
                records.json_doc(item.get("results"), f"{where}.results"),
                _stamp(item.get("created"), f"{where}.created", stamp),
            )
        )
    runs = []
    for i, item in enumerate(_list(doc, "runs")):
        where = f"runs[{i}]"
        design = _design(item.get("design"), f"{where}.design")
        status = item.get("status")
        if status not in records.RUN_STATUSES:
            raise StoreError(f"{where}.status {status!r} is not one of {records.RUN_STATUSES}")
        started = _stamp(item.get("started"), f"{where}.started", stamp)
        error = item.get("error")
        if error is not None and not isinstance(error, str):
            raise StoreError(f"{where}.error must be text or null")
        steps_in = item.get("steps", [])
        if not isinstance(steps_in, list):
            raise StoreError(f"{where}.steps must be a list")
        steps, seen = [], set()
        for j, row in enumerate(steps_in):
            values = records.step_row(row, f"{where}.steps[{j}]")
            if values[0] in seen:
                raise StoreError(f"{where}.steps[{j}]: step {values[0]} appears twice")
            seen.add(values[0])
            steps.append((*values, _stamp(row.get("time"), f"{where}.steps[{j}].time", started)))
        run = (
            records.check_run_id(item.get("run_id")),
            design.hash,
            design.to_json(),
            records.json_doc(item.get("config"), f"{where}.config"),
            status,
            started,
            _stamp(item.get("updated"), f"{where}.updated", started),
            _stamp(item.get("finished"), f"{where}.finished", None),
            error,
        )
        runs.append((run, steps))
    return designs, profiles, runs


def import_library(
    store: Store, doc: Mapping[str, Any] | str | bytes, *, on_conflict: str = "skip"
) -> ImportReport:
    """See `Store.import_library`."""
    from resnet_explorer.store.library import free_name

    if on_conflict not in ON_CONFLICT:
        raise StoreError(f"on_conflict {on_conflict!r} is unknown; use one of {ON_CONFLICT}")
    if isinstance(doc, str | bytes):
        doc = loads(doc)
    if not isinstance(doc, Mapping):
        raise StoreError("not a library export: expected a JSON object")
    designs, profiles, runs = _parse(doc)

    def write(conn: sqlite3.Connection) -> ImportReport:
        report = ImportReport()
        for name, text, design_hash, tags, notes, created, updated in designs:
            old = conn.execute("SELECT * FROM designs WHERE name = ?", (name,)).fetchone()
            target = name
            if old is not None:
                same = (
                    old["hash"] == design_hash
                    and tuple(json.loads(old["tags"])) == tags
                    and old["notes"] == notes
                )
                if same:
                    report.designs_unchanged.append(name)
                    continue
                if on_conflict == "skip":
                    report.designs_skipped.append(name)
                    continue
                target = free_name(conn, name, "imported")
                report.designs_renamed.append((name, target))
            else:
                report.designs_added.append(name)
            conn.execute(
                "INSERT INTO designs (name, design_json, hash, block_types, tags, notes, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    target,
                    text,
                    design_hash,
                    schema.block_types(text),
                    json.dumps(list(tags)),
                    notes,
                    created,
                    updated,
                ),
            )
        for row in profiles:
            exists = conn.execute(
                "SELECT 1 FROM profiles WHERE design_hash = ? AND design_json = ? AND device = ? "
                "AND settings = ? AND results = ? AND created = ?",
                row,
            ).fetchone()
            if exists:
                report.profiles_unchanged += 1
                continue
            conn.execute(
                "INSERT INTO profiles (design_hash, design_json, device, settings, results, "
                "created) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            report.profiles_added += 1
        for run, steps in runs:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run[0],)).fetchone():
                report.runs_skipped.append(run[0])
                continue
            conn.execute(
                "INSERT INTO runs (run_id, design_hash, design_json, config, status, started, "
                "updated, finished, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run,
            )
            conn.executemany(
                "INSERT INTO steps (run_id, step, loss, acc, lr, metrics, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run[0], *s) for s in steps],
            )
            report.runs_added.append(run[0])
        return report

    return store._run(write, write=True)
