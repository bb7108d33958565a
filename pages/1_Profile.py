"""Profile: what the design costs, in every convention, measured where it can be."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import page, profile_view

design = page.setup("Profile", "profile", icon=":material/speed:")
with page.guard():
    st.title(f"Profile · {page.design_title(design)}")

    st.header("FLOPs: four conventions")
    profile_view.conventions(design)

    st.header("Layers")
    profile_view.layer_table(design)

    st.header("Memory")
    profile_view.memory_panel(design)

    st.header("torchinfo summary")
    profile_view.torchinfo_panel(design)

    st.header("Latency")
    profile_view.latency_panel(design)
page.finish()
