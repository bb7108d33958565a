"""The network diagram: input -> stem -> stages -> head, collapsed or expanded to blocks and ops.

Top to bottom, the network is one column. Left to right, it is laid out in rows read like text
(a row never mixes two stages), so a deep network stays readable instead of becoming a strip.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import pairwise

import graphviz

from resnet_explorer import presets
from resnet_explorer.analysis.analytic import stage_totals, totals
from resnet_explorer.design import Design
from resnet_explorer.diagrams.errors import DiagramError
from resnet_explorer.diagrams.ops import draw_block_ops
from resnet_explorer.diagrams.style import (
    BLOCK_NAMES,
    HIGHLIGHT,
    SHORTCUT_NAMES,
    Legend,
    check_rankdir,
    counts_text,
    html_label,
    new_graph,
    shape_text,
)
from resnet_explorer.diagrams.trace import (
    BlockTrace,
    NetworkTrace,
    TracedOp,
    params_and_macs_by_part,
    trace_network,
)
from resnet_explorer.shapes import stage_knob, stage_shapes

MAX_DEPTH = 2
#: Left to right: the widest a row may grow (points, estimated from its labels) before the
#: chain wraps to a new row. Rows share their columns, so a diagram ends up about twice as
#: wide: 1,000-1,500 pt for every preset, shown at full size with a scroll bar where needed.
ROW_WIDTH_PT = 600.0
#: `network_rows`: blocks (depth 1) and stem or head operations in a row of their own graph,
#: about 600-800 pt: readable in a laptop's window (one block a row at depth 2).
BLOCKS_PER_ROW = 2
OPS_PER_ROW = 3


@dataclass
class Marks:
    """Nodes to highlight (for diffs): key (``stem``, ``s2``, ``s2b0``, ``head``) -> note."""

    notes: dict[str, str] = field(default_factory=dict)

    def attrs(self, key: str) -> dict[str, str]:
        return {"color": HIGHLIGHT, "penwidth": "3"} if key in self.notes else {}

    def note(self, key: str) -> str:
        return self.notes.get(key, "")


@dataclass(frozen=True)
class Layout:
    """How much to draw and in which direction."""

    depth: int = 0  # 0 stages collapsed, 1 every block, 2 every operation
    expand_stage: int | None = None
    max_blocks: int = 64
    rankdir: str = "TB"
    row_width: float = ROW_WIDTH_PT  # left to right: wrap a row past this (estimated) width
    wrap: bool = True  # left to right: wrap rows inside the graph (`network_rows` does not)

    def level(self, stage: int) -> int:
        """The depth stage ``stage`` is drawn at."""
        if self.expand_stage == stage:
            return max(self.depth, 1)
        return self.depth if self.expand_stage is None else 0

    @property
    def wraps(self) -> bool:
        return self.rankdir == "LR" and self.wrap


def _text_width(title: str, lines: tuple[str, ...] | list[str]) -> float:
    """A rough width (points) of a node labelled ``title`` and ``lines`` (11 / 9 pt text)."""
    return max([len(title) * 6.4, *(len(x) * 5.0 for x in lines)]) + 24


class _Chain:
    """The main path being drawn: its last node, a pending block-skipping shortcut edge, and
    (left to right) how wide the current row is, to know where to wrap.

    A row ends in a point and the next row starts from one, like a wrapped line of text: no
    edge runs back across the diagram, and a shortcut never jumps from one row to the next."""

    def __init__(
        self, graph: graphviz.Digraph, shape: tuple[int, ...], layout: Layout, prefix: str
    ) -> None:
        self.graph, self.tail, self.shape, self.prefix = graph, "", shape, prefix
        self.skip: tuple[str, str] | None = None  # (source node, edge style)
        self.wraps, self.width = layout.wraps, layout.row_width
        self.row, self.new_row, self.rows = 0.0, False, 0
        self.by_width = True  # wrap where a row grows too wide (off: wrap only on `break_row`)

    def reserve(self, width: float, *, may_wrap: bool = True) -> None:
        """Account for a node about to be drawn; past the row width, it starts a new row."""
        too_wide = self.by_width and self.row + width > self.width
        if may_wrap and self.wraps and self.row and too_wide:
            self.break_row()
        self.row += width + 70  # the edge and its shape label

    def break_row(self) -> None:
        """The next node starts a new row (left to right, when this row holds something)."""
        if self.wraps and self.row:
            self.new_row, self.row = True, 0.0

    def wrap(self) -> None:
        """End this row in a point and continue from a point at the start of the next one."""
        self.rows += 1
        end, start = f"{self.prefix}row{self.rows}_end", f"{self.prefix}row{self.rows}_start"
        for point in (end, start):
            self.graph.node(point, "", shape="point", width="0.07", style="filled")
        self.graph.edge(self.tail, end, label=shape_text(self.shape), weight="4")
        self.land_skip(end)
        # orders the rows top to bottom; without constraint the next row starts at the left
        self.graph.edge(end, start, style="invis", constraint="false")
        # the row's width is not reset here: a node reserved just before `start` is in it
        self.tail, self.new_row = start, False

    def start(self) -> str:
        """The node the next node is drawn from (a new row's point, when one is due)."""
        if self.new_row:
            self.wrap()
        return self.tail

    def step(self, node: str, shape: tuple[int, ...]) -> None:
        """Connect the tail to ``node`` (labelled with the tensor's shape); ``node`` is the tail."""
        self.start()
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


ATTENTION_NAMES = {"se": "SE", "eca": "ECA"}  # squeeze-excitation, efficient channel attention


def block_text(design: Design, stage: int) -> str:
    """What distinguishes a stage's blocks: '3x3 convs: 32 groups x 4 = 128 ch, width x2'; RegNet's
    bottleneck ratio, the 3x3s' dilation and the attention module where there are any."""
    shape = stage_shapes(design)[stage]
    inner, groups = shape.inner, shape.groups
    convs = "3x3 conv" if shape.block == "bottleneck" else "3x3 convs"
    text = f"{convs}: {inner} ch"
    if groups > 1:
        text = f"{convs}: {groups} groups x {inner // groups} = {inner} ch"
    ratio = stage_knob(design, design.stages[stage], "bottleneck_ratio")
    if ratio is not None and shape.block == "bottleneck":
        text += f", bottleneck ratio {ratio:g}"
    if design.width_factor != 1:
        text += f", width x{design.width_factor:g}"
    if shape.dilation > 1:
        text += f", dilation {shape.dilation}"
    if design.attention != "none":
        text += f", {ATTENTION_NAMES[design.attention]}"
    return text


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


def _visible(
    blocks: tuple[BlockTrace, ...], max_blocks: int
) -> list[tuple[int, BlockTrace | None]]:
    """Blocks to draw: all, or the first ones, a marker (None, how many hidden), the last."""
    if len(blocks) <= max_blocks:
        return list(enumerate(blocks))
    shown = max(max_blocks - 1, 2)
    hidden = len(blocks) - shown
    return [*enumerate(blocks[: shown - 1]), (hidden, None), (len(blocks) - 1, blocks[-1])]


class _Drawer:
    """Draws one traced network into a graph (or a diff's cluster), node ids prefixed."""

    def __init__(
        self,
        graph: graphviz.Digraph,
        trace: NetworkTrace,
        layout: Layout,
        legend: Legend,
        marks: Marks,
        prefix: str,
    ) -> None:
        self.graph, self.trace, self.layout = graph, trace, layout
        self.legend, self.marks, self.prefix = legend, marks, prefix
        self.design = trace.design
        self.counts = params_and_macs_by_part(self.design)
        self.per_stage = stage_totals(self.design)
        self.ids: dict[str, str] = {}
        self.chain = _Chain(graph, trace.input_shape, layout, prefix)

    def node(
        self, key: str, kind: str, title: str, *lines: str, may_wrap: bool = True, **attrs: str
    ) -> str:
        """A node of the collapsed view (``key`` is its logical name, marks apply)."""
        node_id = f"{self.prefix}{key}"
        self.ids[key] = node_id
        style = attrs.pop("style", "rounded,filled")
        self.chain.reserve(_text_width(title, lines), may_wrap=may_wrap)
        self.graph.node(
            node_id,
            html_label(title, *lines, note=self.marks.note(key)),
            fillcolor=self.legend.kind(kind),
            style=style,
            **{**attrs, **self.marks.attrs(key)},
        )
        return node_id

    def draw(self, parts: tuple[str, ...] | None = None) -> dict[str, str]:
        """Draw the network, or only ``parts`` of it (``input``, ``stem``, ``s0``, ...,
        ``head``, ``output``, in order), then starting from a point carrying the shape."""
        if parts is None and self.layout.wraps:
            return self.draw_rows()
        parts = parts or network_parts(self.trace)
        first = network_parts(self.trace).index(_split_part(parts[0])[0])
        if parts[0] != "input":
            self.chain.tail = f"{self.prefix}from_{_node_safe(parts[0])}"
            self.chain.shape = _shape_before(self.trace, first)
            name, span = _split_part(parts[0])
            if span.start:  # a later row of a stage, stem or head: from the item before it
                item = self.items(name)[span.start - 1]
                self.chain.shape = item.out_shape if isinstance(item, BlockTrace) else item.shape
            self.graph.node(self.chain.tail, "", shape="point", width="0.07")
        for part in parts:
            self.part(part)
        return self.ids

    def draw_rows(self) -> dict[str, str]:
        """Left to right in one graph: the rows of `network_rows`, each box cut at a row's
        end (a box spanning rows scrambles graphviz's layout), one row under the other."""
        self.chain.by_width = False
        for parts in _rows(self.trace, self.layout):
            self.chain.break_row()
            for part in parts:
                self.part(part)
        return self.ids

    def items(self, name: str) -> list:
        """What part ``name`` draws in a row: the stem's or head's ops, a stage's visible
        blocks (None for the marker of elided ones)."""
        if name in ("stem", "head"):
            return list(getattr(self.trace, name))
        blocks = self.trace.stages[int(name[1:])]
        visible = [b for _, b in _visible(blocks, self.layout.max_blocks)]
        return [b if b is not None else blocks[1] for b in visible]

    def part(self, part: str) -> None:
        name, span = _split_part(part)
        if name == "input":
            self.chain.tail = self.node("input", "io", "input", shape_text(self.trace.input_shape))
        elif name in ("stem", "head"):
            self.stem(span) if name == "stem" else self.head(span)
        elif name == "output":
            text = f"{self.design.num_classes} logits"
            self.chain.step(
                self.node("output", "io", "output", text, may_wrap=False), self.chain.shape
            )
        else:
            i = int(name[1:])
            self.stage(i, self.trace.stages[i], span)

    def stem(self, span: slice = slice(None)) -> None:
        stem = self.trace.stem
        self.ops_part("stem", stem, f"stem ({self.design.stem})", self.trace.stem_shape, span)

    def head(self, span: slice = slice(None)) -> None:
        head = self.trace.head
        self.ops_part("head", head, "head", head[-1].shape if head else (), span)

    def ops_part(
        self, name: str, ops: tuple[TracedOp, ...], title: str, shape: tuple[int, ...], span: slice
    ) -> None:
        """The stem or the head: one node listing its ops, or (depth >= 1) a box of them."""
        if not ops:
            return
        if self.layout.depth >= 1:
            self.ops_cluster(name, ops, span)
            return
        lines = (*_summary(ops), counts_text(*self.counts[name]))
        self.chain.step(self.node(name, name, title, *lines), shape)

    def stage_lines(self, i: int, blocks: tuple[BlockTrace, ...]) -> list[str]:
        total = self.per_stage[i]
        return [
            block_text(self.design, i),
            shortcut_summary(blocks),
            counts_text(total.params, total.macs),
        ]

    def stage(self, i: int, blocks: tuple[BlockTrace, ...], span: slice = slice(None)) -> None:
        """Stage ``i``: one node, or a box of its blocks (only the visible ones in ``span``,
        a row of `network_rows`; rows after the first are labelled as its continuation)."""
        key, level = f"s{i}", self.layout.level(i)
        lines = self.stage_lines(i, blocks)
        if level == 0:
            dashed = {"style": "rounded,filled,dashed"} if _projected(blocks) else {}
            node = self.node(key, blocks[0].block, stage_title(blocks), *lines, **dashed)
            self.chain.step(node, blocks[-1].out_shape)
            return
        self.chain.break_row()  # a stage's blocks start their own row
        label = html_label(stage_title(blocks), *lines, note=self.marks.note(key))
        if span.start:
            label = html_label(f"layer{i + 1} (continued)")
        with self.graph.subgraph(name=f"cluster_{self.prefix}{key}_{span.start or 0}") as box:
            box.attr(label=label, style="rounded", **{"color": "#999999", **self.marks.attrs(key)})
            for j, block in _visible(blocks, self.layout.max_blocks)[span]:
                if block is None:
                    self.elided(box, key, j, blocks)
                elif level == 1:
                    self.block_node(box, block)
                else:
                    self.block_ops(box, block)

    def elided(self, box: graphviz.Digraph, key: str, hidden: int, blocks) -> None:
        title = f"... {hidden} more blocks like {blocks[1].name}"
        self.chain.reserve(_text_width(title, ()))
        node_id = f"{self.prefix}{key}e"
        self.ids[f"{key}e"] = node_id
        fill = self.legend.kind("elided")
        box.node(node_id, html_label(title), fillcolor=fill, style="rounded,dashed")
        self.chain.step(node_id, self.chain.shape)

    def block_node(self, box: graphviz.Digraph, block: BlockTrace) -> None:
        """One block as one node, skipped by its shortcut edge (depth 1)."""
        key = f"s{block.stage}b{block.index}"
        title = f"{block.name}: {block.in_shape[0]} -> {block.out_shape[0]}"
        title += f", /{block.stride}" if block.stride != 1 else ""
        lines = [counts_text(*self.counts[block.name])]
        if block.shortcut not in ("identity", "none"):
            lines.insert(0, f"shortcut: {SHORTCUT_NAMES[block.shortcut]}")
        self.chain.reserve(_text_width(title, lines))
        node_id = f"{self.prefix}{key}"
        box.node(
            node_id,
            html_label(title, *lines, note=self.marks.note(key)),
            fillcolor=self.legend.kind(block.block),
            **self.marks.attrs(key),
        )
        source = self.chain.start()  # the block's input: its shortcut skips from here
        self.chain.step(node_id, block.out_shape)
        if block.shortcut != "none":
            self.chain.skip = (source, self.legend.edge(block.shortcut))

    def block_ops(self, box: graphviz.Digraph, block: BlockTrace) -> None:
        """One block as its operations, in a dashed box (depth 2); left to right, one row each."""
        key = f"s{block.stage}b{block.index}"
        params, macs = self.counts[block.name]
        if self.layout.wraps:
            self.chain.wrap()  # each block is a row (the ops' own edges start from its point)
        with box.subgraph(name=f"cluster_{self.prefix}{key}") as inner:
            inner.attr(
                label=html_label(block.name, counts_text(params, macs), note=self.marks.note(key)),
                style="rounded,dashed",
                **{"color": "#bbbbbb", **self.marks.attrs(key)},
            )
            self.chain.land_skip(f"{self.prefix}{key}_{block.ops[0].id}")  # never pending here
            last = draw_block_ops(
                inner,
                self.design,
                block,
                prefix=f"{self.prefix}{key}_",
                entry=self.chain.tail,
                legend=self.legend,
            )
        self.chain.tail, self.chain.shape = last, block.out_shape

    def ops_cluster(self, name: str, ops: tuple[TracedOp, ...], span: slice = slice(None)) -> None:
        """Stem or head ops in a box, one after the other (they form a chain in this builder);
        only those in ``span`` (a row of `network_rows`)."""
        from resnet_explorer.diagrams.trace import op_counts

        label = f"{name} (continued)" if span.start else name
        with self.graph.subgraph(name=f"cluster_{self.prefix}{name}_{span.start or 0}") as box:
            box.attr(label=label, style="rounded", **{"color": "#999999", **self.marks.attrs(name)})
            for op in ops[span]:
                params, macs = op_counts(self.design, "", op)
                lines = [op.target] + ([counts_text(params, macs)] if params else [])
                node_id = f"{self.prefix}{name}_{op.id}"
                self.chain.reserve(_text_width(op.label, lines))
                box.node(
                    node_id,
                    html_label(op.label, *lines),
                    fillcolor=self.legend.kind(op.kind),
                    tooltip=op.target,
                )
                self.chain.step(node_id, op.shape)


def network_parts(trace: NetworkTrace) -> tuple[str, ...]:
    """The parts of a network in forward order: input, stem, s0, s1, ..., head, output."""
    stem = ("stem",) if trace.stem else ()
    head = ("head",) if trace.head else ()
    return ("input", *stem, *(f"s{i}" for i in range(len(trace.stages))), *head, "output")


def _node_safe(part: str) -> str:
    """A part name usable in a node id ('s2@4:8' -> 's2_4_8'; ':' would name a port)."""
    return part.replace("@", "_").replace(":", "_")


def _split_part(part: str) -> tuple[str, slice]:
    """'s2' -> ('s2', all of it); 's2@4:8' -> ('s2', its items 4 to 7)."""
    name, _, span = part.partition("@")
    if not span:
        return name, slice(None)
    lo, hi = span.split(":")
    return name, slice(int(lo), int(hi))


def _shape_before(trace: NetworkTrace, index: int) -> tuple[int, ...]:
    """The shape flowing into part ``index`` of `network_parts`."""
    shape = trace.input_shape
    for part in network_parts(trace)[1:index]:
        if part == "stem":
            shape = trace.stem_shape
        elif part == "head":
            shape = trace.head[-1].shape
        elif part.startswith("s"):
            shape = trace.stages[int(part[1:])][-1].out_shape
    return shape


def draw_network(
    graph: graphviz.Digraph,
    trace: NetworkTrace,
    *,
    prefix: str = "",
    layout: Layout | None = None,
    legend: Legend,
    marks: Marks | None = None,
) -> dict[str, str]:
    """Draw ``trace`` into ``graph``; returns logical key -> node id of the collapsed nodes."""
    drawer = _Drawer(graph, trace, layout or Layout(), legend, marks or Marks(), prefix)
    return drawer.draw()


def check_layout(design: Design, layout: Layout) -> Layout:
    """``layout`` checked against ``design`` (`DiagramError` naming the bad option)."""
    check_depth(layout.depth)
    check_rankdir(layout.rankdir)
    if layout.expand_stage is not None:
        trace_network(design).block(layout.expand_stage, 0)  # validates the stage index
    max_blocks = layout.max_blocks
    if isinstance(max_blocks, bool) or not isinstance(max_blocks, int) or max_blocks < 3:
        raise DiagramError(f"max_blocks={max_blocks!r}: use a whole number >= 3")
    return replace(layout, max_blocks=max_blocks, rankdir=layout.rankdir.upper())


def design_name(design: Design) -> str:
    """The preset's title when ``design`` is one ('ResNeXt-50 (32x4d)'), else its shape."""
    match = presets.find(design)
    if match is not None:
        return match.title
    blocks = sum(s.blocks for s in design.stages)
    return f"Custom design, depth {design.depth} ({blocks} blocks)"


def _header(design: Design, title: str | None) -> tuple[str, ...]:
    total = totals(design)
    return (
        title or design_name(design),
        f"{design.block} blocks, shortcut {design.shortcut}, "
        f"{design.activation_order} order, {design.activation}, {design.norm} norm",
        counts_text(total.params, total.macs),
    )


def _legend_extra(trace: NetworkTrace, layout: Layout, marks: Marks | None) -> list:
    collapsed = [b for i, b in enumerate(trace.stages) if layout.level(i) == 0]
    extra = []
    if any(_projected(blocks) for blocks in collapsed):
        extra.append(("dashed box", "stage with a projection shortcut"))
    if marks is not None and marks.notes:
        extra.append(("red outline", "differs from the baseline"))
    return extra


def network_diagram(
    design: Design,
    *,
    depth: int = 0,
    expand_stage: int | None = None,
    rankdir: str = "TB",
    max_blocks: int = 64,
    title: str | None = None,
    marks: Marks | None = None,
) -> graphviz.Digraph:
    """Diagram of the whole network ``design`` builds.

    ``depth`` 0 collapses each stage into one node ("layer3: Bottleneck x 6, 512 -> 1024, /2",
    with its convs' width and groups, shortcuts, params and MACs), 1 draws every block
    (shortcuts skip each block: solid identity, dashed projection, dotted zero-pad), 2 every
    operation. ``expand_stage`` (from 0) expands that stage only (to ``max(depth, 1)``). Stages
    longer than ``max_blocks`` show their first and last blocks. ``rankdir="LR"`` lays the
    network out in rows read left to right (`network_rows` gives each row its own graph).
    ``title`` names the design (default: its preset's title); ``marks`` highlight nodes with a
    note (see `diff.differences`). Edges carry shapes (C x H x W); nodes carry analytic
    parameters and MACs.
    """
    layout = check_layout(design, Layout(depth, expand_stage, max_blocks, rankdir))
    trace = trace_network(design)
    graph = new_graph("network", layout.rankdir, *_header(design, title))
    legend = Legend()
    draw_network(graph, trace, layout=layout, legend=legend, marks=marks)
    legend.draw(graph, _legend_extra(trace, layout, marks))
    return graph


def _rows(trace: NetworkTrace, layout: Layout) -> list[tuple[str, ...]]:
    """The parts of the network grouped into rows: collapsed parts share a row while it is
    narrow enough; an expanded stage is split into rows of a few blocks ('s2@0:3'; one block
    a row at depth 2); the expanded stem goes with the input, the output with the head."""
    rows: list[list[str]] = [[]]
    width = 0.0
    for part in network_parts(trace):
        if part.startswith("s") and part != "stem" and layout.level(int(part[1:])) > 0:
            i = int(part[1:])
            count = len(_visible(trace.stages[i], layout.max_blocks))
            per_row = 1 if layout.level(i) > 1 else BLOCKS_PER_ROW
        elif part in ("stem", "head") and layout.depth > 0:
            count, per_row = len(getattr(trace, part)), OPS_PER_ROW
        else:
            guess = 260.0 if part.startswith("s") else 160.0
            if rows[-1] and part != "output" and width + guess > layout.row_width:
                rows.append([])
                width = 0.0
            rows[-1].append(part)
            width += guess
            continue
        starts = list(range(0, count, per_row))
        if part == "stem" and rows[-1] == ["input"]:  # the input starts the stem's first row
            starts = [0, *range(per_row - 1, count, per_row)]
        bounds = [*starts, count]
        chunks = [f"{part}@{lo}:{hi}" for lo, hi in pairwise(bounds)]
        if part == "stem" and rows[-1] == ["input"]:
            rows[-1].append(chunks.pop(0))
        rows += [[c] for c in chunks]
        rows.append([])
        width = 0.0
    if len(rows) > 1 and rows[-1] == ["output"] and "head" in rows[-2][-1]:
        rows[-2].append(rows.pop()[0])  # the output ends the head's last row
    return [tuple(r) for r in rows if r]


def network_rows(
    design: Design,
    *,
    depth: int = 0,
    expand_stage: int | None = None,
    max_blocks: int = 64,
    title: str | None = None,
    marks: Marks | None = None,
) -> list[graphviz.Digraph]:
    """The left-to-right diagram as one graph per row, each laid out on its own (rows of one
    graph share their columns, which makes them wide), then the legend: the app stacks them,
    so a deep network reads like wrapped text. The first carries the title; a row ends in a
    point where the next one starts."""
    layout = Layout(depth, expand_stage, max_blocks, "LR", ROW_WIDTH_PT * 0.75, wrap=False)
    layout = check_layout(design, layout)
    trace = trace_network(design)
    legend = Legend()
    rows = _rows(trace, layout)
    graphs = []
    for k, parts in enumerate(rows):
        header = _header(design, title) if k == 0 else ("",)
        graph = new_graph(f"network_row{k}", "LR", *header)
        drawer = _Drawer(graph, trace, layout, legend, marks or Marks(), "")
        drawer.draw(parts)
        if k < len(rows) - 1:
            end = f"to_{_node_safe(rows[k + 1][0])}"
            graph.node(end, "", shape="point", width="0.07")
            drawer.chain.step(end, drawer.chain.shape)
        graphs.append(graph)
    key = new_graph("network_legend", "LR", "")
    legend.draw(key, _legend_extra(trace, layout, marks))
    return [*graphs, key]
