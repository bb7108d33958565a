"""The Library page's widgets: save the current design, find, open, duplicate and delete saved
designs, and the history of probe runs with their curves.

Every store call is guarded: a `StoreError` (taken name, busy file, ...) or a saved row that no
longer validates becomes a message, never a traceback. Nothing saved is lost: names are never
overwritten and a delete needs a confirmation (and can be undone while the page is open).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from resnet_explorer import presets, units
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.report import Candidate, curve_metrics, figures
from resnet_explorer.report.evidence import RunCurve
from resnet_explorer.store import Run, SavedDesign, Store, StoreError
from resnet_explorer.ui import cached, page, state, stored
from resnet_explorer.ui.report_download import report_button

ANY = "(any)"
_FLASH = "lib_flash"
_CONFIRM = "lib_confirm_delete"
_DELETED = "lib_last_deleted"
_SELECTED = "lib_selected"
RUN_LIMIT = 200


def flash() -> None:
    """Show (once) the outcome of the last action: opened, duplicated, deleted, failed."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "info": st.info}[kind](text)


def _say(kind: str, text: str) -> None:
    st.session_state[_FLASH] = (kind, text)


def suggested_name(design: Design) -> str:
    """The editor's title for the design: 'ResNet-50', 'ResNet-50 (modified)', ..."""
    return page.design_title(design)


def save_form(store: Store, design: Design) -> None:
    """Save the editor's current design under a name, with tags and notes."""
    with st.form("lib_save", clear_on_submit=False, border=True):
        st.markdown(f"**Save the current design** · `{design.hash}` · depth {design.depth}")
        name = st.text_input("Name", value=suggested_name(design), max_chars=120, key="lib_name")
        tags = st.text_input(
            "Tags", placeholder="comma-separated, e.g. cifar, baseline", key="lib_tags"
        )
        notes = st.text_area(
            "Notes", placeholder="why this design, what was decided", key="lib_notes"
        )
        submitted = st.form_submit_button("Save to library", icon=":material/save:", type="primary")
    if not submitted:
        return
    try:
        saved = store.save_design(name, design, tags=tags, notes=notes)
    except StoreError as exc:
        st.error(f"Not saved: {exc}. Nothing was overwritten.")
        return
    st.session_state[_SELECTED] = saved.name
    st.success(f"Saved **{saved.name}** ({saved.hash}).", icon=":material/check_circle:")


def filters(store: Store) -> dict[str, Any]:
    """Search text, tag, block type and order; returns the `Store.list_designs` arguments."""
    cols = st.columns([3, 2, 2, 2])
    query = cols[0].text_input("Search names", key="lib_query", placeholder="text in the name")
    try:
        tags = store.all_tags()
    except StoreError as exc:
        st.error(str(exc))
        tags = []
    tag = cols[1].selectbox("Tag", [ANY, *tags], key="lib_tag")
    block = cols[2].selectbox("Block type", [ANY, "basic", "bottleneck"], key="lib_block")
    order = cols[3].selectbox(
        "Order",
        ["name", "updated", "created"],
        key="lib_order",
        format_func={"name": "by name", "updated": "last updated", "created": "newest"}.get,
    )
    return {
        "query": query or None,
        "tag": None if tag == ANY else tag,
        "block": None if block == ANY else block,
        "order": order,
    }


def _row(saved: SavedDesign) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": saved.name,
        "tags": ", ".join(saved.tags),
        "blocks": ", ".join(saved.block_types),
    }
    try:
        counts = cached.analytic_totals(saved.design.to_json())
    except DesignError:
        row.update(params="invalid", GMACs="invalid")
    else:
        row.update(params=units.params(counts.params), GMACs=units.gmacs(counts.macs))
    row.update(
        notes=(saved.notes[:80] + "…") if len(saved.notes) > 80 else saved.notes,
        updated=units.when(saved.updated),
    )
    return row


