"""`RunRecorder`: writes a probe run's steps as it goes, and ends the run however it ends."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from resnet_explorer.design import Design
from resnet_explorer.store.records import Run


class RunStore(Protocol):
    """What a recorder needs of a library (`Store` is one): it never imports the `Store`."""

    def start_run(
        self, design: Design, config: Mapping[str, Any] | None = None, *, run_id: str | None = None
    ) -> str: ...

    def append_steps(self, run_id: str, steps: Iterable[Mapping[str, Any]]) -> int: ...

    def finish_run(self, run_id: str, status: str = ..., error: str | None = None) -> Run: ...


class RunRecorder:
    """Starts a run; `log` buffers steps and commits them every ``flush_every`` steps or
    ``flush_seconds`` seconds, so a killed process loses at most that many. As a context
    manager it ends the run "completed", "cancelled" (KeyboardInterrupt) or "failed"
    (any other exception, whose text becomes the run's error).

    >>> with store.record_run(design, {"lr": 0.1}) as run:   # doctest: +SKIP
    ...     run.log(1, loss=2.3, acc=0.1)
    """

    def __init__(
        self,
        store: RunStore,
        design: Design,
        config: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        flush_every: int = 1,
        flush_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.run_id = store.start_run(design, config, run_id=run_id)
        self.flush_every = max(1, int(flush_every))
        self.flush_seconds = flush_seconds
        self._pending: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self.finished: Run | None = None

    def log(self, step: int, **metrics: Any) -> None:
        """Record one step's metrics (``loss``, ``acc``, ``lr`` and any others)."""
        self._pending.append({"step": step, **metrics})
        if (
            len(self._pending) >= self.flush_every
            or time.monotonic() - self._last_flush >= self.flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Commit the buffered steps now."""
        if self._pending:
            rows, self._pending = self._pending, []
            self.store.append_steps(self.run_id, rows)
        self._last_flush = time.monotonic()

    def finish(self, status: str = "completed", error: str | None = None) -> Run:
        """Commit what is buffered and end the run."""
        self.flush()
        self.finished = self.store.finish_run(self.run_id, status, error)
        return self.finished

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.finished is not None:
            return
        if exc is None:
            self.finish("completed")
            return
        status = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
        # Never hide the original exception behind a bookkeeping one.
        try:
            self.flush()
        except Exception:
            self._pending = []
        with contextlib.suppress(Exception):
            error = f"{type(exc).__name__}: {exc}"
            self.finished = self.store.finish_run(self.run_id, status, error)
