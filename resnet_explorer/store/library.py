"""`Store`: the library of saved designs, measured profiles and probe runs, in one SQLite file.

Thread- and process-safe: each thread (and each forked process) gets its own connection, every
operation is one short transaction, and writers retry while another holds the lock. The SQL and
row mappers live in `rows`, export and import in `exchange`, the file format in `schema`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from resnet_explorer.design import BLOCK_TYPES, Design
from resnet_explorer.store import db, exchange, paths, records, rows, schema
from resnet_explorer.store.errors import NameTakenError, NotFoundError, StoreError
from resnet_explorer.store.exchange import ImportPlan, ImportReport
from resnet_explorer.store.recorder import RunRecorder
from resnet_explorer.store.records import Run, SavedDesign, SavedProfile, Step

T = TypeVar("T")
DEFAULT_TIMEOUT = 15.0
Order = Literal["name", "updated", "created"]
_ORDER_SQL = {
    "name": "name COLLATE NOCASE, name",
    "updated": "updated DESC, id DESC",
    "created": "created DESC, id DESC",
}


class Store:
    """The library at ``path`` (default `paths.default_path`: ``$RESNET_EXPLORER_DB`` or the
    user's data directory). Opening creates the file if ``create``, migrates an older schema,
    and raises `StoreError` for a file that is not a library or is from a newer version.

    ``read_only``: for reading (the CLI's ``list``, ``show``, ``export``, reports): the file is
    never written, not even to initialise an empty file or migrate an older one (they are read
    through a private in-memory copy), and a library the user may not write can be read.

    Rows damaged on disk (a JSON column that is not JSON) are skipped by listings and exports;
    `damaged` says which, by name. They are never rewritten.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        read_only: bool = False,
    ) -> None:
        self.path: Path = paths.resolve(path)
        self.timeout = timeout
        self.read_only = read_only
        self.damaged: list[str] = []
        """Messages naming the rows that could not be read (skipped), in the order met."""
        self._create = create and not read_only
        self._local = threading.local()
        self._opened = threading.Lock()
        self._ready = False
        self._shared: sqlite3.Connection | None = None  # an in-memory read-only copy
        self._conn()  # surface a bad file now, not at the first query

    # --- connections ------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if conn is not None:
            # Inherited through fork: never use or close it here (the parent owns its locks);
            # keep a reference so garbage collection does not close it either.
            local.orphans = [*getattr(local, "orphans", []), conn]
        with self._opened:
            if self._shared is not None:
                conn = self._shared
            elif self._ready:
                try:
                    conn = db.connect(self.path, self.timeout, read_only=self.read_only)
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot open library {self.path}: {exc}") from None
            else:
                conn = schema.open_library(
                    self.path, create=self._create, timeout=self.timeout, read_only=self.read_only
                )
                if self.read_only and conn.execute("PRAGMA database_list").fetchone()[2] == "":
                    self._shared = conn  # in memory: every thread reads the one copy
                self._ready = True
        local.conn, local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid() and conn is not self._shared:
            conn.close()
        self._local.conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _run(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        if write and self.read_only:
            raise StoreError(f"library {self.path} was opened for reading only")
        try:
            return db.transact(
                self._conn(), fn, write=write, timeout=self.timeout, what=f"library {self.path}"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"library {self.path}: {exc}") from None

    # --- designs ----------------------------------------------------------------------------

    def save_design(
        self,
        name: str,
        design: Design,
        *,
        tags: Iterable[str] | str | None = None,
        notes: str | None = None,
        replace: bool = False,
    ) -> SavedDesign:
        """Save ``design`` as ``name``. A taken name raises `NameTakenError` unless ``replace``
        (then design, tags and notes are replaced and ``created`` is kept)."""
        name = records.check_name(name)
        if not isinstance(design, Design):
            raise StoreError(f"save_design needs a Design, got {type(design).__name__}")
        tag_json = json.dumps(list(records.check_tags(tags)))
        notes = records.check_notes(notes)
        text = design.to_json()
        blocks = schema.block_types(text)

        def write(conn: sqlite3.Connection) -> SavedDesign:
            stamp = schema.now()
            old = rows.design_row(conn, name)
            if old is not None and not replace:
                raise NameTakenError(
                    f"a design named {name!r} is already saved; choose another name, or "
                    "replace it explicitly"
                )
            if old is None:
                conn.execute(
                    rows.INSERT_DESIGN,
                    (name, text, design.hash, blocks, tag_json, notes, stamp, stamp),
                )
            else:
                conn.execute(
                    rows.UPDATE_DESIGN,
                    (text, design.hash, blocks, tag_json, notes, stamp, old["id"]),
                )
            return rows.saved_design(rows.design_row(conn, name))

        return self._run(write, write=True)

    def get_design(self, name: str) -> SavedDesign:
        """The design saved as ``name``; `NotFoundError` if there is none."""
        found = self.find_design(name)
        if found is None:
            raise NotFoundError(f"no design named {name!r} in library {self.path}")
        return found

    def find_design(self, name: str) -> SavedDesign | None:
        """The design saved as ``name``, or None."""
        name = records.check_name(name)
        row = self._run(lambda c: rows.design_row(c, name), write=False)
        return None if row is None else rows.saved_design(row)

    def list_designs(
        self,
        *,
        query: str | None = None,
        tag: str | None = None,
        block: str | None = None,
        design_hash: str | None = None,
        order: Order = "name",
        limit: int | None = None,
    ) -> list[SavedDesign]:
        """Saved designs whose name contains ``query`` (case-insensitive), tagged ``tag``
        (case-insensitive), using block type ``block`` and/or with hash ``design_hash``."""
        if block and block not in BLOCK_TYPES:
            raise StoreError(f"block type {block!r} is unknown; use one of {BLOCK_TYPES}")
        if order not in _ORDER_SQL:
            raise StoreError(f"order {order!r} is unknown; use one of {list(_ORDER_SQL)}")
        where, args = rows.where(("hash = ?", design_hash or None))
        sql = f"SELECT * FROM designs{where} ORDER BY {_ORDER_SQL[order]}"
        found = self._designs(sql, args)
        # Filters in Python: casefold handles every script (SQLite's lower() only ASCII), and a
        # row damaged on disk is skipped and reported, never a failed query.
        if tag and tag.strip():
            wanted = tag.strip().casefold()
            found = [d for d in found if any(t.casefold() == wanted for t in d.tags)]
        if block:
            found = [d for d in found if block in d.block_types]
        if query:
            needle = query.strip().casefold()
            found = [d for d in found if needle in d.name.casefold()]
        return found[:limit] if limit is not None else found

    def _designs(self, sql: str, args: list[Any]) -> list[SavedDesign]:
        found = self._run(lambda c: c.execute(sql, args).fetchall(), write=False)
        return rows.readable(found, rows.saved_design, self.damaged)

    def all_tags(self) -> list[str]:
        """Every tag in use, sorted case-insensitively."""
        tags = {t for d in self._designs("SELECT * FROM designs", []) for t in d.tags}
        return sorted(tags, key=lambda t: (t.casefold(), t))

    def update_design(
        self,
        name: str,
        *,
        design: Design | None = None,
        tags: Iterable[str] | str | None = None,
        notes: str | None = None,
        new_name: str | None = None,
    ) -> SavedDesign:
        """Change what is given (the design, tags, notes, the name) of the design ``name``."""
        name = records.check_name(name)
        changes: dict[str, Any] = {}
        if design is not None:
            if not isinstance(design, Design):
                raise StoreError(f"update_design needs a Design, got {type(design).__name__}")
            text = design.to_json()
            changes.update(design_json=text, hash=design.hash, block_types=schema.block_types(text))
        if tags is not None:
            changes["tags"] = json.dumps(list(records.check_tags(tags)))
        if notes is not None:
            changes["notes"] = records.check_notes(notes)
        target = name if new_name is None else records.check_name(new_name, "new name")
        if target != name:
            changes["name"] = target

        def write(conn: sqlite3.Connection) -> SavedDesign:
            old = rows.design_row(conn, name)
            if old is None:
                raise NotFoundError(f"no design named {name!r} in library {self.path}")
            if target != name and rows.design_row(conn, target) is not None:
                raise NameTakenError(f"a design named {target!r} is already saved")
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(
                    f"UPDATE designs SET {sets}, updated = ? WHERE id = ?",
                    (*changes.values(), schema.now(), old["id"]),
                )
            return rows.saved_design(rows.design_row(conn, target))

        return self._run(write, write=True)

    def rename_design(self, name: str, new_name: str) -> SavedDesign:
        """Rename a saved design; the new name must be free."""
        return self.update_design(name, new_name=new_name)

    def duplicate_design(self, name: str, new_name: str | None = None) -> SavedDesign:
        """Save a copy of ``name`` (design, tags, notes) as ``new_name``, by default the first
        free one of "NAME (copy)", "NAME (copy 2)", ..."""
        name = records.check_name(name)
        wanted = None if new_name is None else records.check_name(new_name, "new name")

        def write(conn: sqlite3.Connection) -> SavedDesign:
            old = rows.design_row(conn, name)
            if old is None:
                raise NotFoundError(f"no design named {name!r} in library {self.path}")
            if wanted is not None:
                if rows.design_row(conn, wanted) is not None:
                    raise NameTakenError(f"a design named {wanted!r} is already saved")
                target = wanted
            else:
                target = rows.free_name(conn, name, "copy")
            stamp = schema.now()
            conn.execute(
                rows.INSERT_DESIGN,
                (
                    target,
                    old["design_json"],
                    old["hash"],
                    old["block_types"],
                    old["tags"],
                    old["notes"],
                    stamp,
                    stamp,
                ),
            )
            return rows.saved_design(rows.design_row(conn, target))

        return self._run(write, write=True)

    def delete_design(self, name: str) -> SavedDesign:
        """Delete the design saved as ``name`` and return it (so a caller can offer undo).
        Its profiles and runs stay: they belong to the design's hash, not to the name."""
        name = records.check_name(name)

        def write(conn: sqlite3.Connection) -> SavedDesign:
            row = rows.design_row(conn, name)
            if row is None:
                raise NotFoundError(f"no design named {name!r} in library {self.path}")
            conn.execute("DELETE FROM designs WHERE id = ?", (row["id"],))
            return rows.saved_design(row)

        return self._run(write, write=True)

    # --- profiles ---------------------------------------------------------------------------

    def add_profile(
        self,
        design: Design,
        *,
        device: str,
        settings: Mapping[str, Any] | None = None,
        results: Mapping[str, Any] | None = None,
    ) -> SavedProfile:
        """Record measured ``results`` of ``design`` on ``device`` under ``settings``."""
        if not isinstance(design, Design):
            raise StoreError(f"add_profile needs a Design, got {type(design).__name__}")
        device = records.check_name(device, "device")
        row = (
            design.hash,
            design.to_json(),
            device,
            records.json_doc(settings, "settings"),
            records.json_doc(results, "results"),
        )

        def write(conn: sqlite3.Connection) -> SavedProfile:
            cur = conn.execute(rows.INSERT_PROFILE, (*row, schema.now()))
            made = conn.execute("SELECT * FROM profiles WHERE id = ?", (cur.lastrowid,))
            return rows.saved_profile(made.fetchone())

        return self._run(write, write=True)

    def profiles(
        self, *, design_hash: str | None = None, device: str | None = None, limit: int | None = None
    ) -> list[SavedProfile]:
        """Profiles, newest first, optionally of one design hash and/or one device."""
        where, args = rows.where(
            ("design_hash = ?", design_hash or None), ("device = ?", device or None)
        )
        sql = "SELECT * FROM profiles" + where
        sql += " ORDER BY created DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        found = self._run(lambda c: c.execute(sql, args).fetchall(), write=False)
        return rows.readable(found, rows.saved_profile, self.damaged)

    def delete_profile(self, profile_id: int) -> None:
        """Delete one profile by id; `NotFoundError` if there is none."""

        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)).rowcount == 0:
                raise NotFoundError(f"no profile with id {profile_id}")

        self._run(write, write=True)

    # --- probe runs -------------------------------------------------------------------------

    def start_run(
        self,
        design: Design,
        config: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> str:
        """Record a new run of ``design`` (status "running") and return its id."""
        if not isinstance(design, Design):
            raise StoreError(f"start_run needs a Design, got {type(design).__name__}")
        run_id = uuid.uuid4().hex if run_id is None else records.check_run_id(run_id)
        config_json = records.json_doc(config, "config")

        def write(conn: sqlite3.Connection) -> str:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise StoreError(f"a run with id {run_id!r} already exists")
            stamp = schema.now()
            row = (run_id, design.hash, design.to_json(), config_json, "running", stamp, stamp)
            conn.execute(rows.INSERT_RUN, (*row, None, None))  # not finished, no error
            return run_id

        return self._run(write, write=True)

    def append_steps(self, run_id: str, steps: Iterable[Mapping[str, Any]]) -> int:
        """Add steps to a running run, in one transaction (committed when this returns).
        Each row is flat: ``{"step": 3, "loss": 0.9, "acc": 0.6, "lr": 0.1, "val_acc": ...}``.
        Non-finite numbers are stored as null. Returns the number of rows written."""
        values = [records.step_row(row, f"step row {i}") for i, row in enumerate(steps)]
        if not values:
            return 0

        def write(conn: sqlite3.Connection) -> int:
            status = rows.run_status(conn, run_id)
            if status != "running":
                raise StoreError(f"run {run_id!r} is {status}; steps cannot be added to it")
            stamp = schema.now()
            try:
                conn.executemany(rows.INSERT_STEP, [(run_id, *v, stamp) for v in values])
            except sqlite3.IntegrityError:
                steps = [v[0] for v in values]
                raise StoreError(
                    f"run {run_id!r}: a step among {steps[0]}..{steps[-1]} is already recorded "
                    "(or repeated in this batch)"
                ) from None
            conn.execute("UPDATE runs SET updated = ? WHERE run_id = ?", (stamp, run_id))
            return len(values)

        return self._run(write, write=True)

    def finish_run(self, run_id: str, status: str = "completed", error: str | None = None) -> Run:
        """End a running run with ``status`` ("completed", "failed" or "cancelled")."""
        if status not in records.FINAL_STATUSES:
            raise StoreError(f"status {status!r} is unknown; use one of {records.FINAL_STATUSES}")
        if error is not None:
            error = str(error)[: records.MAX_NOTES]

        def write(conn: sqlite3.Connection) -> Run:
            current = rows.run_status(conn, run_id)
            if current != "running":
                raise StoreError(f"run {run_id!r} already ended ({current})")
            stamp = schema.now()
            conn.execute(
                "UPDATE runs SET status = ?, finished = ?, updated = ?, error = ? WHERE run_id = ?",
                (status, stamp, stamp, error, run_id),
            )
            return rows.run_row(conn, run_id)

        return self._run(write, write=True)

    def get_run(self, run_id: str) -> Run:
        """One run (with its step count); `NotFoundError` if there is none."""

        def read(conn: sqlite3.Connection) -> Run:
            rows.run_status(conn, run_id)
            return rows.run_row(conn, run_id)

        return self._run(read, write=False)

    def runs(
        self,
        *,
        design_hash: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        """Runs, newest first, optionally of one design hash and/or with one status."""
        where, args = rows.where(
            ("design_hash = ?", design_hash or None), ("status = ?", status or None)
        )
        sql = rows.SELECT_RUNS + where
        sql += " ORDER BY started DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        found = self._run(lambda c: c.execute(sql, args).fetchall(), write=False)
        return rows.readable(found, rows.run, self.damaged)

    def steps(self, run_id: str, *, after: int | None = None) -> list[Step]:
        """A run's steps in order; ``after`` returns only later ones (to follow a live run)."""

        def read(conn: sqlite3.Connection) -> list[Step]:
            rows.run_status(conn, run_id)
            sql = "SELECT * FROM steps WHERE run_id = ?"
            args: list[Any] = [run_id]
            if after is not None:
                sql += " AND step > ?"
                args.append(int(after))
            found = conn.execute(sql + " ORDER BY step", args)
            return rows.readable(found, rows.step, self.damaged)

        return self._run(read, write=False)

    def delete_run(self, run_id: str) -> None:
        """Delete a run and its steps; `NotFoundError` if there is none."""

        def write(conn: sqlite3.Connection) -> None:
            rows.run_status(conn, run_id)
            conn.execute("DELETE FROM steps WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

        self._run(write, write=True)

    def record_run(
        self, design: Design, config: Mapping[str, Any] | None = None, **kw: Any
    ) -> RunRecorder:
        """A `RunRecorder` for a new run (a context manager; see recorder.py)."""
        return RunRecorder(self, design, config, **kw)

    # --- whole library ----------------------------------------------------------------------

    def export_library(
        self, names: Iterable[str] | None = None, *, include_runs: bool = True
    ) -> dict[str, Any]:
        """The library (or the designs ``names`` with their profiles and runs) as one JSON
        document, ``resnet-explorer/library/v1`` (docs/store.md), read in one transaction.
        Rows damaged on disk are left out and named in `damaged`."""
        names = None if names is None else list(names)
        return self._run(
            lambda c: exchange.export_document(
                c,
                names,
                include_runs=include_runs,
                damaged=self.damaged,
                where=f"library {self.path}",
            ),
            write=False,
        )

    def import_library(
        self,
        doc: Mapping[str, Any] | str | bytes | ImportPlan,
        *,
        on_conflict: str = "skip",
    ) -> ImportReport:
        """Add an exported library to this one, in one transaction, after checking all of it. A
        design whose name is taken by a different design is skipped or, with
        ``on_conflict="rename"``, saved as "NAME (imported)"; nothing is ever overwritten."""
        if on_conflict not in exchange.ON_CONFLICT:
            raise StoreError(
                f"on_conflict {on_conflict!r} is unknown; use one of {exchange.ON_CONFLICT}"
            )
        plan = doc if isinstance(doc, ImportPlan) else exchange.parse_document(doc)
        return self._run(
            lambda c: exchange.apply_import(c, plan, on_conflict=on_conflict), write=True
        )

    def counts(self) -> dict[str, int]:
        """How many designs, profiles, runs and steps the library holds."""

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("designs", "profiles", "runs", "steps")
            }

        return self._run(read, write=False)
