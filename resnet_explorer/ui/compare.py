"""The Compare page's widgets: pick 2 to 4 designs (presets, the library, the editor's), then
the metrics table with deltas, per-stage bars, the cost scatter, diagrams side by side,
overlaid probe curves and the review report."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import Design
from resnet_explorer.diagrams import DiagramError, diff_diagram, network_diagram
from resnet_explorer.errors import DesignError
from resnet_explorer.report import (
    MAX_CANDIDATES,
    Candidate,
    DesignMetrics,
    comparison_rows,
    curve_metrics,
    figures,
    measure,
    measured_latency,
    run_curves,
)
from resnet_explorer.report.metrics import Latency, column_name
from resnet_explorer.store import Store, StoreError
from resnet_explorer.ui import state, stored
from resnet_explorer.ui.report_download import report_button

EDITOR = "editor"
_PICK = "cmp_pick"


def _sent() -> dict[str, Design]:
    return state.sent_to_compare()


def _editor_name(design: Design) -> str:
    base = state.origin()
    if base is None:
        return "current"
    name = base.library or base.preset
    return f"current ({name})" if base.design == design else f"current ({name}, modified)"


def options(store: Store | None) -> list[str]:
    """What can be compared: the editor's design, every preset, every saved design."""
    found = [EDITOR] + [f"sent:{label}" for label in _sent()]
    found += [f"preset:{n}" for n in presets.names()]
    if store is not None:
        try:
            found += [f"library:{s.name}" for s in store.list_designs()]
        except StoreError as exc:
            st.warning(f"Saved designs are not offered: {exc}")
    return found


def _label(option: str) -> str:
    if option == EDITOR:
        return "The editor's current design"
    kind, name = option.split(":", 1)
    return {"library": f"{name} (library)", "sent": f"{name} (from Explore)"}.get(
        kind, f"{name} (preset)"
    )


def _default(design: Design) -> list[str]:
    sent = [f"sent:{label}" for label in _sent()]
    if sent:
        return [EDITOR, *sent[: MAX_CANDIDATES - 1]]
    other = "resnet34" if design != presets.get("resnet34") else "resnet18"
    return [EDITOR, f"preset:{other}"]


def pick(design: Design, store: Store | None) -> list[Candidate]:
    """The multiselect; returns the candidates (empty, with a hint, unless 2 to 4)."""
    offered = options(store)
    if _PICK not in st.session_state or state.take_new_sent():
        st.session_state[_PICK] = _default(design)
    # A saved design deleted elsewhere drops out instead of breaking the widget.
    st.session_state[_PICK] = [o for o in st.session_state[_PICK] if o in offered]
    chosen = st.multiselect(
        "Designs to compare (2 to 4; the first is the baseline for deltas)",
        offered,
        key=_PICK,
        max_selections=MAX_CANDIDATES,
        format_func=_label,
    )
    if len(chosen) < 2:
        st.info("Pick at least two designs: presets, saved designs or the editor's design.")
        return []
    candidates = []
    for option in chosen:
        try:
            candidates.append(_candidate(option, design, store))
        except (StoreError, DesignError) as exc:
            st.error(f"{_label(option)} cannot be compared: {exc}")
    return candidates if len(candidates) >= 2 else []


def _candidate(option: str, design: Design, store: Store | None) -> Candidate:
    if option == EDITOR:
        return Candidate(_editor_name(design), design, "editor")
    kind, name = option.split(":", 1)
    if kind == "preset":
        return Candidate(name, presets.get(name), "preset")
    if kind == "sent":
        return Candidate(name, _sent()[name], "explore")
    if store is None:
        raise StoreError("the library is not available")
    return Candidate(name, store.get_design(name).design, "library")


@st.cache_data(max_entries=64, show_spinner="Measuring training memory...")
def _metrics(name: str, source: str, design_json: str, latency: tuple | None) -> DesignMetrics:
    candidate = Candidate(name, Design.from_json(design_json), source)
    return measure(candidate, latency=Latency(*latency) if latency else None)


