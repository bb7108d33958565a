"""What differs between designs, as highlights with one-line reasons, and the two-design diff.

`differences(base, other)` pairs stages by index and blocks by position and says, for every
stem, stage, block and head of ``other`` that differs from ``base``, how (one line each): the
Compare page highlights 2 to 4 designs against a baseline with it, `diff_diagram` draws two
side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from resnet_explorer.analysis.analytic import totals
from resnet_explorer.design import Design
from resnet_explorer.diagrams.network import (
    Layout,
    Marks,
    block_text,
    check_layout,
    draw_network,
)
from resnet_explorer.diagrams.style import (
    SHORTCUT_NAMES,
    Legend,
    counts_text,
    html_label,
    new_graph,
)
from resnet_explorer.diagrams.trace import BlockTrace, NetworkTrace, trace_network


def _ops_key(ops: tuple) -> tuple:
    return tuple((o.kind, o.label, o.shape) for o in ops)


def _ops_change(a: tuple, b: tuple) -> str:
    """'conv 3x3, 64 -> 64 -> conv 3x3, 128 -> 128, 32 groups': the op that differs (a grouped
    conv first: it tells ResNeXt apart; else the first whose label differs, else the first)."""
    pairs = [(x, y) for x, y in zip(a, b, strict=False) if _ops_key((x,)) != _ops_key((y,))]
    # stable sort, forward order kept: a grouped conv first, then ops whose labels differ
    pairs.sort(key=lambda p: ("groups" not in p[0].label + p[1].label, p[0].label == p[1].label))
    for x, y in pairs[:1]:
        if x.label != y.label:
            return f"{x.label} -> {y.label}"
        return f"{x.label}: {'x'.join(map(str, x.shape))} -> {'x'.join(map(str, y.shape))}"
    if len(a) != len(b):
        return f"{len(a)} -> {len(b)} operations"
    return "operations differ"


#: What a difference says of a part that one side lacks (`differences`, `compare`).
NOT_IN_BASELINE, ONLY_IN_A, ONLY_IN_B = "not in the baseline", "only in A", "only in B"
_ABSENT = (NOT_IN_BASELINE, ONLY_IN_A, ONLY_IN_B)


def block_change(a: BlockTrace, b: BlockTrace) -> str:
    """How block ``b`` differs from ``a`` in one line ('' when they are the same)."""
    if a.signature == b.signature:
        return ""
    if a.block != b.block:
        return f"block {a.block} -> {b.block}"
    if a.shortcut != b.shortcut:
        return f"shortcut {SHORTCUT_NAMES[a.shortcut]} -> {SHORTCUT_NAMES[b.shortcut]}"
    if a.order != b.order:
        return f"activation order {a.order} -> {b.order}"
    if a.in_shape != b.in_shape or a.out_shape != b.out_shape:
        shape = "x".join
        return (
            f"shape {shape(map(str, a.in_shape))} -> {shape(map(str, a.out_shape))} vs "
            f"{shape(map(str, b.in_shape))} -> {shape(map(str, b.out_shape))}"
        )
    if (a.drop_path > 0) != (b.drop_path > 0):
        return f"drop path {a.drop_path:.3g} -> {b.drop_path:.3g}"
    return _ops_change(a.ops, b.ops)


def _inner_change(base: str, other: str) -> str:
    """'3x3 conv: 64 ch -> 32 groups x 4 = 128 ch' from two stage boxes' block lines ('' when
    they are the same): what tells ResNeXt and Wide ResNet apart, as their boxes say it."""
    if base == other:
        return ""
    head, _, rest = base.partition(": ")
    if other.startswith(head + ": "):
        return f"{head}: {rest} -> {other.removeprefix(head + ': ')}"
    return f"{base} -> {other}"


def _drop_rates(blocks: tuple[BlockTrace, ...]) -> str:
    """A stage's stochastic-depth rates as a person reads them: '0', '0.05', '0.0067..0.033'
    (the rate grows block by block through the network)."""
    if not any(x.drop_path > 0 for x in blocks):
        return "0"
    low, high = min(x.drop_path for x in blocks), max(x.drop_path for x in blocks)
    return f"{low:.2g}" if low == high else f"{low:.2g}..{high:.2g}"


def _stage_change(a: tuple[BlockTrace, ...], b: tuple[BlockTrace, ...], inner: str = "") -> str:
    """How stage ``b`` differs from ``a`` in one line ('' when it does not); ``inner`` is how
    its blocks' 3x3 convs differ (`_inner_change`), said when nothing coarser is."""
    changes = []
    if a[0].block != b[0].block:
        changes.append(f"block {a[0].block} -> {b[0].block}")
    if len(a) != len(b):
        changes.append(f"blocks {len(a)} -> {len(b)}")
    if (a[0].in_shape[0], a[-1].out_shape[0]) != (b[0].in_shape[0], b[-1].out_shape[0]):
        changes.append(
            f"channels {a[0].in_shape[0]}->{a[-1].out_shape[0]} vs "
            f"{b[0].in_shape[0]}->{b[-1].out_shape[0]}"
        )
    if a[0].stride != b[0].stride:
        changes.append(f"stride {a[0].stride} -> {b[0].stride}")
    if not changes and inner:
        changes.append(inner)
    rates = (_drop_rates(a), _drop_rates(b))
    if not changes and rates[0] != rates[1]:
        changes.append(f"drop path {rates[0]} -> {rates[1]}")
    if not changes:
        inside = {block_change(x, y) for x, y in zip(a, b, strict=False)} - {""}
        if inside:
            changes.append(sorted(inside)[0] + (" (and more)" if len(inside) > 1 else ""))
    return "; ".join(changes)


