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
``update_ratio``. Design statuses map to the store's: ``done`` -> completed, ``cancelled`` ->
cancelled, ``diverged`` / ``oom`` / ``failed`` -> failed (the reason as the error).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.design import Design
from resnet_explorer.store import Store

_STATUS = {"done": "completed", "cancelled": "cancelled"}


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

    def __call__(self, job_id: str, event: dict[str, Any]) -> None:
        """The `JobManager` hook."""
        with self._lock:
            self._handle(job_id, event)

    def event(self, event: dict[str, Any], job_id: str = "local") -> None:
        """The same, as a `run_probe` ``on_event`` callback."""
        self(job_id, event)

    def _handle(self, job_id: str, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "probe_start":
            self._config[job_id] = {
                "probe": event.get("config", {}),
                "dataset": (event.get("dataset") or {}).get("name"),
                "device": event.get("device"),
            }
            return
        if kind == "probe_end":
            self._config.pop(job_id, None)
            return
        label = event.get("label")
        if label is None:
            return
        key = (job_id, label)
        if kind == "design_start":
            base = self._config.get(job_id, {})
            config = {
                **base.get("probe", {}),
                "label": label,
                "job": job_id,
                "dataset": base.get("dataset"),
                "device": base.get("device"),
                "source": self.source,
            }
            design = Design.from_dict(event["design"])
            run_id = self.store.start_run(design, config)
            self._open[key] = _Open(run_id)
            self.run_ids[key] = run_id
            return
        run = self._open.get(key)
        if run is None:
            return
        if kind == "step":
            run.pending.append(
                {
                    "step": event["step"],
                    "loss": event.get("loss"),
                    "acc": event.get("acc"),
                    "lr": event.get("lr"),
                    "elapsed": event.get("elapsed"),
                    "images_per_s": event.get("images_per_s"),
                }
            )
            if time.monotonic() - run.last_write >= self.flush_seconds:
                self._write(run, keep_last=True)
        elif kind == "eval":
            row = next((r for r in reversed(run.pending) if r["step"] == event["step"]), None)
            if row is not None:
                row.update(_eval_metrics(event))
        elif kind == "design_end":
            self._write(run, keep_last=False)
            status = _STATUS.get(event.get("status", ""), "failed")
            error = None
            if status == "failed":
                error = event.get("error") or f"{event.get('status')}: {event.get('reason')}"
            self.store.finish_run(run.run_id, status, error)
            del self._open[key]

    def _write(self, run: _Open, *, keep_last: bool) -> None:
        rows = run.pending[:-1] if keep_last else run.pending
        if rows:
            self.store.append_steps(run.run_id, rows)
            run.pending = run.pending[len(rows) :]
        run.last_write = time.monotonic()


def _eval_metrics(event: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "val_loss": event.get("held_out_loss"),
        "val_acc": event.get("held_out_acc"),
    }
    grads = event.get("grad_norm")
    if grads:
        out["grad_norm"] = grads.get("total")
        out["grad_blocks"] = grads.get("blocks", {})
    ratios = event.get("update_ratio")
    if ratios:
        out["update_ratio"] = ratios.get("total")
    return out
