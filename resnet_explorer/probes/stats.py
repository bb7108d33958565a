"""Honest conclusions from several seeds: intervals, bands and pairwise verdicts.

A probe's designs see the same batches for a given seed, so two designs are compared seed by
seed (paired): the difference of their final figures under each seed, and how often one ends
below the other. Intervals are 95 % bootstrap intervals of the mean over seeds (percentile
method, a fixed resampling seed, so the same runs always give the same interval) when there are
at least three seeds; with two seeds the interval is their min–max; with one there is none.
Every interval says which it is (`Interval.method`), and a pair is "not distinguishable at this
budget" when the interval of its difference contains zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np

LEVEL = 0.95
RESAMPLES = 10_000
_BOOTSTRAP_SEED = 20_151_210
#: The figures every summary compares: (name, lower is better).
METRICS: tuple[tuple[str, bool], ...] = (
    ("final_train_loss", True),
    ("held_out_acc", False),
    ("early_train_loss", True),
)

BOOTSTRAP = "bootstrap 95 % interval"
MIN_MAX = "min–max"
ONE = "one seed: no interval"


@dataclass(frozen=True)
class Interval:
    """The mean over ``n`` seeds and an interval ``[lo, hi]``, labelled with its ``method``."""

    mean: float
    lo: float
    hi: float
    n: int
    method: str

    def text(self, fmt: str = ".4f") -> str:
        """``0.0812 [0.0790, 0.0835]`` (or just the value for one seed)."""
        if self.n < 2:
            return format(self.mean, fmt)
        return f"{self.mean:{fmt}} [{self.lo:{fmt}}, {self.hi:{fmt}}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interval(values: Sequence[float], *, level: float = LEVEL) -> Interval | None:
    """The mean of the finite ``values`` and its interval (see the module doc); None if none."""
    x = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return None
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, mean, mean, 1, ONE)
    if x.size == 2:
        return Interval(mean, float(x.min()), float(x.max()), 2, f"{MIN_MAX} of 2 seeds")
    rng = np.random.default_rng(_BOOTSTRAP_SEED)
    means = x[rng.integers(0, x.size, (RESAMPLES, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(mean, float(lo), float(hi), int(x.size), f"{BOOTSTRAP} over {x.size} seeds")


def band(curves: Sequence[Sequence[float | None]]) -> dict[str, list[float | None]]:
    """Per step of several seeds' curves (aligned by index): the mean and a band, the bootstrap
    95 % interval of the mean where at least 3 seeds have the step, else their min–max (or
    nothing for one). ``{"mean", "lo", "hi", "n"}``, each a list as long as the longest curve."""
    length = max((len(c) for c in curves), default=0)
    table = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        table[i, : len(c)] = [np.nan if v is None else v for v in c]
    finite = np.isfinite(table)
    n = finite.sum(axis=0)
    mean = np.where(n > 0, np.where(finite, table, 0).sum(axis=0) / np.maximum(n, 1), np.nan)
    lo = np.where(n >= 2, np.where(finite, table, np.inf).min(axis=0, initial=np.inf), np.nan)
    hi = np.where(n >= 2, np.where(finite, table, -np.inf).max(axis=0, initial=-np.inf), np.nan)
    full = n == len(curves)
    if len(curves) >= 3 and full.any():
        rng = np.random.default_rng(_BOOTSTRAP_SEED)
        picks = rng.integers(0, len(curves), (2000, len(curves)))
        means = table[:, full][picks].mean(axis=1)  # (resamples, steps)
        b_lo, b_hi = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        lo[full], hi[full] = b_lo, b_hi

    def out(a: np.ndarray) -> list[float | None]:
        return [float(v) if math.isfinite(v) else None for v in a]

    return {"mean": out(mean), "lo": out(lo), "hi": out(hi), "n": [int(v) for v in n]}


def band_method(seeds: int) -> str:
    """What a band of ``seeds`` seeds shows, for a chart's legend."""
    if seeds >= 3:
        return f"mean of {seeds} seeds, band: {BOOTSTRAP}"
    if seeds == 2:
        return f"mean of 2 seeds, band: {MIN_MAX}"
    return "one seed"


