"""Run an exploration: sample, score analytically, evaluate on a backend, record.

`explore` runs in the calling thread (the CLI); `ExploreJob` runs the same in a background
thread and exposes a thread-safe `snapshot` (an `ExploreSnapshot`) for a page to poll (it never
calls Streamlit). Events and snapshots are typed records (`typed.Record`), also readable as their
JSON mappings; states come from `status.ExploreState`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypedDict, Unpack

from resnet_explorer.errors import ResNetExplorerError
from resnet_explorer.explore.backends import Backend, LocalBackend, Outcome, Task
from resnet_explorer.explore.evaluate import EvalOptions, missing_metrics
from resnet_explorer.explore.results import JsonlWriter, Results, ResultsError
from resnet_explorer.explore.sampling import SampleReport, sample_space
from resnet_explorer.explore.space import Space, check_request
from resnet_explorer.status import FINISHED, ExploreState
from resnet_explorer.typed import Record, same_named


@dataclass(frozen=True, eq=False)
class Sampled(Record):
    """Sampling finished: the sampling report's keys (accepted, requested, draws, ...)."""

    KIND: ClassVar[str] = "sampled"
    FLATTEN: ClassVar[str] = "report"
    report: dict[str, Any]


@dataclass(frozen=True, eq=False)
class SampleFinished(Record):
    """One result record (index, hash, design, knobs, metrics, status, failure, attempts)."""

    KIND: ClassVar[str] = "sample"
    FLATTEN: ClassVar[str] = "record"
    record: dict[str, Any]


@dataclass(frozen=True, eq=False)
class ExploreDone(Record):
    """The exploration ended: its state, counts per record status, seconds, error if any."""

    KIND: ClassVar[str] = "done"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"error"})
    status: ExploreState
    counts: dict[str, int]
    seconds: float
    error: str | None = None


Event = Sampled | SampleFinished | ExploreDone


@dataclass
class ExploreRun:
    """State of one exploration; `results` is what a results file would hold."""

    space: Space
    samples: int
    seed: int
    options: EvalOptions
    backend: str
    state: ExploreState = "sampling"
    report: SampleReport | None = None
    results: Results = field(default_factory=Results)
    evaluated: int = 0
    to_evaluate: int = 0
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results.records:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out


class ExploreRequest(TypedDict, total=False):
    """How to run an exploration (`explore`, `ExploreJob`), beside its space and sample count.

    ``seed``: the sampling seed (default: the space's). ``options``: what to measure beyond the
    analytic score (default `EvalOptions()`). ``backend``: where to measure (default
    `LocalBackend`). ``out``: write the results file as it goes (an existing file only with
    ``force``; `resnet_explorer.files` has the rules).
    """

    seed: int | None
    options: EvalOptions | None
    backend: Backend | None
    out: str | None
    force: bool


def _prepare(space: Space, samples: int, request: ExploreRequest) -> tuple[ExploreRun, Backend]:
    """The run a request starts, and its backend; bad samples or seed raise here."""
    seed = request.get("seed")
    seed = space.seed if seed is None else seed
    check_request(samples, seed)
    options = request.get("options") or EvalOptions()
    backend = request.get("backend") or LocalBackend()
    return ExploreRun(space, samples, seed, options, backend.name), backend


