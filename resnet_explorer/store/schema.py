"""The library's file format: recognising our files, creating them, migrating older ones.

A library is a SQLite database whose header carries ``application_id`` `APP_ID` ("RXPL") and
whose ``user_version`` is the schema version. History (docs/store.md has the tables):

* **1**: designs (tags as comma-separated text), profiles, runs, steps with loss/acc/lr columns.
* **2**: designs gain ``block_types`` (JSON list, for filtering) and keep ``tags`` as a JSON list;
  runs gain ``updated`` (the time of the last step, to tell a live run from a killed one);
  steps gain ``metrics`` (JSON object: held-out loss and accuracy, anything else).

`open_library` refuses, without writing a byte, a file that is not SQLite, a SQLite database of
another application, and a library of a newer schema. An older library is copied to a backup
next to it, then migrated in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from resnet_explorer import jsonio
from resnet_explorer.files import check_regular
from resnet_explorer.store import db
from resnet_explorer.store.errors import NewerSchemaError, NotALibraryError, StoreError

APP_ID = 0x5258504C  # "RXPL" in the SQLite header, offset 68
SCHEMA_VERSION = 2
_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE designs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    design_json TEXT NOT NULL,
    hash TEXT NOT NULL,
    block_types TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX designs_hash ON designs(hash);
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    design_hash TEXT NOT NULL,
    design_json TEXT NOT NULL,
    device TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    results TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE INDEX profiles_hash ON profiles(design_hash, created);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    design_hash TEXT NOT NULL,
    design_json TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    updated TEXT NOT NULL,
    finished TEXT,
    error TEXT
);
CREATE INDEX runs_hash ON runs(design_hash, started);
CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    loss REAL,
    acc REAL,
    lr REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    time TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""


def now() -> str:
    """UTC time as fixed-width ISO 8601 (sorts as text): ``2025-01-31T12:00:00.000000Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def block_types(design_json: str) -> str:
    """JSON list of the block types a design uses, read from its JSON (no validation)."""
    try:
        data = jsonio.parse(design_json)
        default = data.get("block", "basic")
        found = {stage.get("block") or default for stage in data.get("stages", [])}
    except (jsonio.JsonError, AttributeError, TypeError):
        found = set()
    return json.dumps(sorted(str(b) for b in found))


# --- migrations: MIGRATIONS[v] turns a version-v library into version v + 1 ---------------------


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE designs ADD COLUMN block_types TEXT NOT NULL DEFAULT '[]'")
    rows = conn.execute("SELECT id, design_json, tags FROM designs").fetchall()
    for row in rows:
        tags = [t.strip() for t in (row["tags"] or "").split(",") if t.strip()]
        conn.execute(
            "UPDATE designs SET tags = ?, block_types = ? WHERE id = ?",
            (json.dumps(tags), block_types(row["design_json"]), row["id"]),
        )
    conn.execute("ALTER TABLE runs ADD COLUMN updated TEXT NOT NULL DEFAULT ''")
    conn.execute("UPDATE runs SET updated = coalesce(finished, started)")
    conn.execute("ALTER TABLE steps ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}'")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}


# --- recognising and opening ------------------------------------------------------------------


