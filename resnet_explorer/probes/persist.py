"""Persist probe runs in the library (`resnet_explorer.store`) as they happen.

`StoreWriter(store)` is an ``on_event(job_id, event)`` hook for `jobs.JobManager.submit` (or,
through `StoreWriter.event`, for `run_probe`'s ``on_event``): each design of a probe becomes one
run in the store, started when the design starts, its per-step metrics appended while it trains
(committed about every second), and finished however the design ends.

A run's ``config`` is the probe's settings plus ``label``, ``job`` (the job id), ``dataset`` and
``source``; its design is the design actually trained (the probe may override the input size and
the number of classes to fit the data). Each step row holds ``loss``, ``acc``, ``lr``,
``elapsed`` (training seconds) and ``images_per_s``; the step an evaluation follows also gets
``val_loss``, ``val_acc``, ``grad_norm`` (total), ``grad_blocks`` (``{block: norm}``) and
``update_ratio``. Design statuses map to the store's with `status.stored_status`: ``done`` ->
completed, ``cancelled`` -> cancelled, ``diverged`` / ``oom`` / ``failed`` -> failed (the reason
as the error). A run stopped by someone else, by the server's shutdown or because its page was
gone keeps that reason as its error, so the run history says why it ended.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.design import Design
from resnet_explorer.probes.events import (
    DesignEnd,
    DesignStart,
    Eval,
    ProbeEnd,
    ProbeEvent,
    ProbeStart,
    Step,
)
from resnet_explorer.probes.runner import run_key
from resnet_explorer.status import stored_status
from resnet_explorer.store import Store


@dataclass
class _Open:
    run_id: str
    pending: list[dict[str, Any]] = field(default_factory=list)
    last_write: float = field(default_factory=time.monotonic)


class StoreWriter:
    """Writes every design of a probe to ``store`` as one run, step by step.

    ``flush_seconds``: steps are committed when this much time has passed since the last commit
    (the last step is held back until the next one arrives, so an evaluation of that step can be
    merged into its row). Thread-safe; one writer can serve many jobs.
    """

    def __init__(self, store: Store, *, source: str = "app", flush_seconds: float = 1.0) -> None:
        self.store = store
        self.source = source
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._config: dict[str, dict[str, Any]] = {}
        self._open: dict[tuple[str, str], _Open] = {}
        self.run_ids: dict[tuple[str, str], str] = {}
        """(job id, design label) -> run id, for every run this writer started."""

    def __call__(self, job_id: str, event: ProbeEvent) -> None:
        """The `JobManager` hook."""
        with self._lock:
            self._handle(job_id, event)

    def event(self, event: ProbeEvent, job_id: str = "local") -> None:
        """The same, as a `run_probe` ``on_event`` callback."""
        self(job_id, event)

    def _handle(self, job_id: str, event: ProbeEvent) -> None:
        if isinstance(event, ProbeStart):
            self._config[job_id] = {
                "probe": event.config,
                "dataset": (event.dataset or {}).get("name"),
                "device": event.device,
            }
            return
        if isinstance(event, ProbeEnd):
            self._config.pop(job_id, None)
            return
        seeds = self._config.get(job_id, {}).get("probe", {}).get("seeds", 1)
        key = (job_id, run_key(event.label, getattr(event, "seed", 0), seeds))
        if isinstance(event, DesignStart):
            self._start(job_id, key, event)
            return
        run = self._open.get(key)
        if run is None:
            return
        if isinstance(event, Step):
            run.pending.append(step_row(event))
            if time.monotonic() - run.last_write >= self.flush_seconds:
                self._write(run, keep_last=True)
        elif isinstance(event, Eval):
            row = next((r for r in reversed(run.pending) if r["step"] == event.step), None)
            if row is not None:
                row.update(_eval_metrics(event))
        elif isinstance(event, DesignEnd):
            self._write(run, keep_last=False)
            status = stored_status(event.status)
            error = event.stop_reason  # a cancelled run says why when nobody asked for it
            if status == "failed":
                error = event.error or f"{event.status}: {event.reason}"
            self.store.finish_run(run.run_id, status, error)
            del self._open[key]

    def _start(self, job_id: str, key: tuple[str, str], event: DesignStart) -> None:
        base = self._config.get(job_id, {})
        config = run_config(base, event.label, job_id, self.source, event.seed)
        run_id = self.store.start_run(Design.from_dict(event.design), config)
        self._open[key] = _Open(run_id)
        self.run_ids[key] = run_id

    def _write(self, run: _Open, *, keep_last: bool) -> None:
        rows = run.pending[:-1] if keep_last else run.pending
        if rows:
            self.store.append_steps(run.run_id, rows)
            run.pending = run.pending[len(rows) :]
        run.last_write = time.monotonic()


#: How a run's batches were drawn, recorded with every run so that it can be repeated.
DATA_ORDER = (
    "batches drawn without replacement, epoch after epoch, from a generator seeded by the run's "
    "seed; augmentation from a generator seeded by seed + 1; the initial weights from the seed; "
    "the dataset and its train / held-out split fixed (independent of the seed)"
)


def run_config(
    base: dict[str, Any], label: str, job_id: str, source: str, seed: int = 0
) -> dict[str, Any]:
    """A stored run's config: the probe's settings (with the run's own ``seed``; ``seeds`` is
    how many the probe ran) plus label, job, dataset, device, source and the data order."""
    return {
        **base.get("probe", {}),
        "seed": seed,
        "label": label,
        "job": job_id,
        "dataset": base.get("dataset"),
        "device": base.get("device"),
        "source": source,
        "data_order": DATA_ORDER,
    }


def step_row(event: Step) -> dict[str, Any]:
    """A stored step row of one training step."""
    return {
        "step": event.step,
        "loss": event.loss,
        "acc": event.acc,
        "lr": event.lr,
        "elapsed": event.elapsed,
        "images_per_s": event.images_per_s,
    }


class StudyWriter:
    """Saves a study job (training, then a study of the trained weights: landscape, lesion) in
    the run history once it has finished: one run per design, its training steps as the run's
    steps, and in its config ``study`` (the kind), ``spec`` (the study's settings) and
    ``result`` (that design's study result), with the label ``"<kind>: <design>"``.

    Use `on_done` as the job's ``on_done`` hook. A study is short and its result is only known
    at the end, so nothing is written while it runs; a study that was stopped or failed is saved
    as cancelled / failed with what it had.
    """

    def __init__(self, store: Store, kind: str, spec: dict[str, Any], *, source: str = "app"):
        self.store, self.kind, self.spec, self.source = store, kind, dict(spec), source
        self.run_ids: dict[tuple[str, str], str] = {}

    def on_done(self, status: Any) -> None:
        """The `JobManager` ``on_done`` hook: write every design that started training."""
        start = next((e for e in status.events if isinstance(e, ProbeStart)), None)
        if start is None:  # stopped while queued: nothing trained, nothing to keep
            return
        base = {"probe": start.config, "dataset": start.dataset.get("name"), "device": start.device}
        results = {d["label"]: d.get(self.kind) for d in (status.analysis or {}).get("designs", [])}
        for event in status.events:
            if isinstance(event, DesignStart):
                self._save(status, base, event, results.get(event.label))

    def _save(self, status: Any, base: dict, start: DesignStart, result: Any) -> None:
        label = start.label
        config = run_config(base, f"{self.kind}: {label}", status.id, self.source, start.seed)
        config.update(study=self.kind, spec=self.spec, result=result)
        rows: dict[int, dict[str, Any]] = {}
        end = None
        for e in status.events:
            if getattr(e, "label", None) != label or getattr(e, "seed", 0) != start.seed:
                continue
            if isinstance(e, Step):
                rows[e.step] = step_row(e)
            elif isinstance(e, Eval) and e.step in rows:
                rows[e.step].update(_eval_metrics(e))
            elif isinstance(e, DesignEnd):
                end = e
        run_id = self.store.start_run(Design.from_dict(start.design), config)
        self.run_ids[(status.id, label)] = run_id
        self.store.append_steps(run_id, list(rows.values()))
        stored, error = _study_outcome(status, end, result)
        self.store.finish_run(run_id, stored, error)


def _study_outcome(status: Any, end: DesignEnd | None, result: Any) -> tuple[str, str | None]:
    """How a study's run ended: completed with a result; else cancelled or failed, and why."""
    if status.state == "cancelled" or (end is not None and end.status == "cancelled"):
        return "cancelled", status.stop_reason or (end.stop_reason if end else None)
    if end is not None and end.status != "done":
        return "failed", end.error or f"{end.status}: {end.reason}"
    if status.state == "failed" or result is None:
        return "failed", status.error or "the study produced no result"
    return "completed", None


def _eval_metrics(event: Eval) -> dict[str, Any]:
    out: dict[str, Any] = {"val_loss": event.held_out_loss, "val_acc": event.held_out_acc}
    grads = event.grad_norm
    if grads:
        out["grad_norm"] = grads.get("total")
        out["grad_blocks"] = grads.get("blocks", {})
    ratios = event.update_ratio
    if ratios:
        out["update_ratio"] = ratios.get("total")
    if event.signal:
        blocks = event.signal["blocks"]
        out["signal_ratio"] = {k: v["variance_ratio"] for k, v in blocks.items()}
        out["signal_grad"] = {k: v["grad_norm"] for k, v in blocks.items()}
    return out
