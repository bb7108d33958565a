"""Train and understand: live probes, one-click experiments, gradient flow, loss landscapes,
lesions."""

import streamlit as st

from resnet_explorer.ui import page, probe, probe_studies

design = page.setup("Probe", "probe")
st.title("Train and understand")
st.caption(
    "Short, seeded training runs of up to four designs on the same batches, in a shared "
    "background queue (one job per device): curves update live, and every run lands in the "
    "library's run history."
)
train, flow, slices, lesions = st.tabs(["Train", "Gradient flow", "Loss landscape", "Lesion study"])
with train:
    with st.expander("One-click experiments", expanded=True):
        probe.experiment_panel()
    st.subheader("Your own designs")
    picked = probe.design_picker(design)
    config = probe.settings()
    probe.start_button(picked, config)
    st.subheader("Progress")
    probe.live()
    with st.expander("Run history (latest)"):
        probe.run_history()
with flow:
    probe_studies.gradient_flow()
with slices:
    probe_studies.landscape_controls(picked)
    probe_studies.landscape_view()
with lesions:
    probe_studies.lesion_controls(picked)
    probe_studies.lesion_view()
