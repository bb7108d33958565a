"""Widgets of the Explore page: space editor, run controls, progress, and the result views.

The exploration runs in an `ExploreJob` (a background thread that never calls Streamlit), kept
in ``st.session_state["explore_job"]``; `progress` polls it with ``st.fragment(run_every=...)``,
so a click elsewhere never stops a run. "Send to Compare" appends ``(label, Design)`` pairs to
the Compare page's list through `state.send_to_compare`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.explore import (
    BackendError,
    EvalError,
    EvalOptions,
    ExploreJob,
    Results,
    Space,
    SpaceError,
    edfs,
    pareto_front,
    top_k,
)
from resnet_explorer.explore.backends import make_backend, ray_address
from resnet_explorer.probes.config import MAX_SEEDS
from resnet_explorer.probes.experiments import default_seeds
from resnet_explorer.ui import state

JOB = "explore_job"
DRAWN_BUSY = "explore_job_drawn_busy"  # Start was last drawn disabled
SPACE_TEXT = "explore_space_text"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "space_cifar.json"


def _example_text() -> str:
    try:
        return EXAMPLE.read_text(encoding="utf-8")
    except OSError:
        return Space(name="default").to_json()


def space_editor() -> Space | None:
    """The space as JSON in a text area; returns it, or shows the error and returns None."""
    if SPACE_TEXT not in st.session_state:
        st.session_state[SPACE_TEXT] = _example_text()
    text = st.text_area(
        "Space (JSON, see docs/explore.md)",
        key=SPACE_TEXT,
        height=260,
        help="knobs, body, constraints",
    )
    try:
        space = Space.from_json(text)
    except SpaceError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    knobs = ", ".join(f"{k} {v.describe()}" for k, v in space.knobs.items()) or "none"
    st.caption(f"**{space.name}**: knobs {knobs}; constraints {len(space.constraints)}")
    return space


def run_controls(space: Space | None) -> None:
    """Samples, seed, measurements, backend and the Start button."""
    cols = st.columns(4)
    samples = cols[0].number_input("Samples", 1, 100_000, 500, key="explore_samples")
    seed = cols[1].number_input(
        "Seed", 0, 2**31 - 1, space.seed if space else 0, key="explore_seed"
    )
    steps = cols[2].number_input(
        "Probe steps (0 = none)",
        0,
        100_000,
        0,
        key="explore_probe_steps",
        help="train each sample this many steps on the same seeded MNIST batches",
    )
    probe_seeds = cols[2].number_input(
        "Probe seeds per sample",
        1,
        MAX_SEEDS,
        default_seeds(),
        key="explore_probe_seeds",
        help="each sample trains with this many seeds: its error is their mean, with a "
        "bootstrap 95 % interval (min–max for 2 seeds) as error_lo / error_hi",
    )
    latency = cols[3].checkbox("Measure latency", key="explore_latency")
    cols = st.columns([1, 2, 1])
    backend_name = cols[0].radio(
        "Backend", ["local", "ray"], horizontal=True, key="explore_backend"
    )
    # The cluster is the server's configuration (RAY_ADDRESS), never typed on the page.
    cluster = ray_address()
    cols[1].caption(
        f"Ray cluster: `{cluster}` (RAY_ADDRESS)"
        if cluster
        else "Ray cluster: none configured (start the app with RAY_ADDRESS set)"
    )
    job: ExploreJob | None = st.session_state.get(JOB)
    busy = job is not None and not job.finished
    st.session_state[DRAWN_BUSY] = busy
    if cols[2].button("Start", type="primary", disabled=space is None or busy, key="explore_start"):
        try:
            options = EvalOptions(
                latency=latency,
                probe_steps=int(steps) or None,
                probe={"image_size": 32, "seeds": int(probe_seeds)} if steps else {},
            )
            backend = make_backend(backend_name)
        except (EvalError, BackendError) as exc:
            st.error(str(exc))
            return
        st.session_state[JOB] = ExploreJob(
            space,
            int(samples),
            seed=int(seed),
            options=options,
            backend=backend,  # type: ignore[arg-type]
        ).start()
        st.rerun()


def progress() -> None:
    """The job's state: polled while it runs, then the results drawn once with the page."""
    job: ExploreJob | None = st.session_state.get(JOB)
    if job is None:
        st.info("Define a space and press Start.", icon=":material/explore:")
        return
    if not job.finished:
        _live(job)
        return
    if st.session_state.pop(DRAWN_BUSY, False):
        st.rerun()  # it ended during this run, after Start was drawn disabled
    snap = job.snapshot()
    _status(job, snap)
    results: Results = snap["results"]
    if results.records:
        views(results, key=f"v{id(job)}")


@st.fragment(run_every=1.0)
def _live(job: ExploreJob) -> None:
    """Progress of a running job, polled every second; reruns the page when it ends, so the
    results (and an enabled Start) are drawn outside this polling fragment."""
    if job.finished:
        st.rerun()
    _status(job, job.snapshot())


