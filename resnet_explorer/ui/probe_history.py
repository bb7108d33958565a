"""The Probe page's run history: the library's latest runs, probes and studies alike, and any
saved landscape or lesion study drawn again from what the library kept."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from resnet_explorer.ui import probe_studies, stored


def _when(stamp: str | None) -> str:
    return (stamp or "")[:19].replace("T", " ")


def _budget(config: dict) -> str:
    """The run's budget as it was asked for: steps and/or seconds, batch, input size."""
    parts = []
    if config.get("steps"):
        parts.append(f"{config['steps']} steps")
    if config.get("seconds"):
        parts.append(f"{config['seconds']:g} s")
    if config.get("batch_size"):
        parts.append(f"batch {config['batch_size']}")
    if config.get("image_size"):
        parts.append(f"{config['image_size']} px")
    return ", ".join(parts)


def run_history(limit: int = 12) -> None:
    """The latest runs (all of them, with their curves, are on the Library page)."""
    store = stored.open_store(quiet=True)
    if store is None:
        st.caption("The library cannot be opened, so runs are not saved.")
        return
    runs = stored.read_or_say(
        lambda: store.runs(limit=limit), "The run history could not be read", "No runs yet."
    )
    if runs is None:
        return
    rows = [
        {
            "run": r.run_id[:8],
            "kind": r.config.get("study") or "probe",
            "design": r.config.get("label", r.design_hash[:8]),
            "status": r.status,
            "steps": r.steps,
            "seed": r.config.get("seed"),
            "of seeds": r.config.get("seeds", 1),
            "budget": _budget(r.config),
            "started": _when(r.started),
            "error or why it stopped": r.error or "",
        }
        for r in runs
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="probe_history")
    order = next((r.config.get("data_order") for r in runs if r.config.get("data_order")), None)
    if order:
        st.caption(f"Data order: {order}.")
    st.page_link(
        "pages/4_Library.py",
        label="All runs and their curves: Library",
        icon=":material/collections_bookmark:",
    )
    studies = {r.run_id: r for r in runs if r.config.get("study")}
    if studies:
        picked = st.selectbox(
            "Show a saved study",
            [None, *studies],
            format_func=lambda rid: (
                "(none)"
                if rid is None
                else f"{studies[rid].config.get('label')} · {_when(studies[rid].started)}"
            ),
            key="probe_history_study",
        )
        if picked is not None:
            probe_studies.saved_study(studies[picked])
