"""Background probe jobs for the app: a queue and one worker thread per device. No Streamlit.

    from resnet_explorer.probes.jobs import get_manager
    jobs = get_manager()                       # process-wide singleton
    job_id = jobs.submit([("resnet20", design)], ProbeConfig(steps=100))
    jobs.position(job_id)                      # 0 running, k = k-th in the queue, None finished
    jobs.status(job_id, since=0)               # plain data; cheap enough to poll every second
    jobs.cancel(job_id)

One training job runs per device at a time (every job for "cpu" shares one queue, every job for
"cuda:0" another), so concurrent users queue rather than fight over the device. `status` returns
a frozen `JobStatus` (also readable as the mapping ``status["state"]``): the state (queued /
running / done / cancelled / failed, `status.JobState`), each design's `DesignProgress`, the
events recorded so far (from ``since``: poll incrementally with ``status.next``) and errors.
An ``on_event(job_id, event)`` hook, per job or for the manager, sees every event as it happens
(e.g. to persist metrics), and an ``on_done(status)`` hook the finished job; a failing hook is
recorded, never fatal.

Long jobs never outlive their users unnoticed: every job is listed to every session (`jobs`),
with its owner's label, and any session may stop any job (`cancel`, with a reason that ends up in
the run history). A job submitted with ``watched=True`` belongs to a page that calls `touch`
while it shows the job; when no touch has come for `unwatched_after` seconds
(``RESNET_EXPLORER_UNWATCHED_MINUTES``, default 10 minutes) the job is stopped and says why. When
the process exits (the server's SIGTERM / SIGINT), `shutdown` stops every job at its next step
and waits for them, so their hooks record every step and how the run ended.
"""

from __future__ import annotations

import atexit
import itertools
import math
import os
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.probes.config import ProbeConfig
from resnet_explorer.probes.data import Dataset
from resnet_explorer.probes.errors import ProbeError
from resnet_explorer.probes.events import ProbeEvent
from resnet_explorer.probes.progress import DesignProgress, JobStatus, Progress
from resnet_explorer.probes.runner import (
    DesignSpec,
    Probe,
    check_fits,
    label_designs,
    plan_runs,
    run_key,
    training_device,
)
from resnet_explorer.status import FINISHED, JobState, Phase, job_outcome

__all__ = ["DesignProgress", "JobManager", "JobStatus", "StopSignal", "get_manager"]

Event = ProbeEvent
Hook = Callable[[str, ProbeEvent], None]
Report = Callable[[float, str], None]
#: Work run after training in the same device slot: ``then(probe, cancel, report)`` gets the
#: finished `Probe` (``probe.result.runs[i].model`` are the trained models, ``probe.data`` the
#: data), the job's cancel `threading.Event` and
#: ``report(fraction, text)``; what it returns becomes ``status["analysis"]``.
Then = Callable[[Any, threading.Event, Report], Any]
Done = Callable[[JobStatus], None]
UNWATCHED_ENV = "RESNET_EXPLORER_UNWATCHED_MINUTES"
DEFAULT_UNWATCHED_MINUTES = 10.0
SHUTDOWN_REASON = "stopped: the server shut down"


