"""Train and understand: live probes, one-click experiments, gradient flow, loss landscapes,
lesions."""

import streamlit as st

from resnet_explorer.probes import warm
from resnet_explorer.ui import page, probe, probe_history, probe_jobs, probe_link, probe_studies

design = page.setup("Probe", "probe")
with page.guard():
    warm.warm_in_background()  # the offline digits at 16 px and the optimizer, before Start
    st.html(probe_jobs.HIDE_HEADER_STOP)
    st.title("Train and understand")
    st.caption(
        "Short, seeded training runs of up to four designs on the same batches, in a shared "
        "background queue (one job per device): curves update live, and every run lands in the "
        "library's run history."
    )
    options = probe.design_options()
    probe_link.seed(options)
    notice = probe_link.notice()
    if notice:
        st.warning(notice, icon=":material/link_off:")
    probe_jobs.panel()
    train, flow, slices, lesions = st.tabs(
        ["Train", "Gradient flow", "Loss landscape", "Lesion study"]
    )
    with train:
        with st.expander("One-click experiments", expanded=True):
            probe.experiment_panel()
        st.subheader("Your own designs")
        picked = probe.design_picker(design, options)
        config = probe.settings()
        probe.start_button(picked, config)
        st.subheader("Progress")
        probe.live()
        with st.expander("Run history (latest)"):
            probe_history.run_history()
        probe_link.publish()
        with st.expander("Share this probe"):
            st.caption("The address bar holds the picks and settings; this is the same link.")
            st.code(probe_link.share_link(), language=None, wrap_lines=True)
    with flow:
        probe_studies.gradient_flow()
        probe_studies.signal_propagation(design)
    with slices:
        probe_studies.landscape_controls(picked)
        probe_studies.study_results("landscape")
    with lesions:
        probe_studies.lesion_controls(picked)
        probe_studies.study_results("lesion")