def saved_designs(store: Store) -> list[SavedDesign]:
    """The filtered list, drawn as a table; empty with a message when nothing matches."""
    query = filters(store)
    try:
        found = store.list_designs(**query)
        total = store.counts()["designs"]
    except StoreError as exc:
        st.error(f"The library could not be read: {exc}")
        return []
    if not found:
        st.info(
            "Nothing matches these filters."
            if total
            else "The library is empty: save the current design above."
        )
        return []
    st.caption(f"{len(found)} of {total} saved designs")
    st.dataframe(pd.DataFrame([_row(s) for s in found]), hide_index=True, width="stretch")
    return found


def _open(store: Store, name: str) -> None:
    try:
        design = store.get_design(name).design
    except (StoreError, DesignError) as exc:
        _say("error", f"Could not open {name!r}: {exc}")
        return
    match = presets.find(design)
    state.load(design, preset=match.name if match else None, library=name)
    _say("success", f"Opened **{name}**: the editor in the sidebar now holds it.")


def _duplicate(store: Store, name: str) -> None:
    new_name = (st.session_state.get("lib_copy_name") or "").strip() or None
    try:
        copy = store.duplicate_design(name, new_name)
    except StoreError as exc:
        _say("error", f"Not duplicated: {exc}")
        return
    st.session_state[_SELECTED] = copy.name
    st.session_state["lib_copy_name"] = ""
    _say("success", f"Duplicated **{name}** as **{copy.name}**.")


def _ask_delete(name: str) -> None:
    st.session_state[_CONFIRM] = name


def _cancel_delete() -> None:
    st.session_state.pop(_CONFIRM, None)


def _delete(store: Store, name: str) -> None:
    st.session_state.pop(_CONFIRM, None)
    try:
        gone = store.delete_design(name)
    except StoreError as exc:
        _say("error", f"Not deleted: {exc}")
        return
    st.session_state[_DELETED] = gone
    st.session_state.pop(_SELECTED, None)
    _say("info", f"Deleted **{name}**.")


def _undo_delete(store: Store) -> None:
    gone: SavedDesign | None = st.session_state.pop(_DELETED, None)
    if gone is None:
        return
    try:
        back = store.save_design(gone.name, gone.design, tags=gone.tags, notes=gone.notes)
    except (StoreError, DesignError) as exc:
        st.session_state[_DELETED] = gone
        _say("error", f"Could not restore {gone.name!r}: {exc}")
        return
    st.session_state[_SELECTED] = back.name
    _say("success", f"Restored **{back.name}**.")


def undo_bar(store: Store) -> None:
    """'Undo delete' for the design deleted last in this session."""
    gone = st.session_state.get(_DELETED)
    if gone is not None:
        st.button(
            f"Undo delete of {gone.name!r}",
            key="lib_undo",
            on_click=_undo_delete,
            args=(store,),
            icon=":material/undo:",
        )


def actions(store: Store, found: list[SavedDesign]) -> None:
    """Pick one saved design: its details, open, duplicate, delete (confirmed), report."""
    names = [s.name for s in found]
    if not names:
        return
    if st.session_state.get(_SELECTED) not in names:
        st.session_state[_SELECTED] = names[0]
    name = st.selectbox("Saved design", names, key=_SELECTED)
    saved = next(s for s in found if s.name == name)
    try:
        design = saved.design
    except DesignError as exc:
        st.error(f"{name!r} no longer validates ({exc}); it can only be deleted.")
        design = None
    # The copy's name on its own row, wide enough for a long name with " (copy)"; the buttons
    # in one row as wide as their labels (in four fixed columns at 1280 px they read
    # "Open in edi..." and the name was cut).
    st.text_input(
        "Name of the copy (for Duplicate)",
        key="lib_copy_name",
        placeholder=f"{name} (copy)",
    )
    with st.container(horizontal=True, key="lib_buttons"):
        st.button(
            "Open in editor",
            key="lib_open",
            on_click=_open,
            args=(store, name),
            disabled=design is None,
            icon=":material/open_in_new:",
            type="primary",
        )
        st.button(
            "Duplicate",
            key="lib_dup",
            on_click=_duplicate,
            args=(store, name),
            icon=":material/content_copy:",
        )
        st.button(
            "Delete…",
            key="lib_delete",
            on_click=_ask_delete,
            args=(name,),
            icon=":material/delete:",
        )
    if st.session_state.get(_CONFIRM) == name:
        with st.container(border=True):
            st.warning(f"Delete **{name}** from the library? Its runs and profiles are kept.")
            yes, no = st.columns(2)
            yes.button(
                f"Yes, delete {name}",
                key="lib_delete_yes",
                on_click=_delete,
                args=(store, name),
                type="primary",
            )
            no.button("Cancel", key="lib_delete_no", on_click=_cancel_delete)
    if design is not None:
        details(saved, design)