@dataclass(frozen=True)
class Verdict:
    """Design ``a`` against ``b`` on ``metric``, seed by seed."""

    a: str
    b: str
    metric: str
    better: int
    """Seeds in which ``a`` ends better than ``b`` (lower loss, higher accuracy)."""
    n: int
    difference: Interval | None
    """``a - b``, mean over seeds and its interval."""
    distinguishable: bool
    text: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["difference"] = self.difference.to_dict() if self.difference else None
        return out


def compare(
    a: str,
    b: str,
    a_values: Mapping[int, float | None],
    b_values: Mapping[int, float | None],
    *,
    metric: str = "final_train_loss",
    lower_is_better: bool = True,
) -> Verdict:
    """Compare ``a`` and ``b`` on the seeds both finished (values keyed by seed)."""
    seeds = [s for s in a_values if s in b_values]
    pairs = [
        (a_values[s], b_values[s])
        for s in seeds
        if a_values[s] is not None and b_values[s] is not None
    ]
    diffs = [x - y for x, y in pairs if math.isfinite(x - y)]
    n = len(diffs)
    sign = -1 if lower_is_better else 1  # the sign of a - b when a is the better one
    better = sum(1 for d in diffs if d * sign > 0)
    diff = interval(diffs)
    name = metric.replace("_", " ")
    if diff is None or n < 2:
        text = f"{a} vs {b} ({name}): too few seeds for a verdict ({n} with both)"
        return Verdict(a, b, metric, better, n, diff, False, text)
    spans_zero = diff.lo <= 0 <= diff.hi
    a_first = diff.mean * sign >= 0
    first, second = (a, b) if a_first else (b, a)
    ahead = better if a_first else sum(1 for d in diffs if d * sign < 0)
    lo, mean, hi = (diff.lo, diff.mean, diff.hi) if a_first else (-diff.hi, -diff.mean, -diff.lo)
    where = f"difference {mean:+.4f} [{lo:+.4f}, {hi:+.4f}] ({diff.method})"
    word = "lower" if lower_is_better else "higher"
    if spans_zero:
        where = f"difference {diff.mean:+.4f} [{diff.lo:+.4f}, {diff.hi:+.4f}] ({diff.method})"
        text = f"{a} vs {b} ({name}): not distinguishable at this budget; {where}"
    else:
        text = f"{first} ends {word} than {second} in {ahead} of {n} seeds ({name}); {where}"
    return Verdict(a, b, metric, better, n, diff, not spans_zero, text)


def summarize(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per design label: seeds, and the interval of every metric in `METRICS`; and for every
    pair of labels, a `Verdict` per metric. Plain JSON data."""
    by_label: dict[str, dict[int, Mapping[str, Any]]] = {}
    for s in summaries:
        if s.get("status") in ("done", "diverged", "cancelled") and s.get("steps"):
            by_label.setdefault(s["label"], {})[s.get("seed", 0)] = s
    designs = {}
    for label, runs in by_label.items():
        entry: dict[str, Any] = {"seeds": sorted(runs)}
        for metric, _ in METRICS:
            found = interval([r.get(metric) for r in runs.values()])
            entry[metric] = found.to_dict() if found else None
        designs[label] = entry
    verdicts = []
    for a, b in combinations(by_label, 2):
        for metric, lower in METRICS:
            av = {seed: r.get(metric) for seed, r in by_label[a].items()}
            bv = {seed: r.get(metric) for seed, r in by_label[b].items()}
            verdicts.append(compare(a, b, av, bv, metric=metric, lower_is_better=lower).to_dict())
    return {"level": LEVEL, "designs": designs, "verdicts": verdicts}


def verdict(statistics: Mapping[str, Any], a: str, b: str, metric: str) -> dict[str, Any] | None:
    """The verdict of ``a`` against ``b`` on ``metric`` in a `summarize` result (either order;
    returned as ``a`` against ``b``: the difference is ``a - b``)."""
    for v in statistics.get("verdicts", []):
        if v["metric"] != metric:
            continue
        if (v["a"], v["b"]) == (a, b):
            return v
        if (v["a"], v["b"]) == (b, a):
            flipped = dict(v, a=a, b=b, better=v["n"] - v["better"])
            d = v["difference"]
            if d:
                flipped["difference"] = dict(d, mean=-d["mean"], lo=-d["hi"], hi=-d["lo"])
            return flipped
    return None
