"""ResNet Explorer, home page: compose a design and see what it is and what it costs."""

import streamlit as st

from resnet_explorer.ui import figures, home_block, page, sharing, state

design = page.setup("Design", "design")
with page.guard():
    st.title(page.design_title(design))
    figures.headline(design, state.origin())

    st.subheader("Budget per stage")
    figures.stage_budget(design)
    left, right = st.columns([3, 2])
    with right:
        st.subheader("Share")
        sharing.share_panel(design)
    with left:  # drawn last: the block is traced with PyTorch, which the figures above never need
        st.subheader("Block")
        home_block.block_section(design)
page.finish()