class StopSignal(threading.Event):
    """A job's stop flag, with why it was stopped (None: at its owner's request)."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None

    def stop(self, reason: str | None = None) -> None:
        """Ask the job to stop at its next step; the first reason given is kept."""
        if not self.is_set():
            self.reason = reason
        self.set()


def unwatched_after_from_env() -> float | None:
    """Seconds a watched job may go without a `JobManager.touch` (None = never stopped), from
    ``RESNET_EXPLORER_UNWATCHED_MINUTES`` (a positive number of minutes; ``0`` or ``off`` turns
    it off). A value that is not a number is an error naming the variable."""
    raw = os.environ.get(UNWATCHED_ENV, "").strip()
    if not raw:
        return DEFAULT_UNWATCHED_MINUTES * 60
    if raw.lower() in ("0", "off", "never"):
        return None
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes <= 0 or minutes > 7 * 24 * 60:
        raise ProbeError(
            f"{UNWATCHED_ENV}={raw!r}: give minutes as a number from 0 (off) to 10080 (a week)"
        )
    return minutes * 60


@dataclass
class _Job:
    id: str
    name: str
    device: str
    designs: list[tuple[str, Any]]
    config: ProbeConfig
    data: Dataset | None
    hook: Hook | None
    owner: str = ""
    kind: str = "probe"
    watched: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    on_done: Done | None = None
    state: JobState = "queued"
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    hook_errors: list[str] = field(default_factory=list)
    events: list[ProbeEvent] = field(default_factory=list)
    progress: dict[str, Progress] = field(default_factory=dict)
    cancel: StopSignal = field(default_factory=StopSignal)
    settled: threading.Event = field(default_factory=threading.Event)
    """Set once the job has finished and its ``on_done`` hook has run."""
    keep_models: bool = False
    then: Then | None = None
    phase: Phase = "training"
    analysis: Any = None
    analysis_progress: dict[str, Any] = field(default_factory=dict)
    result: Any = None


def queue_key(device: Any) -> str:
    """The queue of a device: ``cpu`` or ``cuda:N``. ``cuda`` is the current GPU's index, so jobs
    for ``auto``/``cuda`` and ``cuda:0`` on the same GPU share one queue (one job per GPU)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return f"cuda:{torch.cuda.current_device()}"
    return str(device)


