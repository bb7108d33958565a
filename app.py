"""ResNet Explorer, home page: compose a design and see what it is and what it costs."""

import streamlit as st

from resnet_explorer.ui import figures, home_block, page, sharing, state

design = page.setup("Design", "design")
with page.guard():
    title, share = st.columns([4, 1], vertical_alignment="bottom")
    with title:
        st.title(page.design_title(design))
    with share:  # at the top: the popover opens downward with the window's height below it
        sharing.share_button(design)
    figures.headline(design, state.origin())

    st.subheader("Budget per stage")
    figures.stage_budget(design)
    left, right = st.columns([3, 2])
    with right:
        st.subheader("Design file")
        sharing.share_panel(design)
    with left:  # drawn last: the block is traced with PyTorch, which the figures above never need
        st.subheader("Block")
        home_block.block_section(design)
page.finish()
