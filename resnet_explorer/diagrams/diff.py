"""Two designs in one picture, the stages and blocks that differ highlighted."""

from __future__ import annotations

import graphviz

from resnet_explorer.analysis.analytic import totals
from resnet_explorer.design import Design
from resnet_explorer.diagrams.network import Marks, check_depth, draw_network
from resnet_explorer.diagrams.style import Legend, counts_text, html_label, new_graph
from resnet_explorer.diagrams.trace import BlockTrace, NetworkTrace, trace_network


def _ops_key(ops: tuple) -> tuple:
    return tuple((o.kind, o.label, o.shape) for o in ops)


def _stage_changes(a: tuple[BlockTrace, ...], b: tuple[BlockTrace, ...]) -> list[str]:
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
    if not changes and any(x.signature != y.signature for x, y in zip(a, b, strict=False)):
        changes.append("blocks differ inside")
    return changes


def _block_changes(a: BlockTrace, b: BlockTrace) -> str:
    if a.signature == b.signature:
        return ""
    if a.shortcut != b.shortcut:
        return f"shortcut {a.shortcut} -> {b.shortcut}"
    if a.in_shape != b.in_shape or a.out_shape != b.out_shape:
        return "shapes differ"
    return "operations differ"


def compare(a: NetworkTrace, b: NetworkTrace) -> tuple[Marks, Marks]:
    """Highlights for each side: stem, stages, blocks and head that differ."""
    notes: dict[str, str] = {}
    only_a: dict[str, str] = {}
    only_b: dict[str, str] = {}
    if _ops_key(a.stem) != _ops_key(b.stem):
        notes["stem"] = "stem differs"
    if _ops_key(a.head) != _ops_key(b.head):
        notes["head"] = "head differs"
    for i in range(max(len(a.stages), len(b.stages))):
        key = f"s{i}"
        if i >= len(b.stages):
            only_a[key] = "only in A"
            continue
        if i >= len(a.stages):
            only_b[key] = "only in B"
            continue
        sa, sb = a.stages[i], b.stages[i]
        changes = _stage_changes(sa, sb)
        if changes:
            notes[key] = "; ".join(changes)
        for j in range(max(len(sa), len(sb))):
            bkey = f"s{i}b{j}"
            if j >= len(sb):
                only_a[bkey] = "only in A"
            elif j >= len(sa):
                only_b[bkey] = "only in B"
            elif change := _block_changes(sa[j], sb[j]):
                notes[bkey] = change
    for i, stage in enumerate(a.stages):  # whole stages only on one side mark their blocks too
        if f"s{i}" in only_a:
            only_a.update({f"s{i}b{j}": "only in A" for j in range(len(stage))})
    for i, stage in enumerate(b.stages):
        if f"s{i}" in only_b:
            only_b.update({f"s{i}b{j}": "only in B" for j in range(len(stage))})
    return Marks({**notes, **only_a}), Marks({**notes, **only_b})


def field_changes(a: Design, b: Design) -> list[str]:
    """'shortcut: B -> C' for every design field that differs (stages summarized)."""
    da, db = a.to_dict(), b.to_dict()
    lines = []
    for key in da:
        if da[key] != db[key]:
            if key == "stages":
                sa, sb = da[key], db[key]
                if len(sa) != len(sb):
                    lines.append(f"stages: {len(sa)} -> {len(sb)}")
                for i, (x, y) in enumerate(zip(sa, sb, strict=False)):
                    for field in sorted(x.keys() | y.keys()):
                        if x.get(field) != y.get(field):
                            lines.append(f"stages[{i}].{field}: {x.get(field)} -> {y.get(field)}")
            else:
                lines.append(f"{key}: {da[key]} -> {db[key]}")
    return lines


def diff_diagram(
    a: Design,
    b: Design,
    *,
    names: tuple[str, str] = ("A", "B"),
    depth: int = 0,
    expand_stage: int | None = None,
    rankdir: str = "TB",
    max_blocks: int = 64,
) -> graphviz.Digraph:
    """``a`` and ``b`` side by side; what differs is outlined in red with a note saying how.

    Stages are paired by index, blocks by position within the stage; the title lists the design
    fields that differ. ``depth`` and ``expand_stage`` as in `network_diagram`.
    """
    depth = check_depth(depth)
    ta, tb = trace_network(a), trace_network(b)
    for trace in (ta, tb):
        if expand_stage is not None and expand_stage < len(trace.stages):
            trace.block(expand_stage, 0)
    changes = field_changes(a, b) or ["no differences"]
    graph = new_graph("diff", rankdir, f"{names[0]} vs {names[1]}", *changes)
    legend = Legend()
    marks_a, marks_b = compare(ta, tb)
    ids: list[dict[str, str]] = []
    for side, (design, trace, marks, prefix) in enumerate(
        ((a, ta, marks_a, "a_"), (b, tb, marks_b, "b_"))
    ):
        total = totals(design)
        with graph.subgraph(name=f"cluster_{prefix}") as box:
            box.attr(
                label=html_label(names[side], counts_text(total.params, total.macs)),
                style="rounded",
                color="#777777",
            )
            ids.append(
                draw_network(
                    box,
                    trace,
                    prefix=prefix,
                    depth=depth,
                    expand_stage=expand_stage
                    if expand_stage is not None and expand_stage < len(trace.stages)
                    else None,
                    max_blocks=max_blocks,
                    legend=legend,
                    marks=marks,
                )
            )
    # Line up the counterparts (same rank) so the eye can compare across.
    for key in ids[0].keys() & ids[1].keys():
        with graph.subgraph() as same:
            same.attr(rank="same")
            same.node(ids[0][key])
            same.node(ids[1][key])
    legend.draw(graph, [("red outline", "differs between the two")])
    return graph
