"""Draw designs from a `Space`, seeded, keeping only valid designs within the budget.

Every draw either becomes a `Sample` (a valid `Design`, the knob values that made it and its
analytic figures) or is rejected with a reason: an invalid combination (the `DesignError`
message, numbers replaced by ``#`` so alike problems count together), a body rule (widths
decrease, too many stages), a constraint (``macs > max``), or the engine's size cap. Nothing is
built: only the plan's analytic counts (`plan.counts.bounded_totals`) are used, and only as far
as needed to know a draw is over budget.
"""

from __future__ import annotations

import gc
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import inf
from typing import Any

import numpy as np

from resnet_explorer.design import Design, default_final_norm
from resnet_explorer.errors import DesignError
from resnet_explorer.explore.space import (
    BOTTLENECK_ONLY,
    MAX_STAGES,
    RegNetBody,
    Space,
    SpaceKnob,
    StagesBody,
    check_request,
    default_strides,
)
from resnet_explorer.limits import BYTES_PER_VALUE, Limits
from resnet_explorer.plan.counts import bounded_totals, network_totals
from resnet_explorer.plan.ops import Totals
from resnet_explorer.regnet import compatible_widths, quantized_widths_many

_NUMBER = re.compile(r"\d+(\.\d+)?(e[+-]?\d+)?")


@dataclass
class Sample:
    """One accepted design: its index in the run, the knob values drawn and analytic figures."""

    index: int
    design: Design
    knobs: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def hash(self) -> str:
        return self.design.hash