def sniff(path: Path) -> None:
    """Refuse, from the raw header and without opening it as a database, a file that is not
    SQLite or belongs to another application. An empty file passes (SQLite creates them)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read library {path}: {exc.strerror or exc}") from None
    if not header:
        return
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise NotALibraryError(
            f"{path} is not a ResNet Explorer library (not a SQLite database); it was left "
            "untouched: pass another path with --db or $RESNET_EXPLORER_DB"
        )
    app_id = int.from_bytes(header[68:72], "big", signed=True)
    if app_id not in (0, APP_ID):
        raise NotALibraryError(
            f"{path} is a SQLite database of another application (application_id "
            f"{app_id:#x}), not a ResNet Explorer library; it was left untouched"
        )


def _state(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the open file; 0 for a new, empty one. Raises for foreign/newer."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == APP_ID:
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{path} was written by a newer ResNet Explorer (library schema {version}; this "
                f"version reads up to {SCHEMA_VERSION}); it was left untouched: upgrade "
                "ResNet Explorer to open it"
            )
        if version < 1:
            raise NotALibraryError(f"{path} claims to be a library but has no schema version")
        return version
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    if app_id == 0 and not tables and version == 0:
        return 0
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    raise NotALibraryError(
        f"{path} is a SQLite database but not a ResNet Explorer library "
        f"(application_id {app_id:#x}, tables: {shown or 'none'}); it was left untouched"
    )


def _backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the library (consistently, through SQLite) before a migration changes it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.schema-v{version}-{stamp}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.schema-v{version}-{stamp}-{n}.bak")
    dest = sqlite3.connect(str(target))
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return target


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new file, or migrate an older one (inside a write transaction)."""
    version = _state(conn, path)  # again: another process may have done it meanwhile
    if version == 0:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('created', ?)", (now(),))
        conn.execute(f"PRAGMA application_id = {APP_ID}")
    else:
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](conn)
            version += 1
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_path(path: Path, *, create: bool) -> None:
    """Refuse at once what cannot be a library (a folder, a FIFO, a device: opening a FIFO
    would wait forever), sniff an existing file, prepare the folder of a new one."""
    if path.is_dir():
        raise StoreError(f"library path {path} is a directory; give a file path")
    check_regular(path, what="library", error=StoreError)
    if path.exists():
        sniff(path)
    elif not create:
        raise StoreError(f"no library at {path}")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for library {path}: {exc}") from None


def open_library(
    path: Path, *, create: bool, timeout: float, read_only: bool = False
) -> sqlite3.Connection:
    """Open (creating or migrating if needed) the library at ``path``; see the module doc.

    ``read_only``: never write the file (reading commands): SQLite opens it read-only, and an
    empty file or an older schema is read through a private in-memory copy (created or
    migrated there), so the file is left byte for byte and no backup is made."""
    _check_path(path, create=create and not read_only)
    if read_only:
        return _open_read_only(path, timeout)
    try:
        conn = db.connect(path, timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open library {path}: {exc}") from None
    try:
        version = db.transact(conn, lambda c: _state(c, path), write=False, timeout=timeout)
        if version == SCHEMA_VERSION:
            _ensure_wal(conn, timeout)
            return conn
        backup = _backup(conn, path, version) if version > 0 else None
        try:
            db.transact(conn, lambda c: _initialise(c, path), write=True, timeout=timeout)
        except BaseException:
            if backup is not None:  # rolled back: the file is as it was, so is its backup
                backup.unlink(missing_ok=True)
            raise
        _ensure_wal(conn, timeout)  # only once it is a library: a failure changed nothing
        return conn
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"cannot open library {path}: {exc}") from None
        raise


def _open_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    conn = None
    try:
        try:
            conn = db.connect(path, timeout, read_only=True)
            version = db.transact(conn, lambda c: _state(c, path), write=False, timeout=timeout)
        except sqlite3.OperationalError:
            # A WAL library in a folder we may not write (no -shm can be made): read it as
            # immutable, i.e. without the locks only writers need.
            if conn is not None:
                conn.close()
            conn = db.connect(path, timeout, read_only=True, immutable=True)
            version = db.transact(conn, lambda c: _state(c, path), write=False, timeout=timeout)
        if version == SCHEMA_VERSION:
            return conn
        memory = db.connect(":memory:", timeout)
        if version > 0:
            conn.backup(memory)
        conn.close()
        conn = memory
        db.transact(memory, lambda c: _initialise(c, path), write=True, timeout=timeout)
        return memory
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"cannot read library {path}: {exc}") from None
        raise


def _ensure_wal(conn: sqlite3.Connection, timeout: float) -> None:
    # Persistent once set. Some file systems (network shares) cannot do WAL; SQLite then keeps
    # its rollback journal, which is slower but just as safe.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        db.retrying(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone(), timeout)