@dataclass(frozen=True)
class Difference:
    """One part of a design that differs from the baseline: its key, its name and why."""

    key: str  # stem | s2 | s2b0 | head
    where: str  # 'stem', 'layer3', 'layer3.0', 'head'
    reason: str
    blocks: int = 0  # a stage's: how many blocks it has

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def _trace_differences(
    base: NetworkTrace, other: NetworkTrace, absent: str = NOT_IN_BASELINE
) -> list[Difference]:
    """What differs in ``other``; its stages and blocks that ``base`` lacks read ``absent``."""
    found = []
    if _ops_key(base.stem) != _ops_key(other.stem):
        found.append(Difference("stem", "stem", _ops_change(base.stem, other.stem)))
    for i, blocks in enumerate(other.stages):
        key, n = f"s{i}", len(blocks)
        theirs = base.stages[i] if i < len(base.stages) else ()
        if not theirs:
            found.append(Difference(key, f"layer{i + 1}", absent, n))
        elif change := _stage_change(theirs, blocks, _inner(base, other, i)):
            found.append(Difference(key, f"layer{i + 1}", change, n))
        for j, block in enumerate(blocks):
            if j >= len(theirs):
                found.append(Difference(f"{key}b{j}", block.name, absent))
            elif change := block_change(theirs[j], block):
                found.append(Difference(f"{key}b{j}", block.name, change))
    if _ops_key(base.head) != _ops_key(other.head):
        found.append(Difference("head", "head", _ops_change(base.head, other.head)))
    return found


def _inner(base: NetworkTrace, other: NetworkTrace, stage: int) -> str:
    return _inner_change(block_text(base.design, stage), block_text(other.design, stage))


def differences(base: Design, other: Design) -> list[Difference]:
    """Every stem, stage, block and head of ``other`` that differs from ``base``, with why;
    stages of ``base`` that ``other`` lacks are said last."""
    tb, to = trace_network(base), trace_network(other)
    found = _trace_differences(tb, to)
    if len(tb.stages) > len(to.stages):
        gone = ", ".join(f"layer{i + 1}" for i in range(len(to.stages), len(tb.stages)))
        found.append(Difference("output", "stages", f"{gone} of the baseline: not in this design"))
    return found


def marks(found: list[Difference]) -> Marks:
    """Highlights for a diagram of the other design (reasons as red notes)."""
    notes: dict[str, str] = {}
    for d in found:
        notes[d.key] = f"{notes[d.key]}; {d.reason}" if d.key in notes else d.reason
    return Marks(notes)