@dataclass
class SampleReport:
    """What sampling did: the samples, how many draws it took, and why the others were rejected."""

    samples: list[Sample]
    requested: int
    seed: int
    draws: int = 0
    rejected: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    exhausted: bool = False
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The counts (not the samples) as plain JSON."""
        return {
            "requested": self.requested,
            "accepted": len(self.samples),
            "seed": self.seed,
            "draws": self.draws,
            "rejected": dict(self.rejected.most_common()),
            "examples": self.examples,
            "seconds": round(self.seconds, 4),
            "exhausted": self.exhausted,
            "cancelled": self.cancelled,
        }


class _Reject(Exception):
    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message or reason


def metrics_from_totals(t: Totals, depth: int) -> dict[str, Any]:
    """The analytic metrics recorded for every sample (one image)."""
    return {
        "params": t.params,
        "macs": t.macs,
        "flops": t.flops,
        "activations": t.activations,
        "activation_mb": round(t.outputs * BYTES_PER_VALUE / 2**20, 4),
        "depth": depth,
    }


def _largest(knob: SpaceKnob) -> tuple[int]:
    return (max(knob.choices) if knob.choices is not None else int(knob.high),)  # type: ignore[arg-type,type-var]


def _allows(knob: SpaceKnob, value: int) -> bool:
    if knob.choices is not None:
        return value in knob.choices
    return knob.low <= value <= knob.high  # type: ignore[operator]


def _group_compatible(data: dict[str, Any]) -> None:
    """RegNet: make each stage's 3x3 width a whole number of groups of the drawn group width
    (pycls's ``adjust_block_compatibility``, `regnet.compatible_widths`), as `Design.regnet`."""
    group_width = data.get("group_width")
    if group_width is None or data.get("block") != "bottleneck":
        return
    ratio = data.get("bottleneck_ratio") or 1.0
    stages = data["stages"]
    adjusted = compatible_widths([s["width"] for s in stages], ratio, group_width)
    for stage, (width, group) in zip(stages, adjusted, strict=True):
        stage["width"] = width
        if group != group_width:
            stage["group_width"] = group


def _reason_key(message: str) -> str:
    text = message.removeprefix("invalid design: ")
    text = _NUMBER.sub("#", text)
    return "invalid: " + (text if len(text) <= 90 else text[:87] + "...")


class Sampler:
    """Draws from one space with its own seeded generator, in batches of `BATCH` draws.

    Knob values are drawn for a whole batch at once (numpy), and body rules (non-decreasing
    widths) are checked on the batch, so rejected draws cost little. The draws are a function
    of the seed alone: asking for more samples extends the same sequence.
    """

    BATCH = 1024

    def __init__(self, space: Space, seed: int | None = None) -> None:
        self.space = space
        self.seed = space.seed if seed is None else seed
        self.gen = np.random.default_rng(self.seed)
        self.limits = Limits.from_env()
        base = space.base.to_dict()
        if base["final_norm"] == default_final_norm(base["activation_order"]):
            del base["final_norm"]  # re-derived from the sampled activation order
        if space.body is not None:
            del base["stages"]
        for k, v in space.knobs.items():
            if v.fixed:
                base[k] = v.choices[0]  # type: ignore[index]
        self._base = base
        # the budget's maxima, for counting a draw only as far as needed (`bounded_totals`)
        bounds = space.constraints
        params = bounds.get("params")
        macs = bounds.get("macs")
        self._max_params = min(
            self.limits.max_params, params.max if params and params.max is not None else inf
        )
        self._max_macs = macs.max if macs and macs.max is not None else inf
        self._varying = {k: v for k, v in space.knobs.items() if not v.fixed}

    def draws(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]] | _Reject]:
        """Endless draws: (design data, knob values), or a `_Reject` for a broken body rule."""
        while True:
            yield from self._batch(self.BATCH)

    def _batch(self, size: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]] | _Reject]:
        gen = self.gen
        names = list(self._varying)
        columns = [self._varying[k].sample_many(gen, size) for k in names]
        body = self.space.body
        if isinstance(body, StagesBody):
            bodies: Iterator[Any] = self._stages(body, size)
        elif isinstance(body, RegNetBody):
            bodies = self._regnet(body, size)
        else:
            bodies = iter([None] * size)
        base = self._base
        for row, made in enumerate(bodies):
            if isinstance(made, _Reject):
                yield made
                continue
            values = {k: col[row] for k, col in zip(names, columns, strict=True)}
            data = {**base, **values}
            knobs = dict(values)
            if made is not None:
                data["stages"], body_knobs = made
                knobs.update(body_knobs)
                if isinstance(body, RegNetBody):
                    _group_compatible(data)
            self._drop_bottleneck_knobs(data, knobs)
            yield data, knobs

    def _stages(self, body: StagesBody, size: int) -> Iterator[Any]:
        gen = self.gen
        counts = body.num_stages.sample_many(gen, size)
        most = max(len(body.depths), len(body.widths), *_largest(body.num_stages))
        depth_cols = [
            (body.depths[i] if len(body.depths) > 1 else body.depths[0]).sample_many(gen, size)
            for i in range(most)
        ]
        width_cols = [
            (body.widths[i] if len(body.widths) > 1 else body.widths[0]).sample_many(gen, size)
            for i in range(most)
        ]
        depths = np.array(depth_cols, dtype=np.int64).T
        widths = np.array(width_cols, dtype=np.int64).T
        n = np.array(counts, dtype=np.int64)
        bad: dict[str, np.ndarray] = {}
        for name, mat in (("widths", widths), ("depths", depths)):
            if name in body.increasing:
                stage = np.arange(1, most)[None, :]
                drops = (mat[:, 1:] < mat[:, :-1]) & (stage < n[:, None])
                bad[name] = drops.any(axis=1)
        strides = default_strides(most, body.strides)
        d_rows, w_rows = depths.tolist(), widths.tolist()
        for r, count in enumerate(counts):
            d, w = d_rows[r][:count], w_rows[r][:count]
            rejected = next((k for k, v in bad.items() if v[r]), None)
            if rejected is not None:
                yield _Reject(
                    f"{rejected} decrease",
                    f"{rejected} {d if rejected == 'depths' else w} decrease; the space wants "
                    "them non-decreasing",
                )
                continue
            knobs: dict[str, Any] = {"num_stages": count, "blocks": sum(d)}
            for i in range(count):
                knobs[f"d{i + 1}"] = d[i]
                knobs[f"w{i + 1}"] = w[i]
            stages = [{"blocks": d[i], "width": w[i], "stride": strides[i]} for i in range(count)]
            yield stages, knobs

    def _regnet(self, body: RegNetBody, size: int) -> Iterator[Any]:
        gen = self.gen
        cols = [k.sample_many(gen, size) for k in (body.depth, body.w0, body.wa, body.wm)]
        allowed = body.num_stages
        every_stages = quantized_widths_many(*cols, body.quantum)
        for depth, w0, wa, wm, stages in zip(*cols, every_stages, strict=True):
            knobs = {"regnet_depth": depth, "w0": w0, "wa": round(wa, 4), "wm": round(wm, 4)}
            knobs["num_stages"] = len(stages)
            if len(stages) > MAX_STAGES:
                yield _Reject(
                    "too many stages",
                    f"the RegNet rule gives {len(stages)} stages; at most {MAX_STAGES}",
                )
                continue
            depths = [d for d, _ in stages]
            if "depths" in body.increasing and depths != sorted(depths):
                yield _Reject(
                    "depths decrease",
                    f"depths {depths} decrease; the space wants them non-decreasing",
                )
                continue
            if allowed is not None and not _allows(allowed, len(stages)):
                yield _Reject(
                    "stage count not allowed",
                    f"the RegNet rule gives {len(stages)} stages; the space allows "
                    f"{allowed.describe()}",
                )
                continue
            strides = default_strides(len(stages), body.strides)
            knobs["blocks"] = depth
            yield (
                [
                    {"blocks": d, "width": w, "stride": s}
                    for (d, w), s in zip(stages, strides, strict=True)
                ],
                knobs,
            )

    def _drop_bottleneck_knobs(self, data: dict[str, Any], knobs: dict[str, Any]) -> None:
        """All-basic samples ignore bottleneck-only knobs (recorded as None)."""
        stages = data.get("stages") or []
        if data.get("block", "basic") != "basic" or any(
            isinstance(s, dict) and s.get("block") == "bottleneck" for s in stages
        ):
            return
        data["groups"], data["width_per_group"] = 1, 64
        for k in BOTTLENECK_ONLY:
            if k in knobs:
                knobs[k] = None

    # --- acceptance -------------------------------------------------------------------------

    def accept(self, data: dict[str, Any]) -> tuple[Design, dict[str, Any]]:
        """The design and its analytic metrics, or raise `_Reject`.

        The budget is checked first, on the unvalidated fields (counting needs no validation and
        costs less than it); only a draw within budget is validated into a `Design`. A draw that
        is both out of budget and invalid counts as out of budget.
        """
        try:
            draft = Design.unvalidated(data)
            counts, complete = bounded_totals(draft, self._max_params, self._max_macs)
        except Exception:  # an impossible draw: validation below says what is wrong
            counts = None
        if counts is not None:
            if not complete:
                self._over_budget(counts)
            metrics = self.check(counts, draft.depth)
        try:
            design = Design(**data)
        except DesignError as exc:
            raise _Reject(_reason_key(str(exc)), str(exc)) from None
        if counts is None:
            metrics = self.check(network_totals(design), design.depth)
        return design, metrics

    def _over_budget(self, partial: Totals) -> None:
        """Reject a draw whose partial counts (lower bounds) already pass a maximum: the size
        cap first, then the parameter bound, then the MAC bound."""
        if partial.params > self.limits.max_params:
            raise _Reject("over the size cap", "over RESNET_EXPLORER_MAX_PARAMS / _ACTIVATION_MB")
        name, value = ("params", partial.params)
        if partial.params <= self._max_params:
            name, value = ("macs", partial.macs)
        bound = self.space.constraints[name].max
        raise _Reject(f"{name} > max", f"{name} at least {_num(value)}, over the max {_num(bound)}")

    def check(self, counts: Totals, depth: int) -> dict[str, Any]:
        """Analytic metrics, or raise `_Reject` (a constraint, the engine's size cap)."""
        metrics = metrics_from_totals(counts, depth)
        if self.limits.exceeded(counts) is not None:
            raise _Reject("over the size cap", "over RESNET_EXPLORER_MAX_PARAMS / _ACTIVATION_MB")
        for name, bound in self.space.constraints.items():
            value = metrics[name]
            if bound.max is not None and value > bound.max:
                said = f"{name} {_num(value)}, over the max {_num(bound.max)}"
                raise _Reject(f"{name} > max", said)
            if bound.min is not None and value < bound.min:
                said = f"{name} {_num(value)}, under the min {_num(bound.min)}"
                raise _Reject(f"{name} < min", said)
        return metrics


