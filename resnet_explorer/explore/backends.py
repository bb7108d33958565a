"""Where measured evaluation runs: a local process pool, or a Ray cluster.

A backend takes `Task`s (an index, a plain design dict, plain options), runs an evaluation
function on each (default `evaluate.evaluate_design`) and reports every task exactly once
through ``on_result`` as an `Outcome`: ``ok`` with metrics, ``failed`` with the error (an
exception in the evaluation, or a worker that died more than ``max_retries`` times), or
``cancelled``. A dead worker's task is retried; nothing is lost silently.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.errors import ResNetExplorerError
from resnet_explorer.explore.evaluate import evaluate_design

EvalFn = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
CancelCheck = Callable[[], bool]


class BackendError(ResNetExplorerError, ValueError):
    """A backend that cannot run as asked (a bad worker count, no cluster, Ray missing)."""


@dataclass(frozen=True)
class Task:
    """One sample to evaluate: plain data only."""

    index: int
    design: dict[str, Any]
    options: dict[str, Any]


@dataclass
class Outcome:
    """What came back for one task."""

    index: int
    status: str  # ok | failed | cancelled
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 1


OnResult = Callable[[Outcome], None]


class Backend:
    """Base class: `run` evaluates every task and calls ``on_result`` once per task.

    A subclass implements `_run` (called with at least one task); ``max_retries``,
    ``evaluate`` and ``poll_s`` (how often it looks for finished tasks) mean the same to each.
    """

    name = "base"

    def __init__(self, *, max_retries: int, evaluate: EvalFn, poll_s: float) -> None:
        self.max_retries = max_retries
        self.evaluate = evaluate
        self.poll_s = poll_s

    def run(
        self,
        tasks: Sequence[Task],
        on_result: OnResult,
        cancel: CancelCheck | None = None,
    ) -> None:
        """Evaluate ``tasks``; ``on_result`` once per task; ``cancel()`` true: stop, and
        report every unfinished task ``cancelled``."""
        if tasks:
            self._run(tasks, on_result, cancel or _never)

    def _run(self, tasks: Sequence[Task], on_result: OnResult, cancel: CancelCheck) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


def _never() -> bool:
    return False


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class LocalBackend(Backend):
    """A process pool on this machine (spawned workers; torch is imported only there).

    ``workers``: processes (default: 1 on a GPU or when latency is measured, so timings do not
    compete; else one per core). ``workers=0`` runs in this process, one task at a time.
    A worker that dies breaks the pool: the pool is restarted and every task that was running
    is retried, up to ``max_retries`` times, then marked failed.
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        max_retries: int = 2,
        evaluate: EvalFn = evaluate_design,
        poll_s: float = 0.1,
    ) -> None:
        if workers is not None and workers < 0:
            raise BackendError(f"workers={workers}: >= 0")
        super().__init__(max_retries=max_retries, evaluate=evaluate, poll_s=poll_s)
        self.workers = workers

    def resolved_workers(self, tasks: Sequence[Task]) -> int:
        if self.workers is not None:
            return self.workers
        options = tasks[0].options if tasks else {}
        if options.get("latency") or (options.get("device") in ("cuda", "auto") and _has_cuda()):
            return 1
        return max(1, min(_cpus(), len(tasks)))

    def describe(self) -> str:
        return f"local ({self.workers if self.workers is not None else 'auto'} workers)"

    def _run(self, tasks: Sequence[Task], on_result: OnResult, cancel: CancelCheck) -> None:
        workers = self.resolved_workers(tasks)
        if workers == 0:
            self._run_inline(tasks, on_result, cancel)
        else:
            self._run_pool(tasks, workers, on_result, cancel)

    def _run_inline(self, tasks, on_result, cancel) -> None:
        for i, task in enumerate(tasks):
            if cancel():
                for rest in tasks[i:]:
                    on_result(Outcome(rest.index, "cancelled", attempts=0))
                return
            on_result(_call(self.evaluate, task, 1))

    def _run_pool(self, tasks, workers, on_result, cancel) -> None:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        context = mp.get_context("spawn")
        pending = deque(tasks)
        attempts: dict[int, int] = {}
        running: dict[Any, Task] = {}
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            while pending or running:
                if cancel():
                    _kill(pool)
                    for task in [*running.values(), *pending]:
                        on_result(
                            Outcome(task.index, "cancelled", attempts=attempts.get(task.index, 0))
                        )
                    return
                while pending and len(running) < workers:
                    task = pending.popleft()
                    attempts[task.index] = attempts.get(task.index, 0) + 1
                    running[pool.submit(self.evaluate, task.design, task.options)] = task
                done, _ = wait(list(running), timeout=self.poll_s, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    task = running.pop(future)
                    tries = attempts[task.index]
                    try:
                        metrics = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if tries <= self.max_retries:
                            pending.appendleft(task)
                        else:
                            on_result(_died(task, tries))
                    except Exception as exc:
                        on_result(
                            Outcome(task.index, "failed", error=_message(exc), attempts=tries)
                        )
                    else:
                        on_result(Outcome(task.index, "ok", metrics, attempts=tries))
                if broken:
                    for future, task in list(running.items()):  # the whole pool went down
                        running.pop(future)
                        if attempts[task.index] <= self.max_retries:
                            pending.appendleft(task)
                        else:
                            on_result(_died(task, attempts[task.index]))
                    _kill(pool)
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def _kill(pool: Any) -> None:
    """Stop a process pool now, running tasks included."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def _died(task: Task, tries: int) -> Outcome:
    return Outcome(task.index, "failed", error=f"worker died ({tries} attempts)", attempts=tries)


def _call(fn: EvalFn, task: Task, attempt: int) -> Outcome:
    try:
        return Outcome(task.index, "ok", fn(task.design, task.options), attempts=attempt)
    except Exception as exc:
        return Outcome(task.index, "failed", error=_message(exc), attempts=attempt)


class RayBackend(Backend):
    """Tasks on a Ray cluster: plain design dicts go out, metric dicts come back.

    ``address``: the cluster (default ``RAY_ADDRESS``; ``"local"`` starts one here on
    127.0.0.1). When this process is already connected to Ray, that connection is used. Ray
    retries a task whose worker died up to ``max_retries`` times; after that the sample is
    marked failed. Cancellation cancels every unfinished task (``force=True``). Workers must
    be able to import ``resnet_explorer``: it is shipped with the job (``py_modules``) when this
    backend connects.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        max_retries: int = 2,
        num_cpus: float = 1,
        num_gpus: float = 0,
        evaluate: EvalFn = evaluate_design,
        poll_s: float = 0.2,
    ) -> None:
        super().__init__(max_retries=max_retries, evaluate=evaluate, poll_s=poll_s)
        self.address = ray_address(address)
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def describe(self) -> str:
        return f"ray ({self.address or 'connected'})"

    def _connect(self) -> bool:
        """Connect unless already connected; True when this call connected (and must shut down)."""
        import ray

        if ray.is_initialized():
            return False
        if not self.address:
            raise BackendError(
                "the Ray backend needs a cluster address: set RAY_ADDRESS or give --ray-address "
                "(use 'local' to start a single-machine Ray here)"
            )
        import resnet_explorer

        kwargs: dict[str, Any] = {
            "runtime_env": {"py_modules": [os.path.dirname(resnet_explorer.__file__)]},
            "log_to_driver": False,
        }
        if self.address == "local":
            kwargs.update(address="local", include_dashboard=False, _node_ip_address="127.0.0.1")
        else:
            kwargs["address"] = self.address
        ray.init(**kwargs)
        return True

    def _run(self, tasks: Sequence[Task], on_result: OnResult, cancel: CancelCheck) -> None:
        import ray
        from ray import exceptions as rex

        owned = self._connect()
        try:
            remote = ray.remote(
                max_retries=self.max_retries,
                retry_exceptions=False,
                num_cpus=self.num_cpus,
                num_gpus=self.num_gpus,
            )(self.evaluate)
            refs = {remote.remote(t.design, t.options): t for t in tasks}
            while refs:
                if cancel():
                    for ref in refs:
                        ray.cancel(ref, force=True)
                    for task in refs.values():
                        on_result(Outcome(task.index, "cancelled", attempts=0))
                    return
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=self.poll_s)
                for ref in ready:
                    task = refs.pop(ref)
                    try:
                        metrics = ray.get(ref)
                    except rex.RayTaskError as exc:  # the evaluation raised
                        cause = exc.cause if exc.cause is not None else exc
                        on_result(Outcome(task.index, "failed", error=_message(cause)))
                    except (rex.WorkerCrashedError, rex.NodeDiedError, rex.RayError) as exc:
                        tries = self.max_retries + 1
                        on_result(
                            Outcome(
                                task.index,
                                "failed",
                                error=f"worker died ({tries} attempts): {type(exc).__name__}",
                                attempts=tries,
                            )
                        )
                    else:
                        on_result(Outcome(task.index, "ok", metrics))
        finally:
            if owned:
                ray.shutdown()


