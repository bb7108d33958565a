"""SQLite plumbing: connections, retries on a busy database, short transactions.

Writers take the write lock up front (``BEGIN IMMEDIATE``) so two transactions never deadlock
trying to upgrade a read lock; SQLite's busy handler waits for the lock, and `retrying` starts
the whole transaction again when SQLite still answers SQLITE_BUSY (WAL recovery, a journal-mode
switch, a checkpoint), until ``timeout`` seconds have passed.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from resnet_explorer.store.errors import BusyError

T = TypeVar("T")

_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)


def connect(
    path: Path | str, timeout: float, *, read_only: bool = False, immutable: bool = False
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), rows as `sqlite3.Row`.

    ``read_only``: SQLite refuses every write through it (``mode=ro``), so a reading command
    can never change the file, and a file the user may not write can still be read.
    ``immutable``: also tell SQLite nobody else writes it (no lock or ``-shm`` file needed; for a
    read-only folder)."""
    target, uri = str(path), False
    if read_only:
        query = "?mode=ro&immutable=1" if immutable else "?mode=ro"
        target = Path(path).absolute().as_uri() + query
        uri = True
    conn = sqlite3.connect(
        target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri
    )
    conn.row_factory = sqlite3.Row
    # Per-connection settings; they write nothing to the file.
    conn.execute("PRAGMA foreign_keys=ON")
    # With WAL, NORMAL loses no committed transaction when a process crashes or is killed
    # (only, at worst, the last ones on power loss) and makes each commit much cheaper.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def is_busy(exc: BaseException) -> bool:
    """True when ``exc`` says another connection holds a lock (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retrying(fn: Callable[[], T], timeout: float, what: str = "the library") -> T:
    """Call ``fn`` until it does not fail with SQLITE_BUSY, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise BusyError(
                    f"{what} is busy: other processes kept it locked for more than "
                    f"{timeout:g} s ({exc})"
                ) from None
        time.sleep(delay * (0.5 + random.random()))  # jitter: writers do not retry in lockstep
        delay = min(delay * 2, 0.25)


def transact(
    conn: sqlite3.Connection,
    fn: Callable[[sqlite3.Connection], T],
    *,
    write: bool,
    timeout: float,
    what: str = "the library",
) -> T:
    """Run ``fn(conn)`` in one transaction (retried as a whole while the database is busy)."""

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return retrying(attempt, timeout, what)
