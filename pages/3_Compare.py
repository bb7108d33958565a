"""Compare: 2 to 4 designs side by side, with deltas, charts, diagrams, curves and a report."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import compare, page

design = page.setup("Compare", "compare")
with page.guard():
    st.title("Compare designs")
    store = compare.open_store()
    candidates = compare.pick(design, store)
    if candidates:
        found = compare.metrics(candidates, store)
        compare.summary(found)
        compare.report(candidates)
        st.subheader("Per stage")
        compare.stage_bars(found)
        st.subheader("Cost")
        compare.costs(found)
        st.subheader("Diagrams")
        compare.diagrams(candidates, found)
        st.subheader("Probe curves")
        compare.curves(candidates, found, store)
page.finish()