def summary(found: list[Difference]) -> list[str]:
    """One line per stem, stage and head that differs: a stage's blocks are said in its line
    ('(every block)', '(2 of 6 blocks)'), not one line each (ResNeXt-50 gave 20 lines); the
    blocks that are new or gone are in its 'blocks 6 -> 23'."""
    changed: dict[str, int] = {}
    for d in found:
        if d.key.startswith("s") and "b" in d.key and d.reason not in _ABSENT:
            stage = d.key.split("b")[0]
            changed[stage] = changed.get(stage, 0) + 1
    lines = []
    for d in found:
        if d.key.startswith("s") and "b" in d.key:
            continue
        k = changed.get(d.key, 0)
        if not k or d.reason in _ABSENT:
            lines.append(str(d))
        else:
            lines.append(f"{d} ({'every block' if k == d.blocks else f'{k} of {d.blocks} blocks'})")
    return lines


def compare(a: NetworkTrace, b: NetworkTrace) -> tuple[Marks, Marks]:
    """Highlights for each side: stem, stages, blocks and head that differ (notes say how A
    becomes B on both sides; what one side lacks reads 'only in A' / 'only in B')."""
    to_b = _trace_differences(a, b, ONLY_IN_B)
    only_a = [d for d in _trace_differences(b, a, ONLY_IN_A) if d.reason == ONLY_IN_A]
    shared = [d for d in to_b if d.reason != ONLY_IN_B]
    return marks(shared + only_a), marks(to_b)


def field_changes(a: Design, b: Design) -> list[str]:
    """'shortcut: B -> C' for every design field that differs (stages summarized)."""
    # Every field, not the JSON's: fields added after format 1 are left out of ``to_dict`` when
    # they hold their default, so either side may lack a key the other has.
    da, db = a.model_dump(), b.model_dump()
    da["stages"], db["stages"] = a.to_dict()["stages"], b.to_dict()["stages"]
    lines = []
    for key in da:
        if da[key] == db[key]:
            continue
        if key != "stages":
            lines.append(f"{key}: {da[key]} -> {db[key]}")
            continue
        sa, sb = da[key], db[key]
        if len(sa) != len(sb):
            lines.append(f"stages: {len(sa)} -> {len(sb)}")
        for i, (x, y) in enumerate(zip(sa, sb, strict=False)):
            for name in sorted(x.keys() | y.keys()):
                if x.get(name) != y.get(name):
                    lines.append(f"stages[{i}].{name}: {x.get(name)} -> {y.get(name)}")
    return lines


def diff_diagram(
    a: Design,
    b: Design,
    *,
    names: tuple[str, str] = ("A", "B"),
    titles: tuple[str, str] | None = None,
    depth: int = 0,
    expand_stage: int | None = None,
    rankdir: str = "TB",
    max_blocks: int = 64,
) -> graphviz.Digraph:
    """``a`` and ``b`` side by side; what differs is outlined in red with a note saying how.

    Stages are paired by index, blocks by position within the stage; the title lists the design
    fields that differ; ``titles`` (default: ``names``) label the two sides. ``depth`` and
    ``expand_stage`` as in `network_diagram`.
    """
    titles = titles or names
    ta, tb = trace_network(a), trace_network(b)
    changes = field_changes(a, b) or ["no differences"]
    graph = new_graph("diff", rankdir, f"{names[0]} vs {names[1]}", *changes)
    legend = Legend()
    ids: list[dict[str, str]] = []
    for side, (design, trace, mark, prefix) in enumerate(
        zip((a, b), (ta, tb), compare(ta, tb), ("a_", "b_"), strict=True)
    ):
        fits = expand_stage is not None and expand_stage < len(trace.stages)
        expand = expand_stage if fits else None
        layout = check_layout(design, Layout(depth, expand, max_blocks, rankdir))
        total = totals(design)
        with graph.subgraph(name=f"cluster_{prefix}") as box:
            box.attr(
                label=html_label(titles[side], counts_text(total.params, total.macs)),
                style="rounded",
                color="#777777",
            )
            drawn = draw_network(
                box, trace, prefix=prefix, layout=layout, legend=legend, marks=mark
            )
            ids.append(drawn)
    # Line up the counterparts (same rank) so the eye can compare across.
    for key in ids[0].keys() & ids[1].keys():
        with graph.subgraph() as same:
            same.attr(rank="same")
            same.node(ids[0][key])
            same.node(ids[1][key])
    legend.draw(graph, [("red outline", "differs between the two")])
    return graph
