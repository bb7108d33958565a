"""Analytic totals of many designs, fast: `analysis.analytic.totals` memoized per block shape.

`analysis.analytic.totals` walks the design's full layout (`plan`), which costs a few hundred
microseconds per design. A design space repeats the same block shapes over and over, so this
module computes the same per-layer counts (the analytic module's own stem, block and head
functions) once per distinct shape and sums them. The result equals `totals(design)` exactly
(tested on thousands of random designs); it only skips the layout objects and the repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resnet_explorer.analysis import analytic
from resnet_explorer.analysis.analytic import Totals
from resnet_explorer.design import Design
from resnet_explorer.plan import downsample, stem_channels

_MAX_ENTRIES = 200_000
_blocks: dict[tuple, tuple[int, int, int, int, int]] = {}
_ends: dict[tuple, tuple[int, int, int, int, int]] = {}


@dataclass(frozen=True)
class _Layout:
    """The few layout facts the stem and head counts read (see `plan.NetworkPlan`)."""

    stem_channels: tuple[int, ...]
    stem_out_size: int
    feature_channels: int
    feature_size: int


def _sum(layers) -> tuple[int, int, int, int, int]:
    p = m = f = a = o = 0
    for x in layers:
        if x is not None:
            p += x.params
            m += x.macs
            f += x.fvcore
            a += x.activations
            o += x.outputs
    return p, m, f, a, o


_NORM_COST = {"batch": 2, "group": 5}


def block_counts(
    order: str,
    norm: str,
    stride_on: str,
    groups: int,
    kind: str,
    cin: int,
    mid: int,
    cout: int,
    stride: int,
    in_size: int,
    out_size: int,
    shortcut: str,
) -> tuple[int, int, int, int, int]:
    """(params, macs, fvcore, activations, outputs) of one block, in closed form.

    The same sums as `analysis.analytic._block` yields layer by layer (tested equal over every
    block type x shortcut kind x activation order x norm); about ten times faster.
    """
    p = m = a = o = 0
    nf = 0  # norm elements (fvcore counts _NORM_COST per element)
    has_norm = norm != "none"
    if kind == "basic":
        convs = ((cin, mid, 9, out_size, 1), (mid, cout, 9, out_size, 1))
    else:
        first = in_size if stride_on == "3x3" else out_size
        convs = (
            (cin, mid, 1, first, 1),
            (mid, mid, 9, out_size, groups),
            (mid, cout, 1, out_size, 1),
        )
    n = len(convs)
    if order == "full_preact":
        e = cin * in_size * in_size
        o += e
        if has_norm:
            p += 2 * cin
            nf += e
            o += e
    prev_size = in_size
    post_norm = order in ("original", "relu_before_add", "relu_only_preact")
    post_act = order in ("original", "bn_after_add", "relu_before_add")
    for k, (ci, co, kk, size, g) in enumerate(convs, start=1):
        if order == "relu_only_preact":
            o += ci * prev_size * prev_size
        if order == "full_preact" and k > 1:
            e = ci * prev_size * prev_size
            o += e
            if has_norm:
                p += 2 * ci
                nf += e
                o += e
        w = co * (ci // g) * kk
        out = co * size * size
        p += w
        m += w * size * size
        a += out
        o += out
        if has_norm and (post_norm or (order == "bn_after_add" and k < n)):
            p += 2 * co
            nf += out
            o += out
        if post_act and (k < n or order == "relu_before_add"):
            o += out
        prev_size = size
    out_elements = cout * out_size * out_size
    if shortcut == "zero_pad":
        o += out_elements
    elif shortcut in ("projection", "avgpool_projection"):
        if shortcut == "avgpool_projection" and stride != 1:
            o += cin * out_size * out_size
        w = cout * cin
        p += w
        m += w * out_size * out_size
        a += out_elements
        o += out_elements
        if has_norm and order != "full_preact":
            p += 2 * cout
            nf += out_elements
            o += out_elements
    if shortcut != "none":
        o += out_elements
    if order == "bn_after_add" and has_norm:
        p += 2 * cout
        nf += out_elements
        o += out_elements
    if order in ("original", "bn_after_add"):
        o += out_elements
    return p, m, m + _NORM_COST.get(norm, 0) * nf, a, o


def clear_cache() -> None:
    """Forget the memoized shapes (for benchmarks)."""
    _blocks.clear()
    _ends.clear()


def fast_totals(design: Design) -> Totals:
    """Same as `analysis.analytic.totals(design)`, memoized per distinct block shape."""
    fields = dict(design)
    fields["stages"] = [(st.blocks, st.width, st.stride, st.block) for st in design.stages]
    return totals_from_fields(fields)


def totals_from_fields(f: dict[str, Any]) -> Totals:
    """Totals from a design's fields (``stages`` as (blocks, width, stride, block) tuples).

    Needs no validated `Design`: the sampler counts a draw before validating it. Every field of
    `Design` must be present.
    """
    if len(_blocks) > _MAX_ENTRIES or len(_ends) > _MAX_ENTRIES:
        clear_cache()
    order, norm, stride_on, groups = f["activation_order"], f["norm"], f["stride_on"], f["groups"]
    option = f["shortcut"]
    factor, per_group, expansion = f["width_factor"], f["width_per_group"] / 64.0, f["expansion"]
    stem_stride = 1 if f["stem"] == "cifar" else 4
    size = downsample(f["image_size"], stem_stride)
    channels = f["stem_width"]
    p = m = fv = a = o = 0
    for blocks, width, stride0, own in f["stages"]:
        kind = own or f["block"]
        if kind == "basic":
            mid = out = int(width * factor)
        else:
            mid = int(width * factor * per_group) * groups
            out = width * expansion
        for j, count in ((0, 1), (1, blocks - 1)):
            if count <= 0:
                continue
            stride = stride0 if j == 0 else 1
            out_size = downsample(size, stride)
            if option == "none":
                shortcut = "none"
            elif option == "C":
                shortcut = "projection"
            elif stride == 1 and channels == out:
                shortcut = "identity"
            else:
                shortcut = _SHAPE_CHANGE[option]
            key = (
                order,
                norm,
                stride_on,
                groups,
                kind,
                channels,
                mid,
                out,
                stride,
                size,
                out_size,
                shortcut,
            )
            counts = _blocks.get(key)
            if counts is None:
                counts = block_counts(*key)
                _blocks[key] = counts
            p += count * counts[0]
            m += count * counts[1]
            fv += count * counts[2]
            a += count * counts[3]
            o += count * counts[4]
            channels, size = out, out_size
    key = (
        order,
        norm,
        f["stem"],
        f["stem_width"],
        f["in_channels"],
        f["image_size"],
        f["final_norm"],
        f["num_classes"],
        channels,
        size,
    )
    ends = _ends.get(key)
    if ends is None:
        ends = _stem_and_head(f, channels, size)
        _ends[key] = ends
    return Totals(p + ends[0], m + ends[1], fv + ends[2], a + ends[3], o + ends[4])


_SHAPE_CHANGE = {"A": "zero_pad", "B": "projection", "D": "avgpool_projection"}


def _stem_and_head(f: dict[str, Any], channels: int, size: int) -> tuple[int, int, int, int, int]:
    scalars = {k: v for k, v in f.items() if k != "stages"}
    design = Design.model_construct(**scalars)  # counting only: the fields the stem/head read
    layout = _Layout(
        stem_channels(design),
        downsample(design.image_size, design.stem_stride()),
        channels,
        size,
    )
    stem = _sum(analytic._stem(design, layout))
    head = _sum(analytic._head(design, layout))
    return tuple(x + y for x, y in zip(stem, head, strict=True))  # type: ignore[return-value]


def depth_from_fields(f: dict[str, Any]) -> int:
    """`Design.depth` from the fields (stages as (blocks, width, stride, block) tuples)."""
    convs = sum(
        b * (3 if (own or f["block"]) == "bottleneck" else 2) for b, _, _, own in f["stages"]
    )
    return (3 if f["stem"].startswith("deep") else 1) + convs + 1
