"""Drawing the traced operations of one block: shared by the block and network diagrams."""

from __future__ import annotations

from collections.abc import Callable

import graphviz

from resnet_explorer.design import Design
from resnet_explorer.diagrams.style import Legend, counts_text, html_label, shape_text
from resnet_explorer.diagrams.trace import INPUT, BlockTrace, TracedOp, op_counts


def op_node_id(prefix: str, op_id: str) -> str:
    return f"{prefix}{op_id}"


def draw_block_ops(
    graph: graphviz.Digraph,
    design: Design,
    block: BlockTrace,
    *,
    prefix: str,
    entry: str,
    legend: Legend,
    shortcut_cluster: bool = True,
) -> str:
    """Draw ``block``'s ops into ``graph``, fed from node ``entry``; returns the exit node id.

    Every data-flow edge of the traced forward is drawn, labelled with the tensor's shape; the
    shortcut's ops and edges are styled by the kind of shortcut.
    """
    by_id = {op.id: op for op in block.ops}
    shortcut_style = legend.edge(block.shortcut) if block.shortcut != "none" else "solid"

    def source(op_id: str) -> tuple[str, tuple[int, ...]]:
        if op_id == INPUT:
            return entry, block.in_shape
        return op_node_id(prefix, op_id), by_id[op_id].shape

    # Ops go into the DOT source in forward order; the shortcut's ops (one contiguous run, since
    # ``downsample`` is one call) are boxed in a cluster where the run starts.
    i = 0
    while i < len(block.ops):
        op = block.ops[i]
        if op.shortcut and shortcut_cluster:
            run = [op]
            while i + len(run) < len(block.ops) and block.ops[i + len(run)].shortcut:
                run.append(block.ops[i + len(run)])
            with graph.subgraph(name=f"cluster_{prefix}shortcut") as box:
                box.attr(label="shortcut", style="dashed,rounded", color="#999999", fontsize="9")
                for member in run:
                    _draw_op(box, design, block, member, prefix, legend, source, shortcut_style)
            # Edges stay outside: an edge inside a cluster would pull its ends (the block's
            # input, the addition) into the cluster.
            for member in run:
                _draw_edges(graph, block, member, prefix, source, shortcut_style)
            i += len(run)
        else:
            _draw_op(graph, design, block, op, prefix, legend, source, shortcut_style)
            _draw_edges(graph, block, op, prefix, source, shortcut_style)
            i += 1
    return op_node_id(prefix, block.ops[-1].id) if block.ops else entry


def _draw_op(
    graph: graphviz.Digraph,
    design: Design,
    block: BlockTrace,
    op: TracedOp,
    prefix: str,
    legend: Legend,
    source: Callable[[str], tuple[str, tuple[int, ...]]],
    shortcut_style: str,
) -> None:
    params, macs = op_counts(design, block.name, op)
    label = op.label if op.kind != "drop_path" else f"drop path, p={block.drop_path:.3g}"
    lines = [op.target] if op.kind != "add" else []
    if params or macs:
        lines.append(counts_text(params, macs))
    node_id = op_node_id(prefix, op.id)
    fill = legend.kind(op.kind)
    tooltip = f"{block.name}.{op.target}"
    if op.kind == "add":
        graph.node(
            node_id,
            "+",
            shape="circle",
            fillcolor=fill,
            tooltip=tooltip,
            width="0.35",
            fixedsize="true",
            fontsize="14",
        )
    else:
        graph.node(
            node_id,
            html_label(label, *lines),
            fillcolor=fill,
            tooltip=tooltip,
            group=prefix + ("shortcut" if op.shortcut else "main"),
        )


def _draw_edges(
    graph: graphviz.Digraph,
    block: BlockTrace,
    op: TracedOp,
    prefix: str,
    source: Callable[[str], tuple[str, tuple[int, ...]]],
    shortcut_style: str,
) -> None:
    node_id = op_node_id(prefix, op.id)
    for position, op_input in enumerate(op.inputs):
        src, shape = source(op_input)
        attrs = {"label": shape_text(shape)}
        # The addition's second operand is the shortcut; so is every edge into a shortcut op.
        if op.shortcut or (op.kind == "add" and position == 1):
            attrs["style"] = shortcut_style
            if op.kind == "add" and block.shortcut == "identity":
                attrs["label"] += " (identity)"
            attrs["penwidth"] = "1.5"
            attrs["weight"] = "0"
        else:
            attrs["weight"] = "4"
        graph.edge(src, node_id, **attrs)
