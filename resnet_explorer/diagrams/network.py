"""The network diagram: input -> stem -> stages -> head, collapsed or expanded to blocks and ops."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import graphviz

from resnet_explorer.analysis.analytic import stage_totals, totals
from resnet_explorer.design import Design
from resnet_explorer.diagrams.errors import DiagramError
from resnet_explorer.diagrams.ops import draw_block_ops
from resnet_explorer.diagrams.style import (
    BLOCK_NAMES,
    HIGHLIGHT,
    SHORTCUT_NAMES,
    Legend,
    counts_text,
    html_label,
    new_graph,
    shape_text,
)
from resnet_explorer.diagrams.trace import (
    BlockTrace,
    NetworkTrace,
    TracedOp,
    block_counts,
    trace_network,
)

MAX_DEPTH = 2


@dataclass
class Marks:
    """Nodes to highlight (for diffs): key (``stem``, ``s2``, ``s2b0``, ``head``) -> note."""

    notes: dict[str, str] = field(default_factory=dict)

    def attrs(self, key: str) -> dict[str, str]:
        return {"color": HIGHLIGHT, "penwidth": "3"} if key in self.notes else {}

    def note(self, key: str) -> str:
        return self.notes.get(key, "")


class _Chain:
    """The main path being drawn: its last node, and a pending block-skipping shortcut edge."""

    def __init__(self, graph: graphviz.Digraph, tail: str, shape: tuple[int, ...]) -> None:
        self.graph, self.tail, self.shape = graph, tail, shape
        self.skip: tuple[str, str] | None = None  # (source node, edge style)

    def step(self, node: str, shape: tuple[int, ...]) -> None:
        """Connect the tail to ``node`` (labelled with the tensor's shape); ``node`` is the tail."""
        self.graph.edge(self.tail, node, label=shape_text(self.shape), weight="4")
        self.land_skip(node)
        self.tail, self.shape = node, shape

    def land_skip(self, node: str) -> None:
        if self.skip is not None:
            src, style = self.skip
            self.graph.edge(src, node, style=style, constraint="false", color="#888888")
            self.skip = None


def check_depth(depth: int) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise DiagramError(
            f"depth={depth!r}: use 0 (stages collapsed), 1 (every block) or 2 (every operation)"
        )
    return depth


def stage_title(blocks: tuple[BlockTrace, ...]) -> str:
    """'layer3: Bottleneck x 6, 512 -> 1024, /2'."""
    first, last = blocks[0], blocks[-1]
    title = (
        f"layer{first.stage + 1}: {BLOCK_NAMES[first.block]} x {len(blocks)}, "
        f"{first.in_shape[0]} -> {last.out_shape[0]}"
    )
    return title + (f", /{first.stride}" if first.stride != 1 else "")


def shortcut_summary(blocks: tuple[BlockTrace, ...]) -> str:
    """'shortcuts: 1 1x1 projection, 5 identity' (in order of first appearance)."""
    counts = Counter(b.shortcut for b in blocks)
    if set(counts) == {"none"}:
        return "no shortcuts (plain)"
    return "shortcuts: " + ", ".join(f"{n} {SHORTCUT_NAMES[k]}" for k, n in counts.items())


def _summary(ops: tuple[TracedOp, ...], per_line: int = 3) -> list[str]:
    """Compact lines listing ``ops`` (flatten left out)."""
    names = [op.short or op.label for op in ops if op.kind != "flatten"]
    return [", ".join(names[i : i + per_line]) for i in range(0, len(names), per_line)]


def _projected(blocks: tuple[BlockTrace, ...]) -> bool:
    return any(b.shortcut in ("projection", "avgpool_projection") for b in blocks)


def draw_network(
    graph: graphviz.Digraph,
    trace: NetworkTrace,
    *,
    prefix: str = "",
    depth: int = 0,
    expand_stage: int | None = None,
    max_blocks: int = 64,
    legend: Legend,
    marks: Marks | None = None,
) -> dict[str, str]:
    """Draw ``trace`` into ``graph``; returns logical key -> node id of the collapsed nodes."""
    design, marks = trace.design, marks or Marks()
    counts = block_counts(design)
    per_stage = stage_totals(design)
    ids: dict[str, str] = {}

    def node(key: str, kind: str, title: str, *lines: str, **attrs: str) -> str:
        node_id = f"{prefix}{key}"
        ids[key] = node_id
        style = attrs.pop("style", "rounded,filled")
        graph.node(
            node_id,
            html_label(title, *lines, note=marks.note(key)),
            fillcolor=legend.kind(kind),
            style=style,
            **{**attrs, **marks.attrs(key)},
        )
        return node_id

    in_id = node("input", "io", "input", shape_text(trace.input_shape))
    chain = _Chain(graph, in_id, trace.input_shape)

    # stem
    if depth >= 1 and trace.stem:
        with graph.subgraph(name=f"cluster_{prefix}stem") as box:
            box.attr(label="stem", style="rounded", **{"color": "#999999", **marks.attrs("stem")})
            _draw_ops_chain(box, chain, trace.stem, f"{prefix}stem_", design, "", legend)
    elif trace.stem:
        chain.step(
            node(
                "stem",
                "stem",
                f"stem ({design.stem})",
                *_summary(trace.stem),
                counts_text(*counts["stem"]),
            ),
            trace.stem_shape,
        )

    for i, blocks in enumerate(trace.stages):
        key = f"s{i}"
        level = max(depth, 1) if expand_stage == i else (depth if expand_stage is None else 0)
        lines = [shortcut_summary(blocks), counts_text(per_stage[i].params, per_stage[i].macs)]
        if level == 0:
            dashed = {"style": "rounded,filled,dashed"} if _projected(blocks) else {}
            chain.step(
                node(key, blocks[0].block, stage_title(blocks), *lines, **dashed),
                blocks[-1].out_shape,
            )
            continue
        with graph.subgraph(name=f"cluster_{prefix}{key}") as box:
            box.attr(
                label=html_label(stage_title(blocks), *lines, note=marks.note(key)),
                style="rounded",
                **{"color": "#999999", **marks.attrs(key)},
            )
            for j, block in _visible(blocks, max_blocks):
                if block is None:
                    hidden = j
                    chain.step(
                        node(
                            f"{key}e",
                            "elided",
                            f"... {hidden} more blocks like {blocks[1].name}",
                            style="rounded,dashed",
                        ),
                        chain.shape,
                    )
                    continue
                _draw_block(box, chain, block, level, prefix, design, legend, marks, counts)

    # head
    if depth >= 1 and trace.head:
        with graph.subgraph(name=f"cluster_{prefix}head") as box:
            box.attr(label="head", style="rounded", **{"color": "#999999", **marks.attrs("head")})
            _draw_ops_chain(box, chain, trace.head, f"{prefix}head_", design, "", legend)
    elif trace.head:
        chain.step(
            node("head", "head", "head", *_summary(trace.head), counts_text(*counts["head"])),
            trace.head[-1].shape,
        )
    chain.step(node("output", "io", "output", f"{design.num_classes} logits"), chain.shape)
    return ids


def _visible(
    blocks: tuple[BlockTrace, ...], max_blocks: int
) -> list[tuple[int, BlockTrace | None]]:
    """Blocks to draw: all, or the first ones, a marker (None, how many hidden), the last."""
    if len(blocks) <= max_blocks:
        return list(enumerate(blocks))
    shown = max(max_blocks - 1, 2)
    hidden = len(blocks) - shown
    return [*enumerate(blocks[: shown - 1]), (hidden, None), (len(blocks) - 1, blocks[-1])]


def _draw_block(
    graph: graphviz.Digraph,
    chain: _Chain,
    block: BlockTrace,
    level: int,
    prefix: str,
    design: Design,
    legend: Legend,
    marks: Marks,
    counts: dict[str, tuple[int, int]],
) -> None:
    key = f"s{block.stage}b{block.index}"
    params, macs = counts[block.name]
    if level == 1:
        title = f"{block.name}: {block.in_shape[0]} -> {block.out_shape[0]}"
        title += f", /{block.stride}" if block.stride != 1 else ""
        lines = [counts_text(params, macs)]
        if block.shortcut not in ("identity", "none"):
            lines.insert(0, f"shortcut: {SHORTCUT_NAMES[block.shortcut]}")
        node_id = f"{prefix}{key}"
        graph.node(
            node_id,
            html_label(title, *lines, note=marks.note(key)),
            fillcolor=legend.kind(block.block),
            **marks.attrs(key),
        )
        source = chain.tail
        chain.step(node_id, block.out_shape)
        if block.shortcut != "none":
            chain.skip = (source, legend.edge(block.shortcut))
        return
    with graph.subgraph(name=f"cluster_{prefix}{key}") as box:
        box.attr(
            label=html_label(block.name, counts_text(params, macs), note=marks.note(key)),
            style="rounded,dashed",
            **{"color": "#bbbbbb", **marks.attrs(key)},
        )
        chain.land_skip(f"{prefix}{key}_{block.ops[0].id}")  # never pending at level 2
        last = draw_block_ops(
            box, design, block, prefix=f"{prefix}{key}_", entry=chain.tail, legend=legend
        )
    chain.tail, chain.shape = last, block.out_shape


def _draw_ops_chain(
    graph: graphviz.Digraph,
    chain: _Chain,
    ops: tuple[TracedOp, ...],
    prefix: str,
    design: Design,
    counts_prefix: str,
    legend: Legend,
) -> None:
    """Stem or head ops, one after the other (they form a chain in this builder)."""
    from resnet_explorer.diagrams.trace import op_counts

    for op in ops:
        params, macs = op_counts(design, counts_prefix, op)
        lines = [op.target] + ([counts_text(params, macs)] if params else [])
        node_id = f"{prefix}{op.id}"
        graph.node(
            node_id, html_label(op.label, *lines), fillcolor=legend.kind(op.kind), tooltip=op.target
        )
        chain.step(node_id, op.shape)


def network_diagram(
    design: Design,
    *,
    depth: int = 0,
    expand_stage: int | None = None,
    rankdir: str = "TB",
    max_blocks: int = 64,
) -> graphviz.Digraph:
    """Diagram of the whole network ``design`` builds.

    ``depth`` 0 collapses each stage into one node ("layer3: Bottleneck x 6, 512 -> 1024, /2"),
    1 draws every block (shortcuts skip each block: solid identity, dashed projection, dotted
    zero-pad), 2 every operation. ``expand_stage`` (from 0) expands that stage only (to
    ``max(depth, 1)``). Stages longer than ``max_blocks`` show their first and last blocks.
    Edges carry shapes (C x H x W); nodes carry analytic parameters and MACs.
    """
    depth = check_depth(depth)
    trace = trace_network(design)
    if expand_stage is not None:
        trace.block(expand_stage, 0)  # validates the stage index
    if isinstance(max_blocks, bool) or not isinstance(max_blocks, int) or max_blocks < 3:
        raise DiagramError(f"max_blocks={max_blocks!r}: use a whole number >= 3")
    total = totals(design)
    graph = new_graph(
        "network",
        rankdir,
        f"ResNet-{design.depth} ({sum(len(s) for s in trace.stages)} blocks)",
        f"{design.block} blocks, shortcut {design.shortcut}, "
        f"{design.activation_order} order, {design.activation}, {design.norm} norm",
        counts_text(total.params, total.macs),
    )
    legend = Legend()
    draw_network(
        graph, trace, depth=depth, expand_stage=expand_stage, max_blocks=max_blocks, legend=legend
    )
    collapsed = [b for i, b in enumerate(trace.stages) if depth == 0 and expand_stage != i]
    projected = any(_projected(blocks) for blocks in collapsed)
    extra = [("dashed box", "stage with a projection shortcut")] if projected else []
    legend.draw(graph, extra)
    return graph