def explore(
    space: Space,
    samples: int,
    *,
    on_event: Callable[[Event], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    **request: Unpack[ExploreRequest],
) -> ExploreRun:
    """Sample ``samples`` designs of ``space``, score them, and measure them when the
    request's options ask for latency or a probe (`ExploreRequest` says what else to give).

    Events (``{"event": ...}``): ``sampled`` (the sampling report), ``sample`` (one record,
    as it finishes), ``done`` (state and counts). Bad input (samples, seed, the probe's
    dataset, the output file) raises before anything is written.
    """
    run, backend = _prepare(space, samples, request)
    run.options.check_data()
    _run(run, backend, request, on_event, cancel)
    return run


def _run(
    run: ExploreRun,
    backend: Backend,
    request: ExploreRequest,
    on_event: Callable[[Event], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    """Run a prepared exploration, its state and error recorded in ``run``; raises what
    failed it."""
    emit = on_event or (lambda e: None)
    out = request.get("out")
    writer = JsonlWriter(out, force=request.get("force", False)) if out else None
    try:
        _explore(run, backend, writer, emit, cancel)
    except Exception as exc:
        engine = isinstance(exc, ResNetExplorerError)  # its message says it all
        run.state, run.error = "failed", str(exc) if engine else f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _finish(run, writer, emit)


def _explore(run: ExploreRun, backend: Backend, writer, emit, cancel) -> None:
    """The body of `explore`: sample, then record or measure every sample."""
    space, options = run.space, run.options
    header = {
        "space": space.to_dict(),
        "samples": run.samples,
        "seed": run.seed,
        "options": options.to_dict(),
        "backend": backend.describe(),
    }
    run.results.header = header
    if writer:
        writer.write("header", header)
    report = sample_space(space, run.samples, seed=run.seed, cancel=cancel)
    run.report = report
    run.results.sampling = report.to_dict()
    if writer:
        writer.write("sampling", report.to_dict())
    emit(Sampled(report.to_dict()))
    records = _records(report)

    def finish(record: dict[str, Any]) -> None:
        run.results.records.append(record)
        if writer:
            writer.write("sample", record)
        emit(SampleFinished(record))

    if report.cancelled:
        run.state = "cancelled"
    elif not options.measured:
        for record in records.values():
            finish(record)
        run.state = "done"
    else:
        run.state = "evaluating"
        _evaluate(records, options, backend, finish, cancel, run)
        run.state = "cancelled" if cancel is not None and cancel() else "done"


def _finish(run: ExploreRun, writer: JsonlWriter | None, emit) -> None:
    """Close the run: its summary (also in the results file) and the ``done`` event. A results
    file that fails here fails the run, unless the run failed already (the first error wins)."""
    run.seconds = time.perf_counter() - run.started
    summary = {"status": run.state, "counts": run.counts(), "seconds": round(run.seconds, 3)}
    if run.error:
        summary["error"] = run.error
    run.results.summary = summary
    if writer:
        try:
            writer.write("summary", summary)
        except ResultsError:
            if run.error is None:
                raise
        finally:
            with contextlib.suppress(ResultsError):
                writer.close()
    emit(ExploreDone(**summary))


def _records(report: SampleReport) -> dict[int, dict[str, Any]]:
    """One result record per sample, scored analytically, not yet measured."""
    return {
        s.index: {
            "index": s.index,
            "hash": s.hash,
            "design": s.design.to_dict(),
            "knobs": s.knobs,
            "metrics": dict(s.metrics),
            "status": "ok",
            "failure": None,
            "attempts": 0,
        }
        for s in report.samples
    }


def _evaluate(records, options, backend, finish, cancel, run: ExploreRun) -> None:
    """Measure each distinct design once; duplicates get the same measured metrics."""
    by_hash: dict[str, list[int]] = {}
    for index, record in records.items():
        by_hash.setdefault(record["hash"], []).append(index)
    opts = options.to_dict()
    tasks = [Task(ix[0], records[ix[0]]["design"], opts) for ix in by_hash.values()]
    run.to_evaluate = len(records)

    def on_result(outcome: Outcome) -> None:
        first = records[outcome.index]
        status, failure = outcome.status, outcome.error
        if status == "ok":  # a metric asked for but not measured: cut short, with the reason
            failure = missing_metrics(outcome.metrics, opts)
            status = "ok" if failure is None else "cut_short"
        for index in by_hash[first["hash"]]:
            record = records[index]
            record["metrics"].update(outcome.metrics)
            record["status"] = status
            record["failure"] = failure
            record["attempts"] = outcome.attempts
            run.evaluated += 1
            finish(record)

    backend.run(tasks, on_result, cancel)


class ExploreJob:
    """One exploration in a background thread. `snapshot` is safe to call from any thread."""

    def __init__(self, space: Space, samples: int, **request: Unpack[ExploreRequest]) -> None:
        self.run, self.backend = _prepare(space, samples, request)  # bad input: raise now
        self.options = self.run.options
        self._request = request
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, name="explore", daemon=True)

    def start(self) -> ExploreJob:
        self._thread.start()
        return self

    def _main(self) -> None:
        with contextlib.suppress(Exception):  # recorded in run.state / run.error
            _run(self.run, self.backend, self._request, None, self._cancel.is_set)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def finished(self) -> bool:
        return self.run.state in FINISHED and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> ExploreSnapshot:
        """State, progress and a copy of the results so far."""
        run = self.run
        records = list(run.results.records)
        return ExploreSnapshot(
            **same_named(run, ("state", "error", "samples", "evaluated", "to_evaluate")),
            sampling=dict(run.results.sampling),
            results=Results(
                dict(run.results.header), dict(run.results.sampling), records, run.results.summary
            ),
            seconds=time.perf_counter() - run.started if not self.finished else run.seconds,
            cancelling=self._cancel.is_set(),
        )


@dataclass(frozen=True, eq=False)
class ExploreSnapshot(Record):
    """What a page shows of a running exploration (`ExploreJob.snapshot`)."""

    state: ExploreState
    error: str | None
    samples: int
    evaluated: int
    to_evaluate: int
    sampling: dict[str, Any]
    results: Results
    seconds: float
    cancelling: bool
