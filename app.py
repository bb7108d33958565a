"""ResNet Explorer, home page: compose a design and see what it is and what it costs."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import cached, charts, diagram_view, figures, page, sharing, state

design = page.setup("Design", "design")
with page.guard():
    st.title(page.design_title(design))
    figures.headline(design, state.origin())

    left, right = st.columns([1, 1])
    with right:
        st.subheader("Budget per stage")
        stage_names = [f"layer{i + 1}" for i in range(len(design.stages))]
        st.plotly_chart(
            charts.stage_budget(cached.analytic_stages(design.to_json()), stage_names),
            key="stage_budget",
        )

    st.subheader("Share")
    sharing.share_panel(design)
    with left:  # drawn last: tracing the block is the slowest part of a fresh server's first page
        st.subheader("Block")
        stage, block = diagram_view.block_picker(design, "home")
        diagram_view.show_block(design, stage, block)
page.finish()
