"""Measured evaluation of one sample: latency and a short probe, with plain dicts in and out.

`evaluate_design(design_dict, options_dict)` is what a backend runs in a worker (a local
process or a Ray task): it takes JSON-able data and returns JSON-able metrics, so it crosses
process and machine boundaries unchanged. Every sample of a run gets the same `EvalOptions`:
the same data, seed, steps and batch size.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from resnet_explorer.design import Design
from resnet_explorer.errors import ResNetExplorerError

#: ProbeConfig settings an exploration fixes unless the options say otherwise: small and quick.
PROBE_DEFAULTS: dict[str, Any] = {
    "dataset": "mnist",
    "batch_size": 64,
    "eval_every": 0,
    "eval_size": 500,
    "diagnostics": False,
    "seed": 0,
}


class EvalError(ResNetExplorerError, ValueError):
    """Invalid evaluation options."""


@dataclass(frozen=True)
class EvalOptions:
    """What to measure for each sample beyond the analytic counts.

    ``latency``: inference latency at ``latency_batch`` on ``device`` (median, ms).
    ``probe_steps``: train each sample this many steps (None: no probe) with ``probe`` settings
    (any `ProbeConfig` field; `PROBE_DEFAULTS` otherwise). ``threads``: CPU threads per job.
    """

    latency: bool = False
    latency_batch: int = 1
    latency_budget_s: float = 2.0
    probe_steps: int | None = None
    probe: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = 1

    def __post_init__(self) -> None:
        if not isinstance(self.latency_batch, int) or not 1 <= self.latency_batch <= 4096:
            raise EvalError(f"latency_batch={self.latency_batch!r}: 1..4096")
        budget = self.latency_budget_s
        if not isinstance(budget, (int, float)) or not 0 < budget <= 600:
            raise EvalError(f"latency_budget_s={budget!r}: seconds in (0, 600]")
        if self.probe_steps is not None and (
            not isinstance(self.probe_steps, int) or not 1 <= self.probe_steps <= 1_000_000
        ):
            raise EvalError(f"probe_steps={self.probe_steps!r}: a whole number >= 1")
        if self.device not in ("cpu", "cuda", "auto"):
            raise EvalError(f"device={self.device!r}: cpu, cuda or auto")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise EvalError(f"threads={self.threads!r}: >= 1")
        if self.probe_steps is not None:
            self.probe_config()  # validates the probe settings now, not in a worker

    @property
    def measured(self) -> bool:
        """True when samples need a worker (latency or a probe)."""
        return self.latency or self.probe_steps is not None

    def probe_config(self) -> Any:
        """The `ProbeConfig` every sample is trained with."""
        from resnet_explorer.probes import ProbeConfig, ProbeError

        settings = {**PROBE_DEFAULTS, **self.probe}
        settings.update(steps=self.probe_steps, device=self.device, threads=self.threads)
        settings.setdefault("log_every", min(10, self.probe_steps or 10))
        try:
            return ProbeConfig.from_dict(settings)
        except ProbeError as exc:
            raise EvalError(str(exc)) from None

    def check_data(self) -> None:
        """Refuse (`EvalError`) a probe dataset that cannot be loaded, before any work: an
        unknown name, a missing folder, a folder without images (loaded here, once)."""
        if self.probe_steps is None:
            return
        from resnet_explorer.probes import ProbeError
        from resnet_explorer.probes import data as probe_data

        config = self.probe_config()
        name = config.dataset
        try:
            if name == "mnist":
                probe_data.mnist_path()
            elif name not in probe_data.DATASETS:
                probe_data.load_dataset(name, image_size=config.image_size or 32)
        except ProbeError as exc:
            raise EvalError(f"probe dataset {name!r}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalOptions:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise EvalError(f"unknown evaluation option(s): {', '.join(sorted(unknown))}")
        return cls(**data)


_DATA_CACHE: dict[tuple, Any] = {}


def _dataset(config: Any, design: Design) -> Any:
    """The probe's data, loaded once per worker process (every sample sees the same data)."""
    from resnet_explorer.probes.data import load_dataset

    size = config.image_size or design.image_size
    key = (config.dataset, size, design.in_channels, design.num_classes, config.seed)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_dataset(
            config.dataset,
            image_size=size,
            channels=design.in_channels,
            num_classes=design.num_classes,
            seed=config.seed,
        )
    return _DATA_CACHE[key]