def details(saved: SavedDesign, design: Design) -> None:
    """Tags, notes, dates, and the design's JSON; the report for it."""
    match = presets.find(design)
    st.caption(
        f"hash `{saved.hash}` · depth {design.depth} · saved {units.when(saved.created)} · "
        f"updated {units.when(saved.updated)}" + (f" · equals preset {match.name}" if match else "")
    )
    if saved.tags:
        st.markdown(" ".join(f":blue-badge[{t}]" for t in saved.tags))
    if saved.notes:
        st.markdown(saved.notes)
    with st.expander("Design JSON"):
        st.code(design.to_json(indent=2), language="json")
    report_button([Candidate(saved.name, design, "library")], key="lib_report")


def _design_names(store: Store) -> dict[str, str]:
    names: dict[str, str] = {}
    for s in store.list_designs(order="updated"):
        names.setdefault(s.hash, s.name)
    return names


def _run_label(run, names: dict[str, str]) -> str:
    name = names.get(run.design_hash)
    label = (run.config or {}).get("label") if isinstance(run.config, dict) else None
    if name is None and label:
        return str(label)  # the probe's own label (its design as trained, e.g. at 16 px)
    if name is None:
        try:
            match = presets.find(run.design)
        except DesignError:
            match = None
        name = match.name if match else f"design {run.design_hash[:8]}"
    return name


def _curves(store: Store, runs: list[Run], names: dict[str, str]) -> list[RunCurve]:
    """The recorded steps of ``runs`` that have any, as curves."""
    curves = []
    for run in runs:
        rows = tuple(s.row() for s in store.steps(run.run_id))
        if rows:
            curves.append(RunCurve(_run_label(run, names), run, rows))
    return curves


def run_history(store: Store) -> None:
    """Every probe run the library holds, newest first, and the curves of those picked."""
    try:
        runs = store.runs(limit=RUN_LIMIT)
        names = _design_names(store)
    except StoreError as exc:
        st.error(f"The run history could not be read: {exc}")
        return
    if not runs:
        st.info(
            "No probe runs yet. They appear here as probes run (the Probes page, or "
            "`python -m resnet_explorer probe`), step by step while they run."
        )
        return
    table = [
        {
            "run": r.run_id,
            "design": _run_label(r, names),
            "status": r.status,
            "steps": r.steps,
            "last step": r.last_step,
            "started": units.when(r.started, seconds=True),
            "finished": units.when(r.finished, seconds=True),
            "error": r.error or "",
        }
        for r in runs
    ]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    by_id = {r.run_id: r for r in runs}
    picked = st.multiselect(
        "Runs to plot",
        list(by_id),
        default=list(by_id)[:3],
        key="lib_runs",
        format_func=lambda rid: (
            f"{_run_label(by_id[rid], names)} · {rid[:8]} ({by_id[rid].status})"
        ),
    )
    curves = stored.read_or_say(
        lambda: _curves(store, [by_id[rid] for rid in picked], names),
        "The steps could not be read",
        "The runs picked have no recorded steps yet.",
    )
    if curves is None:
        return
    metrics = curve_metrics(curves)
    metric = st.selectbox("Metric", metrics, key="lib_run_metric")
    st.plotly_chart(figures.run_curves(curves, metric), key="lib_run_chart")
    st.button("Refresh", key="lib_refresh", icon=":material/refresh:")