class JobManager:
    """Queues probe jobs and runs them on worker threads, one job per device at a time."""

    def __init__(
        self,
        *,
        on_event: Hook | None = None,
        keep_finished: int = 50,
        unwatched_after: float | None = DEFAULT_UNWATCHED_MINUTES * 60,
    ) -> None:
        """``unwatched_after``: seconds a ``watched`` job may go without `touch` before it is
        stopped (None: never)."""
        self.unwatched_after = unwatched_after
        self._reaper: threading.Thread | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queues: dict[str, deque[str]] = {}
        self._running: dict[str, str | None] = {}
        self._wakeups: dict[str, threading.Condition] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._on_event = on_event
        self._keep_finished = keep_finished
        self._counter = itertools.count(1)

    # --- submitting -----------------------------------------------------------------------

    def submit(
        self,
        designs: Sequence[DesignSpec],
        config: ProbeConfig | None = None,
        *,
        data: Dataset | None = None,
        name: str = "",
        on_event: Hook | None = None,
        keep_models: bool = False,
        then: Then | None = None,
        owner: str = "",
        kind: str = "probe",
        watched: bool = False,
        on_done: Done | None = None,
    ) -> str:
        """Queue a probe; returns its job id. Bad designs or settings raise here, not later.

        ``keep_models``: keep the `ProbeResult` with the trained models (`result`). ``then``:
        work on the trained models run afterwards in the same device slot (see `Then`).
        ``owner``: who started it, as every session's job list shows it; ``kind``: what it is
        (``probe``, ``landscape``, ``lesion``...). ``watched``: stopped once its page stops
        calling `touch` for `unwatched_after` seconds. ``on_done(status)``: called once the job
        has finished, with its full `JobStatus`.
        """
        config = config or ProbeConfig()
        if not isinstance(config, ProbeConfig):
            raise ProbeError(f"config must be a ProbeConfig, got {type(config).__name__}")
        labelled = label_designs(designs)
        check_fits(labelled, config, data=data, keep_models=keep_models or then is not None)
        device = queue_key(training_device(config.device))
        job = _Job(
            id=f"{next(self._counter)}-{uuid.uuid4().hex[:8]}",
            name=name or ", ".join(label for label, _ in labelled),
            device=device,
            designs=labelled,
            config=config,
            data=data,
            hook=on_event,
            keep_models=keep_models,
            then=then,
            owner=str(owner)[:80],
            kind=kind,
            watched=watched,
            on_done=on_done,
            progress={
                run_key(label, seed, config.seeds): Progress(label, design.hash, seed)
                for label, design, seed in plan_runs(labelled, config)
            },
        )
        with self._lock:
            if self._closing:
                raise ProbeError("the server is shutting down; no new job is started")
            self._jobs[job.id] = job
            if watched and self.unwatched_after is not None:
                self._ensure_reaper()
            self._queues.setdefault(device, deque()).append(job.id)
            self._ensure_worker(device)
            self._wakeups[device].notify()
            self._evict()
        return job.id

    def _ensure_worker(self, device: str) -> None:
        if device in self._workers and self._workers[device].is_alive():
            return
        self._wakeups.setdefault(device, threading.Condition(self._lock))
        self._running.setdefault(device, None)
        worker = threading.Thread(
            target=self._work, args=(device,), name=f"probe-worker-{device}", daemon=True
        )
        self._workers[device] = worker
        worker.start()

    def _evict(self) -> None:
        finished = sorted(
            (j for j in self._jobs.values() if j.state in FINISHED),
            key=lambda j: j.finished_at or 0.0,
        )
        for job in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[job.id]

    # --- the worker -----------------------------------------------------------------------

    def _work(self, device: str) -> None:
        wakeup = self._wakeups[device]
        queue = self._queues[device]
        while True:
            with wakeup:
                while not queue:
                    wakeup.wait()
                job = self._jobs.get(queue.popleft())
                if job is None or job.state != "queued":  # cancelled while waiting
                    continue
                job.state, job.started_at = "running", time.time()
                self._running[device] = job.id
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running[device] = None

    def _run(self, job: _Job) -> None:
        try:
            probe = Probe(
                job.designs,
                job.config,
                data=job.data,
                cancel=job.cancel,
                keep_models=job.keep_models or job.then is not None,
            )
            for event in probe.events():
                self._record(job, event)
            if job.then is not None and not job.cancel.is_set():
                self._then(job, probe)
            if job.keep_models:
                job.result = probe.result
            cancelled = job.cancel.is_set() or probe.result.status == "cancelled"
            final = job_outcome((r.status for r in probe.result.runs), cancelled=cancelled)
            error = None
            if final == "failed":
                error = "; ".join(r.error or r.status for r in probe.result.runs)
        except Exception as exc:  # a job must never kill the worker
            final = "failed"
            error = str(exc) if isinstance(exc, ValueError) else traceback.format_exc(limit=3)
        with self._lock:
            job.state, job.error, job.finished_at = final, error, time.time()
            for item in job.progress.values():
                if item.status in ("pending", "running"):
                    item.status = final
        self._done(job)

    def _done(self, job: _Job) -> None:
        try:
            if job.on_done is not None:
                job.on_done(self.status(job.id))
        except Exception as exc:  # saving a result must not kill the worker
            with self._lock:
                job.hook_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            job.settled.set()

    def _then(self, job: _Job, probe: Probe) -> None:
        """Run the job's post-training work; its errors fail the job like training errors."""
        with self._lock:
            job.phase = "analysis"

        def report(fraction: float, text: str) -> None:
            with self._lock:
                job.analysis_progress = {"fraction": float(fraction), "text": str(text)}

        assert job.then is not None
        try:
            analysis = job.then(probe, job.cancel, report)
            with self._lock:
                job.analysis = analysis
                job.phase = "finished"
        finally:
            if not job.keep_models:
                for run in probe.result.runs:
                    run.model = None  # free the weights; the analysis holds what it needs

    def _record(self, job: _Job, event: ProbeEvent) -> None:
        with self._lock:
            job.events.append(event)
            label = getattr(event, "label", None)
            key = run_key(label, getattr(event, "seed", 0), job.config.seeds) if label else None
            item = job.progress.get(key)
            if item is not None:
                item.fold(event)
        for hook in (self._on_event, job.hook):
            if hook is None:
                continue
            try:
                hook(job.id, event)
            except Exception as exc:  # persisting must not stop training
                with self._lock:
                    if len(job.hook_errors) < 20:
                        job.hook_errors.append(f"{type(exc).__name__}: {exc}")

    # --- reading --------------------------------------------------------------------------

    def _get(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ProbeError(f"no probe job {job_id!r} (finished jobs are kept for a while only)")
        return job

    def position(self, job_id: str) -> int | None:
        """0 while running, k when k-th in its device's queue, None once finished."""
        with self._lock:
            job = self._get(job_id)
            if job.state == "running":
                return 0
            if job.state != "queued":
                return None
            waiting = [
                j
                for j in self._queues[job.device]
                if j in self._jobs and self._jobs[j].state == "queued"
            ]
            return waiting.index(job_id) + 1

    def status(self, job_id: str, *, since: int = 0) -> JobStatus:
        """State, position, per-design progress, events from ``since``, errors."""
        position = self.position(job_id)
        with self._lock:
            job = self._get(job_id)
            return JobStatus(
                id=job.id,
                name=job.name,
                state=job.state,
                position=position,
                device=job.device,
                config=job.config.to_dict(),
                designs=[p.snapshot(key, job.config.steps) for key, p in job.progress.items()],
                submitted_at=job.submitted_at,
                started_at=job.started_at,
                finished_at=job.finished_at,
                error=job.error,
                hook_errors=list(job.hook_errors),
                events=job.events[since:],
                next=len(job.events),
                phase=job.phase,
                analysis=job.analysis,
                analysis_progress=dict(job.analysis_progress),
                owner=job.owner,
                kind=job.kind,
                watched=job.watched,
                unwatched_for=time.monotonic() - job.last_seen if job.watched else None,
                stop_reason=job.cancel.reason,
            )

    def jobs(self) -> list[JobStatus]:
        """Every known job, oldest first (without their events)."""
        with self._lock:
            ids = list(self._jobs)
        out = []
        for job_id in ids:
            try:
                out.append(self.status(job_id, since=1 << 62))
            except ProbeError:  # evicted meanwhile
                continue
        return out

    def result(self, job_id: str) -> Any:
        """The `ProbeResult` (trained models included) of a job submitted with ``keep_models``,
        once it has finished; None otherwise."""
        with self._lock:
            return self._get(job_id).result

    def cancel(self, job_id: str, reason: str | None = None) -> bool:
        """Stop a queued job now or a running one at its next step; False if already finished.
        ``reason`` (e.g. "stopped from another session") is kept with the job and recorded as
        the run's error in the run history; None means its owner asked."""
        with self._lock:
            job = self._get(job_id)
            if job.state in FINISHED:
                return False
            job.cancel.stop(reason)
            if job.state != "queued":
                return True
            job.state, job.finished_at = "cancelled", time.time()
            for item in job.progress.values():
                item.status = "cancelled"
        self._done(job)
        return True

    def touch(self, job_id: str) -> None:
        """Its page still shows the job: reset its unwatched clock (unknown ids are ignored)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.last_seen = time.monotonic()

    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        self._reaper = threading.Thread(target=self._reap, name="probe-reaper", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        """Stop watched jobs whose page has been gone for `unwatched_after` seconds."""
        while not self._closing and self.unwatched_after is not None:
            limit = self.unwatched_after
            with self._lock:
                now = time.monotonic()
                stale = [
                    j.id
                    for j in self._jobs.values()
                    if j.watched and j.state not in FINISHED and now - j.last_seen > limit
                ]
            for job_id in stale:
                minutes = limit / 60
                self.cancel(
                    job_id,
                    f"stopped: its page was gone for {minutes:g} min (nobody watched it; "
                    f"{UNWATCHED_ENV} sets the time)",
                )
            time.sleep(min(5.0, max(0.05, limit / 4)))

    def shutdown(self, timeout: float = 30.0) -> list[str]:
        """Stop every job (``"stopped: the server shut down"``) and wait up to ``timeout``
        seconds for the running ones to finish, so their hooks record how they ended; no new
        job is accepted. Returns the ids of the jobs it stopped."""
        with self._lock:
            self._closing = True
            active = [j.id for j in self._jobs.values() if j.state not in FINISHED]
        for job_id in active:
            self.cancel(job_id, SHUTDOWN_REASON)
        deadline = time.monotonic() + timeout
        for job_id in active:
            self.wait(job_id, timeout=max(0.0, deadline - time.monotonic()))
        return active

    def wait(self, job_id: str, timeout: float | None = None) -> JobStatus:
        """Block until the job has finished and its ``on_done`` hook has run (or ``timeout``
        seconds); returns its status."""
        with self._lock:
            job = self._get(job_id)
        job.settled.wait(timeout)
        return self.status(job_id)


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> JobManager:
    """The process-wide `JobManager` (created on first use, its unwatched time from
    ``RESNET_EXPLORER_UNWATCHED_MINUTES``); it stops its jobs cleanly when the process exits."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager(unwatched_after=unwatched_after_from_env())
            atexit.register(_manager.shutdown)
        return _manager