def _finite(x: Any) -> Any:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def measure_latency(design: Design, options: EvalOptions) -> dict[str, Any]:
    """Median inference latency of one batch, via `analysis.latency`."""
    from resnet_explorer.analysis.latency import LatencyOptions, latency

    report = latency(
        design,
        LatencyOptions(
            batch_sizes=(options.latency_batch,),
            device=options.device,
            modes=("inference",),
            budget_s=options.latency_budget_s,
            min_run_time_s=min(0.5, options.latency_budget_s / 3),
            num_threads=options.threads,
        ),
    )
    row = report.rows[0] if report.rows else None
    if row is None:
        return {
            "latency_status": "failed",
            "latency_ms": None,
            "images_per_s": None,
            "latency_message": "no measurement came back",
        }
    median = getattr(row, "median_s", None)
    return {
        "latency_status": row.status,
        "latency_ms": _finite(median * 1000) if median is not None else None,
        "images_per_s": _finite(getattr(row, "images_per_s", None)),
        "latency_message": row.message or None,
    }


def missing_metrics(metrics: dict[str, Any], options: dict[str, Any]) -> str | None:
    """Why a metric that ``options`` asked for is missing from ``metrics`` (None: all there).

    A sample whose latency was not measured (over the time budget on a loaded machine, out of
    memory) or whose probe gave no held-out error is *cut short*, never ``ok`` with a gap.
    """
    reasons = []
    if options.get("latency") and metrics.get("latency_ms") is None:
        status = metrics.get("latency_status") or "not measured"
        detail = metrics.get("latency_message")
        reasons.append(f"latency {status}" + (f": {detail}" if detail else ""))
    if options.get("probe_steps") is not None and metrics.get("error") is None:
        status = metrics.get("probe_status") or "not run"
        detail = metrics.get("probe_message")
        reasons.append(f"probe {status}" + (f": {detail}" if detail else ""))
    return "; ".join(reasons) or None


def run_probe_on(design: Design, options: EvalOptions) -> dict[str, Any]:
    """Train ``design`` for ``probe_steps`` and report its held-out error. With several seeds
    (``probe={"seeds": N}``) the figures are means over the seeds, and ``error_lo`` /
    ``error_hi`` the interval of the mean error (`probes.stats.interval`)."""
    from resnet_explorer.probes import stats
    from resnet_explorer.probes.runner import Probe

    config = options.probe_config()
    probe = Probe([("sample", design)], config, data=_dataset(config, design))
    for _ in probe.events():
        pass
    runs = probe.result.summaries()
    first = runs[0]

    def mean(key: str, fn=lambda v: v) -> float | None:
        found = stats.interval([fn(r[key]) for r in runs if r.get(key) is not None])
        return _finite(found.mean) if found else None

    out = {
        "probe_status": first["status"],
        "error": mean("held_out_acc", lambda a: 1.0 - a),
        "held_out_loss": mean("held_out_loss"),
        "train_loss": mean("final_train_loss"),
        "train_seconds": sum(r["train_seconds"] for r in runs),
        "probe_message": first.get("error") or first.get("reason"),
    }
    if config.seeds > 1:
        errors = [1.0 - r["held_out_acc"] for r in runs if r.get("held_out_acc") is not None]
        found = stats.interval(errors)
        out.update(
            probe_seeds=config.seeds,
            error_lo=_finite(found.lo) if found else None,
            error_hi=_finite(found.hi) if found else None,
        )
    return out


def evaluate_design(design: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Worker entry point: a design dict and `EvalOptions.to_dict()` in, metrics out.

    A failing measurement raises (the backend marks the sample failed with the message).
    """
    opts = EvalOptions.from_dict(options)
    d = Design.from_dict(design)
    if opts.threads is not None and opts.device != "cuda":
        import torch

        torch.set_num_threads(opts.threads)
    out: dict[str, Any] = {}
    if opts.latency:
        out.update(measure_latency(d, opts))
    if opts.probe_steps is not None:
        out.update(run_probe_on(d, opts))
    return out