def _latency(store: Store | None, design: Design) -> tuple | None:
    if store is None:
        return None
    try:
        found = measured_latency(store, design.hash)
    except StoreError:
        return None
    if found is None:
        return None
    return (
        found.seconds,
        found.batch_size,
        found.device,
        found.device_name,
        found.precision,
        found.measured,
    )


def metrics(candidates: Sequence[Candidate], store: Store | None) -> list[DesignMetrics]:
    """The figures of every candidate (cached per design; latency read from the library)."""
    return [
        _metrics(c.name, c.source, c.design.to_json(), _latency(store, c.design))
        for c in candidates
    ]


def summary(found: list[DesignMetrics]) -> None:
    """The metrics table: values, deltas against the first design in brackets."""
    rows = comparison_rows(found)
    frame = pd.DataFrame(rows).set_index("metric")
    st.table(frame)
    st.caption(
        f"Deltas in brackets are against **{column_name(found, 0)}**. 'exact': counted from the "
        "design; 'estimate': fp32 parameters, gradients, SGD momentum and the saved activations "
        "(measured on the meta device); 'measured': latency from a profile kept in the library."
    )


def stage_bars(found: list[DesignMetrics]) -> None:
    st.plotly_chart(figures.stage_bars(found), key="cmp_stages")


def costs(found: list[DesignMetrics]) -> None:
    """MACs vs parameters (and vs measured latency where the library has it)."""
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.cost_scatter(found), key="cmp_scatter")
    with right:
        latency = figures.latency_scatter(found)
        if latency is not None:
            st.plotly_chart(latency, key="cmp_latency")
        missing = [column_name(found, i) for i, m in enumerate(found) if m.latency is None]
        if missing:
            st.info(
                "Latency not measured for "
                + ", ".join(f"**{n}**" for n in missing)
                + ": profile them with latency on the Profile page (or `python -m "
                "resnet_explorer profile`) and keep the result in the library."
            )


def diagrams(candidates: Sequence[Candidate], found: list[DesignMetrics]) -> None:
    """Two designs: one diff diagram, differences outlined in red; more: side by side."""
    names = [column_name(found, i) for i in range(len(found))]
    try:
        if len(candidates) == 2:
            st.graphviz_chart(
                diff_diagram(candidates[0].design, candidates[1].design, names=(names[0], names[1]))
            )
            st.caption("What differs is outlined in red, with a note saying how.")
            return
        for col, name, c in zip(st.columns(len(candidates)), names, candidates, strict=True):
            with col:
                st.markdown(f"**{name}**")
                st.graphviz_chart(network_diagram(c.design))
    except (DiagramError, DesignError) as exc:
        st.error(f"The diagrams could not be drawn: {exc}")


def curves(
    candidates: Sequence[Candidate], found: list[DesignMetrics], store: Store | None
) -> None:
    """Probe curves of the candidates, overlaid, where the library holds runs."""
    names = [column_name(found, i) for i in range(len(found))]
    if store is None:
        st.info("The library is not available, so probe runs cannot be shown.")
        return
    try:
        runs = run_curves(
            store, [(n, c.design.hash) for n, c in zip(names, candidates, strict=True)]
        )
    except StoreError as exc:
        st.error(f"Probe runs could not be read: {exc}")
        return
    if not runs:
        st.info(
            "No probe runs of these designs in the library yet; they appear here once a probe "
            "has trained them."
        )
        return
    metric = st.selectbox("Metric", curve_metrics(runs), key="cmp_metric")
    st.plotly_chart(figures.run_curves(runs, metric, names), key="cmp_curves")


def report(candidates: Sequence[Candidate]) -> None:
    report_button(candidates, key="cmp_report")


def open_store() -> Store | None:
    """The library, quietly None when it cannot be opened (the page still compares presets)."""
    store = stored.open_store(quiet=True)
    if store is None:
        st.warning(
            "The library cannot be opened, so saved designs, latency and runs are not shown. "
            "The Library page says why."
        )
    return store
