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
from resnet_explorer.diagrams.diff import differences, marks
from resnet_explorer.diagrams.diff import summary as summary_lines
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
from resnet_explorer.report.metrics import Latency, column_name, same_inputs
from resnet_explorer.store import Store, StoreError
from resnet_explorer.ui import state, stored
from resnet_explorer.ui.report_download import report_button

EDITOR = "editor"
_PICK = "cmp_pick"
_BASELINE = "cmp_baseline"


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
    """The picks (2 to 4) and the baseline; returns the candidates, the baseline first (empty,
    with a hint, unless 2 to 4). The picks and the baseline go into the page's URL."""
    offered = options(store)
    from_link, baseline = _picks_from_link(offered)
    if from_link:
        st.session_state[_PICK] = from_link
    elif _PICK not in st.session_state or state.take_new_sent():
        st.session_state[_PICK] = _default(design)
    # A saved design deleted elsewhere drops out instead of breaking the widget.
    st.session_state[_PICK] = [o for o in st.session_state[_PICK] if o in offered]
    chosen = st.multiselect(
        "Designs to compare (2 to 4)",
        offered,
        key=_PICK,
        max_selections=MAX_CANDIDATES,
        format_func=_label,
    )
    if len(chosen) < 2:
        st.info("Pick at least two designs: presets, saved designs or the editor's design.")
        _share(chosen, None)
        return []
    if baseline is not None and baseline in chosen:
        st.session_state[_BASELINE] = baseline
    if st.session_state.get(_BASELINE) not in chosen:
        st.session_state[_BASELINE] = chosen[0]
    base = st.selectbox(
        "Baseline (deltas and highlighted differences are against it)",
        chosen,
        key=_BASELINE,
        format_func=_label,
    )
    _share(chosen, base)
    candidates = []
    for option in [base, *(o for o in chosen if o != base)]:
        try:
            candidates.append(_candidate(option, design, store))
        except (StoreError, DesignError) as exc:
            st.error(f"{_label(option)} cannot be compared: {exc}")
    return candidates if len(candidates) >= 2 else []


def _share(chosen: list[str], base: str | None) -> None:
    """The picks and the baseline in the URL: a copied link opens this comparison."""
    sent = _sent()
    picks = [
        f"{o}~{sent[o.split(':', 1)[1]].to_url()}" if o.startswith("sent:") else o for o in chosen
    ]
    extra: dict[str, str | list[str]] = {state.URL_COMPARE: picks}
    if base is not None:
        extra[state.URL_COMPARE_BASELINE] = str(chosen.index(base))
    state.sync_url(extra)


def _picks_from_link(offered: list[str]) -> tuple[list[str], str | None]:
    """The picks a shared link holds (once per session); those this app cannot offer, those
    whose design the link damaged and those past the fourth are said."""
    picks, baseline = state.compare_picks_from_url()
    found, missing, damaged = [], [], []
    for pick in picks[:MAX_CANDIDATES]:
        option, _, token = pick.partition("~")
        if option.startswith("sent:") and token:
            try:
                state.offer_to_compare(option.split(":", 1)[1], Design.from_url(token))
            except DesignError:
                damaged.append(option.split(":", 1)[1])
                continue
            offered.append(option)
        (found if option in offered else missing).append(option)
    problems = []
    if damaged:
        problems.append(
            "this link is damaged or incomplete: the design of "
            + ", ".join(damaged)
            + " could not be read (copy the whole link again)"
        )
    if missing:
        problems.append(
            "it names designs this app does not have: "
            + ", ".join(m.split(":", 1)[-1] for m in missing)
        )
    if len(picks) > MAX_CANDIDATES:
        left = [p.partition("~")[0].split(":", 1)[-1] for p in picks[MAX_CANDIDATES:]]
        problems.append(
            f"at most {MAX_CANDIDATES} designs are compared; left out: " + ", ".join(left)
        )
    if problems:
        st.warning(
            "This link's comparison: " + "; ".join(problems) + ".", icon=":material/link_off:"
        )
    index = int(baseline) if baseline and baseline.isdigit() else 0
    return found, (picks[index].partition("~")[0] if index < len(picks) and found else None)


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
    """The metrics table: values, deltas against the baseline in brackets."""
    if not same_inputs(found):
        st.warning(
            "These designs take different inputs ("
            + "; ".join(f"**{column_name(found, i)}**: {m.inputs}" for i, m in enumerate(found))
            + "), so their costs per image are not comparable: the table shows '[other input]' "
            "instead of a delta for those figures.",
            icon=":material/compare_arrows:",
        )
    rows = comparison_rows(found)
    frame = pd.DataFrame(rows).set_index("metric")
    st.table(frame)
    st.caption(
        f"Deltas in brackets are against **{column_name(found, 0)}**. 'exact': counted from the "
        "design; 'estimate': fp32 parameters, gradients, SGD momentum and the saved activations "
        "(measured on the meta device); 'measured': latency from a profile kept in the library."
    )


