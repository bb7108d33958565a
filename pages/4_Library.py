"""Library: save the current design, find and open saved ones, and the probe-run history."""

import streamlit as st

# A fresh server imports PyTorch on its first page: say so instead of showing a blank page.
with st.spinner("Starting ResNet Explorer: loading PyTorch (first page only)...", show_time=True):
    from resnet_explorer.ui import library, page, stored

design = page.setup("Library", "library")
with page.guard():
    st.title("Library")
    store = stored.open_store()
    if store is not None:
        st.caption(f"Saved in `{store.path}`")
        library.flash()
        library.save_form(store, design)
        st.subheader("Saved designs")
        library.undo_bar(store)
        library.actions(store, library.saved_designs(store))
        st.subheader("Run history")
        library.run_history(store)
page.finish()