def _status(job: ExploreJob, snap: dict) -> None:
    s = snap["sampling"]
    if s:
        st.caption(
            f"Sampled {s['accepted']} of {s['requested']} in {s['draws']} draws "
            f"({s['seconds']:.2f} s); rejected: {sum(s['rejected'].values()) or 'none'}"
        )
        # the reasons as users see them: one real message per kind (the kinds are patterns)
        examples = s.get("examples", {})
        lines = [
            f"- {n:,} {'draw' if n == 1 else 'draws'}, e.g. {examples.get(reason, reason)}"
            for reason, n in s["rejected"].items()
        ]
        if lines:
            with st.expander("Why draws were rejected"):
                st.markdown("\n".join(lines))
    state = snap["state"]
    if state == "evaluating":
        done, total = snap["evaluated"], max(1, snap["to_evaluate"])
        st.progress(done / total, text=f"Evaluating: {done}/{total}")
        if st.button("Cancel", key="explore_cancel", disabled=snap["cancelling"]):
            job.cancel()
    elif state == "sampling":
        st.progress(0.0, text="Sampling...")
    elif state == "failed":
        st.error(f"The exploration failed: {snap['error']}")
    else:
        st.success(f"{state.capitalize()} in {snap['seconds']:.1f} s.")


def _columns(results: Results) -> tuple[list[str], list[str]]:
    return results.knob_names(), results.metric_names()


def views(results: Results, key: str = "v") -> None:
    """Scatter, Pareto front, EDFs, top-k table, send to Compare / library."""
    rows = [r for r in results.rows() if r["status"] == "ok"]
    knobs, metrics = _columns(results)
    numeric_metrics = [m for m in metrics if any(isinstance(r.get(m), (int, float)) for r in rows)]
    scatter, front, dist, table = st.tabs(["Scatter", "Pareto front", "EDFs", "Top-k"])
    with scatter:
        c = st.columns(3)
        x = c[0].selectbox("x", knobs + numeric_metrics, key=f"{key}_sx")
        y = c[1].selectbox("y", numeric_metrics, key=f"{key}_sy")
        color = c[2].selectbox("colour", ["(none)", *knobs], key=f"{key}_sc")
        fig = go.Figure()
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault("all" if color == "(none)" else str(r.get(color)), []).append(r)
        for label, members in groups.items():
            fig.add_trace(
                go.Scattergl(
                    x=[r.get(x) for r in members],
                    y=[r.get(y) for r in members],
                    mode="markers",
                    name=label,
                    text=[f"#{r['index']}" for r in members],
                )
            )
        fig.update_layout(height=420, xaxis_title=x, yaxis_title=y, margin={"t": 20})
        st.plotly_chart(fig, key=f"{key}_scatter")
    with front:
        y_front = "error" if "error" in numeric_metrics else "params"
        options = [m for m in ("macs", "latency_ms", "params", "flops") if m in numeric_metrics]
        fx = st.selectbox("cost", options, key=f"{key}_fx")
        best = pareto_front(rows, fx, y_front)
        fig = go.Figure(
            [
                go.Scattergl(
                    x=[r.get(fx) for r in rows],
                    y=[r.get(y_front) for r in rows],
                    mode="markers",
                    name="samples",
                    opacity=0.4,
                ),
                go.Scatter(
                    x=[r[fx] for r in best],
                    y=[r[y_front] for r in best],
                    mode="lines+markers",
                    name="Pareto front",
                ),
            ]
        )
        fig.update_layout(height=420, xaxis_title=fx, yaxis_title=y_front, margin={"t": 20})
        st.plotly_chart(fig, key=f"{key}_front")
        if y_front != "error":
            st.caption("No probe error yet (set probe steps): the front shows params against cost.")
    with dist:
        c = st.columns(2)
        m = c[0].selectbox(
            "metric", numeric_metrics, index=_index(numeric_metrics, "error"), key=f"{key}_em"
        )
        by = c[1].selectbox("sub-space by", ["(all)", *knobs], key=f"{key}_eb")
        curves = edfs(rows, m, None if by == "(all)" else by)
        fig = go.Figure(
            [
                go.Scatter(x=xs, y=fs, mode="lines", line_shape="hv", name=f"{label} (n={len(xs)})")
                for label, (xs, fs) in curves.items()
            ]
        )
        fig.update_layout(
            height=420, xaxis_title=m, yaxis_title="fraction of designs <= x", margin={"t": 20}
        )
        st.plotly_chart(fig, key=f"{key}_edf")
    with table:
        c = st.columns(3)
        tm = c[0].selectbox(
            "rank by", numeric_metrics, index=_index(numeric_metrics, "error"), key=f"{key}_tm"
        )
        k = c[1].number_input("k", 1, 1000, 10, key=f"{key}_tk")
        best = top_k(rows, tm, int(k))
        st.dataframe(best, hide_index=True, key=f"{key}_table")
        send(results, [r["index"] for r in best], key)


def _index(options: list[str], name: str) -> int:
    return options.index(name) if name in options else 0


def _design_of(results: Results, index: int) -> Design:
    record = next(r for r in results.records if r["index"] == index)
    return Design.from_dict(record["design"])


def send(results: Results, indices: list[int], key: str) -> None:
    """Send chosen samples to the Compare page or save them in the library."""
    chosen = st.multiselect(
        "Designs to send or save", indices, default=indices[:2], key=f"{key}_pick"
    )
    c = st.columns(2)
    if c[0].button("Send to Compare", key=f"{key}_compare", disabled=not chosen):
        state.send_to_compare((f"explore #{i}", _design_of(results, i)) for i in chosen)
        st.toast(f"{len(chosen)} design(s) sent to Compare")
    if c[1].button("Save to library", key=f"{key}_save", disabled=not chosen):
        from resnet_explorer.store import Store, StoreError

        space = results.header.get("space", {}).get("name", "space")
        try:
            store = Store()
            for i in chosen:
                d = _design_of(results, i)
                store.save_design(f"{space} #{i} {d.hash[:6]}", d, tags="explore", replace=True)
        except StoreError as exc:
            st.error(str(exc))
        else:
            st.toast(f"{len(chosen)} design(s) saved to the library")