def stage_bars(found: list[DesignMetrics]) -> None:
    """Per-stage bars of every design, the legend above the panels: below them, its box hid
    the first panel's slanted "stem + head"."""
    fig = figures.stage_bars(found)
    fig.update_layout(
        legend={"orientation": "h", "y": 1.12, "yanchor": "bottom", "x": 0},
        margin={"t": 80},
        height=380,
    )
    st.plotly_chart(fig, key="cmp_stages")


def as_legend(fig, found: list[DesignMetrics] | None = None):
    """A scatter as the app shows it: each design named in a legend above the chart (with
    its latency, when ``found`` gives it) instead of a text beside its point, which
    overlapped the next design's and was cut at the chart's edge."""
    for i, trace in enumerate(fig.data):
        trace.mode = "markers"
        latency = found[i].latency if found is not None else None
        if latency is not None:
            trace.name = f"{trace.name}: {latency.text()}"
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"t": 60},
        height=440,
    )
    return fig


def costs(found: list[DesignMetrics]) -> None:
    """MACs vs parameters (and vs measured latency where the library has it)."""
    left, right = st.columns(2)
    with left:
        st.plotly_chart(as_legend(figures.cost_scatter(found), found), key="cmp_scatter")
    with right:
        latency = figures.latency_scatter(found)
        if latency is not None:
            st.plotly_chart(as_legend(latency), key="cmp_latency")
        missing = [column_name(found, i) for i, m in enumerate(found) if m.latency is None]
        if missing:
            st.info(
                "Latency not measured for "
                + ", ".join(f"**{n}**" for n in missing)
                + ": profile them with latency on the Profile page (or `python -m "
                "resnet_explorer profile`) and keep the result in the library."
            )


def _title(candidate: Candidate, name: str) -> str:
    """What a diagram is titled: a preset's title ('ResNeXt-50 (32x4d)'), else its name."""
    if candidate.source == "preset":
        return presets.info(candidate.name).title
    base = state.origin()
    if candidate.source == "editor" and base is not None:
        edited = "" if base.design == candidate.design else " (modified)"
        return f"current: {base.title}{edited}"
    return name


def diagrams(candidates: Sequence[Candidate], found: list[DesignMetrics]) -> None:
    """Two designs: one diff diagram; more: side by side. Either way every stage and block
    that differs from the baseline is outlined in red, and listed with why."""
    names = [column_name(found, i) for i in range(len(found))]
    titles = [_title(c, n) for c, n in zip(candidates, names, strict=True)]
    try:
        if len(candidates) == 2:
            a, b = candidates[0].design, candidates[1].design
            both = (names[0], names[1])
            st.graphviz_chart(diff_diagram(a, b, names=both, titles=(titles[0], titles[1])))
            _reasons(candidates[0], candidates[1], names[1], names[0])
            return
        marked = [differences(candidates[0].design, c.design) for c in candidates]
        for row in range(0, len(candidates), 2):  # two a row: each wide enough to read
            cols = st.columns(2)
            for k in range(row, min(row + 2, len(candidates))):
                with cols[k - row]:
                    graph = network_diagram(
                        candidates[k].design, title=titles[k], marks=marks(marked[k])
                    )
                    st.graphviz_chart(graph)
                    if k == 0:
                        st.caption(f"**{names[0]}** is the baseline.")
                    else:
                        _reasons(candidates[0], candidates[k], names[k], names[0], marked[k])
    except (DiagramError, DesignError) as exc:
        st.error(f"The diagrams could not be drawn: {exc}")


def _reasons(base: Candidate, other: Candidate, name: str, base_name: str, found=None) -> None:
    """One line per stage or block of ``other`` that differs from the baseline."""
    found = differences(base.design, other.design) if found is None else found
    if not found:
        st.caption(f"**{name}**: the same network as **{base_name}**.")
        return
    lines = "\n".join(f"- {line}" for line in summary_lines(found))
    st.markdown(f"**{name}** vs **{base_name}** (outlined in red):\n{lines}")


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
