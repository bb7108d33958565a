"""Explore a design space: sample under a budget, evaluate, compare distributions."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import explore, page

page.setup("Explore", "explore")
with page.guard():
    st.title("Explore a design space")
    st.caption(
        "Sample designs from a space under a compute budget (analytic counts only), measure "
        "latency and a short probe on request, and compare the distributions (Radosavovic et "
        "al. 2020)."
    )
    space = explore.space_editor()
    explore.run_controls(space)
    explore.progress()
page.finish()