#: How to get Ray (the version the tests run against).
RAY_INSTALL = "pip install 'ray[default]==2.60.0'"
BACKENDS = ("local", "ray")


def ray_address(address: str | None = None) -> str | None:
    """The Ray cluster to use: ``address`` (a CLI flag) or ``$RAY_ADDRESS``. A cluster address
    is server configuration, never a field of the web page (results come back unpickled from
    whatever answers at that address)."""
    return address or os.environ.get("RAY_ADDRESS") or None


def make_backend(name: str, *, address: str | None = None, workers: int | None = None) -> Backend:
    """The backend called ``name`` (``local`` or ``ray``), checked before any work: the one way
    the CLI and the app build one. `BackendError` when it cannot run (no Ray package, no
    cluster address, a bad worker count)."""
    if name == "local":
        return LocalBackend(workers)
    if name != "ray":
        raise BackendError(f"backend {name!r}: use {' or '.join(BACKENDS)}")
    try:
        import ray
    except ImportError:
        raise BackendError(
            f"the Ray backend needs the 'ray' package, which is not installed: {RAY_INSTALL} "
            "(or use the local backend)"
        ) from None
    backend = RayBackend(ray_address(address))
    if not backend.address and not ray.is_initialized():
        raise BackendError(
            "the Ray backend needs a cluster: set RAY_ADDRESS (or pass --ray-address); "
            "'local' starts a single-machine Ray here"
        )
    return backend
