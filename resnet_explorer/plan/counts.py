"""Exact counts of a design, summed over its layer-level plan: no model is built.

Every figure is the op table of `plan.ops` summed over the ops the plan lists; nothing here knows
what an op costs. Whole-network totals are summed per distinct block (`BlockSpec`), cached, so a
1,000-block stage costs no more than a 3-block one and a design space that repeats the same
blocks over and over (the explorer samples thousands) reuses them: this is the explorer's fast
path, not a second formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from resnet_explorer.design import Design
from resnet_explorer.plan.block import BlockSpec, block_ops
from resnet_explorer.plan.compiled import compiled_counts, fast_block_counts
from resnet_explorer.plan.layout import (
    head_spec,
    iter_stage_specs,
    plan,
    stem_spec,
)
from resnet_explorer.plan.network import HeadSpec, StemSpec, final_ops, head_ops, stem_ops
from resnet_explorer.plan.ops import Counts, Op, Totals, cost, parts, sum_counts


@dataclass(frozen=True)
class LayerCount:
    """Counts of one layer, named by its module path in the built model."""

    name: str
    kind: str
    stage: int | None  # None for stem and head
    params: int
    macs: int
    fvcore: int
    activations: int
    outputs: int
    bias_adds: int = 0
    group: str = ""  # stem, the stage's module name (layer1, s1), or head
    block: str | None = None  # the block's module path (layer1.0, s1.b1); None: stem, head


def _rows(
    prefix: str, stage: int | None, ops: tuple[Op, ...], group: str, block: str | None
) -> list[LayerCount]:
    rows = []
    for op in ops:
        name = f"{prefix}{op.name}"
        inner = parts(op)
        if inner:  # a composite op: one row per inner op (where its parameters live)
            rows += _rows(f"{name}.", stage, inner, group, block)
            continue
        c = cost(op)
        rows.append(
            LayerCount(name, op.kind, stage, c.params, c.macs, c.fvcore, c.activations,
                       c.outputs, c.bias_adds, group, block)
        )  # fmt: skip
    return rows


def layer_counts(design: Design) -> list[LayerCount]:
    """Every layer of the network in forward order, with its counts."""
    layout = plan(design)
    rows = _rows("", None, layout.stem, "stem", None)
    for b in layout.blocks:
        rows += _rows(f"{b.name}.", b.stage, b.ops, b.stage_name, b.name)
    return rows + _rows("", None, layout.final + layout.head, "head", None)


@lru_cache(maxsize=16_384)
def _block_counts(spec: BlockSpec) -> Counts:
    return fast_block_counts(spec)


def block_totals(spec: BlockSpec) -> Totals:
    """Counts of one block (cached per distinct block)."""
    return Totals(*_block_counts(spec))


@lru_cache(maxsize=4096)
def _stem_counts(spec: StemSpec) -> Counts:
    return sum_counts(stem_ops(spec))


@lru_cache(maxsize=4096)
def _head_counts(spec: HeadSpec) -> Counts:
    return sum_counts(final_ops(spec) + head_ops(spec))


def _stage_counts(first: BlockSpec, rest: BlockSpec | None, blocks: int) -> Counts:
    counts = _block_counts(first)
    if rest is None:
        return counts
    n = blocks - 1
    p, m, f, a, o, b = _block_counts(rest)
    return (
        counts[0] + n * p,
        counts[1] + n * m,
        counts[2] + n * f,
        counts[3] + n * a,
        counts[4] + n * o,
        counts[5] + n * b,
    )


def stage_totals(design: Design) -> list[Totals]:
    """Counts per stage (stem and head excluded), in stage order."""
    return [Totals(*_stage_counts(*specs)) for specs in iter_stage_specs(design)]


def bounded_totals(
    design: Design, max_params: float = float("inf"), max_macs: float = float("inf")
) -> tuple[Totals, bool]:
    """Whole-network counts for one image, summed per distinct block, and whether they are
    complete: as soon as the parameters pass ``max_params`` or the MACs pass ``max_macs``, the
    partial sums (lower bounds) are returned with False, so the explorer learns that a draw is
    over budget without counting all of it.
    """
    p, m, f, a, o, b = _stem_counts(stem_spec(design))
    last: BlockSpec | None = None
    for first, rest, blocks in iter_stage_specs(design):
        dp, dm, df, da, do, db = _stage_counts(first, rest, blocks)
        p, m, f, a, o, b = p + dp, m + dm, f + df, a + da, o + do, b + db
        if p > max_params or m > max_macs:
            return Totals(p, m, f, a, o, b), False
        last = rest or first
    assert last is not None  # a design has at least one stage
    dp, dm, df, da, do, db = _head_counts(head_spec(design, last.out_channels, last.out_size))
    return Totals(p + dp, m + dm, f + df, a + da, o + do, b + db), True


def network_totals(design: Design) -> Totals:
    """Whole-network counts for one image, summed per distinct block (not cached per design)."""
    return bounded_totals(design)[0]


@lru_cache(maxsize=1024)
def totals(design: Design) -> Totals:
    """Whole-network counts for one image (see the module docstring); cached per design."""
    return network_totals(design)


def clear_caches() -> None:
    """Forget the per-block counts and ops (benchmarks measure a cold start with it)."""
    for cached in (_block_counts, _stem_counts, _head_counts, totals, block_ops, compiled_counts):
        cached.cache_clear()
