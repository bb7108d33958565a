"""The block diagram: one residual block as in the papers, drawn from its traced forward."""

from __future__ import annotations

import graphviz

from resnet_explorer.design import ACTIVATION_ORDER_DESCRIPTIONS, Design
from resnet_explorer.diagrams.ops import draw_block_ops
from resnet_explorer.diagrams.style import (
    BLOCK_NAMES,
    SHORTCUT_NAMES,
    Legend,
    counts_text,
    html_label,
    new_graph,
    shape_text,
)
from resnet_explorer.diagrams.trace import params_and_macs_by_part, trace_network


def block_diagram(
    design: Design, stage: int = 0, block: int = 0, *, rankdir: str = "TB"
) -> graphviz.Digraph:
    """Diagram of block ``block`` of stage ``stage`` (both from 0) of ``design``.

    The main path shows every conv (kernel, channels, stride, groups), norm and activation in
    forward order; the shortcut is drawn by kind (solid identity, dotted zero-pad, dashed
    projection); edges carry tensor shapes (C x H x W). Raises `DiagramError` for a block that
    does not exist and `DesignError` for a design that cannot be built.
    """
    trace = trace_network(design).block(stage, block)
    params, macs = params_and_macs_by_part(design)[trace.name]
    graph = new_graph(
        f"block_{trace.name}",
        rankdir,
        f"{trace.name}: {BLOCK_NAMES[trace.block]} block, "
        f"{shape_text(trace.in_shape)} -> {shape_text(trace.out_shape)}",
        f"shortcut: {SHORTCUT_NAMES[trace.shortcut]}; "
        f"activation order {ACTIVATION_ORDER_DESCRIPTIONS[trace.order]}",
        counts_text(params, macs),
    )
    legend = Legend()
    graph.node("input", html_label("block input"), fillcolor=legend.kind("io"), group="main")
    last = draw_block_ops(graph, design, trace, prefix="op_", entry="input", legend=legend)
    graph.node("output", html_label("block output"), fillcolor=legend.kind("io"), group="main")
    graph.edge(last, "output", label=shape_text(trace.out_shape), weight="4")
    legend.draw(graph)
    graph.edge("output", "legend", style="invis")  # the key below the block: it stays narrow
    return graph
