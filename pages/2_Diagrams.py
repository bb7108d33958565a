"""Diagrams: the network and any block, drawn from the model that was built."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import diagram_view, page

design = page.setup("Diagrams", "diagrams", icon=":material/account_tree:")
with page.guard():
    st.title(f"Diagrams · {page.design_title(design)}")

    network, block = st.tabs(["Network", "Block"])
    with network:
        cols = st.columns(3)
        depth = cols[0].radio(
            "Detail",
            [0, 1, 2],
            horizontal=True,
            format_func=["stages", "blocks", "every layer"].__getitem__,
        )
        expand = cols[1].selectbox(
            "Expand one stage",
            [None, *range(len(design.stages))],
            format_func=lambda i: "none" if i is None else f"layer{i + 1}",
        )
        rankdir = cols[2].radio(
            "Layout",
            ["TB", "LR"],
            horizontal=True,
            format_func={"TB": "top to bottom", "LR": "left to right"}.get,
        )
        dot = diagram_view.show_network(design, depth, expand, rankdir, page.design_title(design))
        if dot:
            diagram_view.downloads(dot, f"network-{design.hash[:8]}")
    with block:
        stage, index = diagram_view.block_picker(design, "diagram")
        dot = diagram_view.show_block(design, stage, index)
        if dot:
            diagram_view.downloads(dot, f"block-{design.hash[:8]}-{stage}-{index}")
page.finish()
