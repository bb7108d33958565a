"""What the library holds about a design beyond its counts: measured latency (profiles) and
probe runs with their per-step curves. Every reader takes a `Store` and never writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from resnet_explorer.report.metrics import Latency
from resnet_explorer.store import Run, SavedProfile, Store

#: Per-step keys that are not metrics to plot.
NOT_METRICS = ("step", "time")


@dataclass(frozen=True)
class RunCurve:
    """One probe run of a design and its recorded steps (flat rows: step, loss, acc, ...)."""

    design: str  # the name of the design it belongs to in this comparison
    run: Run
    rows: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        return f"{self.design} · {self.run.run_id[:8]} ({self.run.status})"


def latency_from_profile(profile: SavedProfile) -> Latency | None:
    """The inference latency of a stored profile: its 'ok' inference row with the smallest
    batch. ``results`` is a profile document (``{"latency": {...}}``) or a latency report."""
    results = profile.results or {}
    report = results.get("latency") if isinstance(results.get("latency"), Mapping) else results
    rows = report.get("rows") if isinstance(report, Mapping) else None
    if not isinstance(rows, list):
        return None
    best = None
    for row in rows:
        if not isinstance(row, Mapping) or row.get("mode", "inference") != "inference":
            continue
        seconds, batch = row.get("median_s"), row.get("batch_size")
        if row.get("status", "ok") != "ok" or not _positive(seconds) or not _positive(batch):
            continue
        if best is None or batch < best["batch_size"]:
            best = row
    if best is None:
        return None
    device = str(report.get("device") or profile.device or "?")
    return Latency(
        seconds=float(best["median_s"]),
        batch_size=int(best["batch_size"]),
        device=device,
        device_name=str(report.get("device_name") or device),
        precision=str(report.get("precision") or "fp32"),
        measured=profile.created,
    )


def measured_latency(store: Store, design_hash: str) -> Latency | None:
    """The newest inference latency kept in the library for this design, if any."""
    for profile in store.profiles(design_hash=design_hash):
        found = latency_from_profile(profile)
        if found is not None:
            return found
    return None


def run_curves(
    store: Store, named_hashes: Iterable[tuple[str, str]], *, per_design: int = 5
) -> list[RunCurve]:
    """The newest ``per_design`` runs (with steps) of each ``(name, design_hash)``."""
    curves = []
    for name, design_hash in named_hashes:
        for run in store.runs(design_hash=design_hash, limit=per_design):
            rows = tuple(step.row() for step in store.steps(run.run_id))
            if rows:
                curves.append(RunCurve(name, run, rows))
    return curves


def curve_metrics(curves: Iterable[RunCurve]) -> list[str]:
    """The numeric per-step keys present in ``curves`` (loss first, then acc, then the rest)."""
    found: dict[str, None] = {}
    for curve in curves:
        for row in curve.rows:
            for key, value in row.items():
                if key not in NOT_METRICS and _number(value):
                    found.setdefault(key)
    preferred = [k for k in ("loss", "acc", "val_loss", "val_acc", "lr") if k in found]
    return preferred + sorted(k for k in found if k not in preferred)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return _number(value) and value > 0