def _num(value: float) -> str:
    """A bound or a count as a person reads it: 4,118,160 (not 4.11816e+06), 0.0123."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def sample_space(
    space: Space,
    n: int,
    *,
    seed: int | None = None,
    cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SampleReport:
    """Draw until ``n`` designs are accepted (or the space is exhausted, or cancelled).

    Gives up (``exhausted``) once the draws exceed ``space.max_draws_per_sample`` per accepted
    sample (plus one), i.e. when fewer than one draw in that many passes. ``on_progress(accepted,
    draws)`` and ``cancel()`` are called every 500 draws. Same space, seed and ``n``: same samples.
    """
    check_request(n, space.seed if seed is None else seed)
    started = time.perf_counter()
    sampler = Sampler(space, seed)
    report = SampleReport([], n, sampler.seed)
    with _without_cycle_collection():
        _draw_until(sampler, report, n, cancel, on_progress)
    report.seconds = time.perf_counter() - started
    if on_progress is not None:
        on_progress(len(report.samples), report.draws)
    return report


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: sampling allocates millions of short-lived,
    acyclic objects (specs, counts), which reference counting frees; the collector would find
    nothing and cost about a third of the time. The youngest generation is still collected
    every 500 draws (`_draw_until`), and the collector is restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _draw_until(
    sampler: Sampler,
    report: SampleReport,
    n: int,
    cancel: Callable[[], bool] | None,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Draw until ``n`` designs are accepted, the space is exhausted or ``cancel()`` says so."""
    space = sampler.space
    per = space.max_draws_per_sample
    samples = report.samples
    draws = sampler.draws()
    while len(samples) < n:
        if report.draws >= per * (len(samples) + 1):
            report.exhausted = True
            break
        report.draws += 1
        if report.draws % 500 == 0:
            gc.collect(0)  # the youngest objects only: cheap, and other threads' cycles go
            if on_progress is not None:
                on_progress(len(samples), report.draws)
            if cancel is not None and cancel():
                report.cancelled = True
                break
        drawn = next(draws)
        try:
            if type(drawn) is _Reject:
                raise drawn
            design, metrics = sampler.accept(drawn[0])  # type: ignore[index]
        except _Reject as rej:
            report.rejected[rej.reason] += 1
            if rej.reason not in report.examples:
                report.examples[rej.reason] = rej.message
            continue
        knobs = drawn[1]
        knobs["depth"] = design.depth
        samples.append(Sample(len(samples), design, knobs, metrics))
