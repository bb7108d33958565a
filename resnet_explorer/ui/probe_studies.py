"""Widgets of the Probe page's studies: gradient flow (at initialisation and over training),
loss-landscape slices and the lesion study.

The landscape and lesion studies train their designs briefly and then study the trained weights,
both inside one background job of the shared `JobManager` (``then`` step), so they wait in the
same queue as every other training job; the job ids live in ``st.session_state`` and fragments
poll them every second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.probes import (
    ProbeConfig,
    ProbeError,
    experiments,
    gradient_flow_at_init,
    landscape,
    lesion,
)
from resnet_explorer.probes.jobs import get_manager
from resnet_explorer.ui import probe, probe_charts, probe_jobs

LANDSCAPE_JOB = "probe_landscape_job"
LESION_JOB = "probe_lesion_job"
DEPTHS = experiments.CIFAR_DEPTHS
PICKED = "the designs picked on Train"
#: Said on the gradient-flow tab until the session has run a probe.
NO_FLOW = (
    "Start a probe on the Train tab (e.g. the degradation experiment): the per-block gradient "
    "norms recorded at every held-out evaluation appear here as heatmaps."
)


@st.cache_data(max_entries=64, show_spinner="Measuring gradients at initialisation...")
def _flow(design_json: str) -> dict[str, Any]:
    return gradient_flow_at_init(Design.from_json(design_json))


def gradient_flow() -> None:
    """Per-block gradient norm vs depth at init, and a heatmap over the session's last run."""
    st.subheader("At initialisation")
    depth = st.select_slider("Depth", DEPTHS, value=56, key="probe_flow_depth")
    results = {label: _flow(d.to_json()) for label, d in experiments.trio(depth)}
    st.plotly_chart(probe_charts.grad_flow_at_init(results), key="probe_flow_init")
    first = {label: r["blocks"][0]["grad_norm"] for label, r in results.items()}
    last = {label: r["blocks"][-1]["grad_norm"] for label, r in results.items()}
    st.caption(
        "One seeded random batch through a freshly built net (training mode). First / last "
        "block gradient norm: "
        + "; ".join(f"{k} {first[k]:.2e} / {last[k]:.2e}" for k in results)
        + ". The identity path carries the gradient from the loss to every block "
        "(dL/dx_l = dL/dx_L (1 + ...)); without it, it is multiplied block after block."
    )
    st.subheader("Over training")
    data = probe.from_last_probe(
        probe_charts.grad_flow_over_training, NO_FLOW, ":material/grid_on:"
    )
    if data is None:
        return
    st.plotly_chart(probe_charts.heatmaps(data), key="probe_flow_heat")
    st.caption(
        "log10 of each block's gradient norm at the steps the probe evaluated (one colour "
        "scale for every net). Press R or touch any widget to refresh while a run goes on."
    )


def signal_propagation(design: Design | None = None) -> None:
    """Signal propagation at initialisation (of the paper's CIFAR net or the editor's
    ``design``) and after k steps (`ui.probe_signal`)."""
    from resnet_explorer.ui import probe_signal

    st.subheader("Signal propagation at initialisation")
    probe_signal.at_init(design)
    st.subheader("Signal propagation after k steps")
    probe_signal.after_training()


def _pair_picker(key: str, picked: list[tuple[str, Design]]) -> list[tuple[str, Design]]:
    choice = st.radio(
        "Designs", [*experiments.STUDY_PAIRS, PICKED], horizontal=True, key=f"{key}_pair"
    )
    if choice == PICKED:
        return picked
    return list(experiments.study_pair(experiments.STUDY_PAIRS[choice]))


def _study_job(
    key: str,
    designs: list[tuple[str, Design]],
    steps: int,
    then: Callable,
    kind: str,
    spec: dict[str, Any],
) -> None:
    """Queue a ``kind`` study (training, then ``then``) named after its designs, saved in the
    run history when it ends (a button's ``on_click``)."""
    from resnet_explorer.probes.persist import StudyWriter
    from resnet_explorer.ui import stored

    store = stored.open_store(quiet=True)
    on_done = StudyWriter(store, kind, spec).on_done if store is not None else None
    try:
        config = ProbeConfig.study(steps=steps, threads=probe.threads())
        job_id = get_manager().submit(
            designs,
            config,
            name=f"{kind}: " + " vs ".join(label for label, _ in designs),
            then=then,
            kind=kind,
            owner=probe_jobs.owner(),
            watched=True,
            on_done=on_done,
        )
    except (ProbeError, DesignError) as exc:
        st.session_state[f"{key}_error"] = f"Not started: {exc}"
        return
    probe_jobs.mine(job_id)
    st.session_state[key] = job_id


def _start_button(
    where: Any, label: str, key: str, job: str, designs: list[tuple[str, Design]], steps: int,
    then: Callable, kind: str, spec: dict[str, Any],
) -> None:  # fmt: skip
    """The Start button ``key`` of a study (``where``: the page or a column), which queues it
    with `_study_job` in the job ``job`` (disabled while that one runs), and why the last start
    failed."""
    where.button(
        label,
        type="primary",
        key=key,
        disabled=not designs or probe.is_busy(job),
        on_click=_study_job,
        args=(job, designs, steps, then, kind, spec),
    )
    message = st.session_state.pop(f"{job}_error", None)
    if message:
        st.error(message)


def study_view(key: str, hint: str, icon: str, draw: Callable[[dict[str, Any], str], None]) -> None:
    """A study job: polled while queued or running (progress, Stop), then its result drawn
    once with the page (``draw(result, key)``)."""
    job_id = st.session_state.get(key)
    if job_id is None:
        st.info(hint, icon=icon)
        return
    try:
        status = get_manager().status(job_id, since=1 << 62)
    except ProbeError:
        st.info("The last study is no longer in memory; find it in the run history.")
        return
    if not status.finished:
        _poll_study(key, job_id)
        return
    if status.state == "failed":
        st.error(f"Failed: {status.error}")
    elif status.state == "cancelled":
        why = f" ({status.stop_reason})" if status.stop_reason else ""
        st.warning(f"Stopped{why}.")
    if status.analysis:
        draw(status.analysis, key)


@st.fragment(run_every=1.0)
def _poll_study(key: str, job_id: str) -> None:
    try:
        status = get_manager().status(job_id, since=1 << 62)
    except ProbeError:
        st.rerun()
    get_manager().touch(job_id)
    if status.finished:
        st.rerun()  # the whole page: the result drawn once, Start enabled again
    if status.state == "queued":
        st.info(f"Queued: number {status.position} in line for {status.device}.")
    elif status.phase == "training":
        done = sum(d.step for d in status.designs)
        total = sum(status.config["steps"] or 0 for _ in status.designs) or 1
        st.progress(min(1.0, done / total), text=f"Training {status.name}: {done}/{total}")
    else:
        p = status.analysis_progress
        st.progress(p.get("fraction", 0.0), text=f"Evaluating: {p.get('text', '')}")
    if st.button("Stop study", type="primary", icon=":material/stop_circle:", key=f"{key}_stop"):
        get_manager().cancel(job_id)
        st.toast("Stopping at the next step")


def landscape_controls(picked: list[tuple[str, Design]]) -> None:
    """Designs, training budget, resolution and batch budget; Start."""
    designs = _pair_picker("probe_ls", picked)
    c = st.columns(6)
    steps = c[0].number_input("Training steps", 1, 10_000, 200, key="probe_ls_steps")
    line = c[1].number_input("Line points", 0, 201, 21, key="probe_ls_line")
    plane = c[2].number_input("Plane points a side", 0, 51, 9, key="probe_ls_plane")
    span = c[3].number_input("Span", 0.05, 10.0, 1.0, key="probe_ls_span")
    images = c[4].number_input(
        "Images per point", 1, 10_000, 256, key="probe_ls_images", help="the batch budget"
    )
    ppb = c[5].number_input(
        "Points per pass (0 = auto)",
        0,
        256,
        0,
        key="probe_ls_ppb",
        help="grid points evaluated in one batched forward pass (vmap); auto: 1 on the CPU, "
        "8 on a GPU",
    )
    try:
        spec = landscape.LandscapeSpec(
            line=int(line),
            plane=int(plane),
            span=float(span),
            images=int(images),
            points_per_batch=int(ppb) or None,
        )
    except ProbeError as exc:
        st.error(str(exc))
        return
    st.caption(
        f"{spec.points() + 1} weight vectors x {spec.images} images per design, after "
        f"{steps} training steps at 16 px."
    )
    _start_button(
        st, "Train and slice", "probe_ls_start", LANDSCAPE_JOB, designs, int(steps),
        landscape.then(spec), "landscape", spec.to_dict(),
    )  # fmt: skip


def draw_landscape(result: dict[str, Any], key: str) -> None:
    """The lines on one log axis, the contours on one colour scale, and the table."""
    st.plotly_chart(probe_charts.landscape_line(result), key=f"{key}_line_chart")
    contours = probe_charts.landscape_contours(result)
    if contours is not None:
        st.plotly_chart(contours, key=f"{key}_contours")
    rows = []
    for d in result["designs"]:
        ls = d["landscape"] or {}
        centre = ls.get("center") or {}
        rows.append(
            {
                "design": d["label"],
                "loss at the weights": centre.get("loss"),
                "acc at the weights": centre.get("acc"),
                "max loss on the line": max(
                    (v for v in (ls.get("line") or {}).get("loss", []) if v is not None),
                    default=None,
                ),
                "seconds": ls.get("seconds"),
                "device": ls.get("device"),
                "points per pass": ls.get("points_per_batch"),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_table")
    st.caption(
        "Filter-normalised directions (Li et al. 2018): every filter of the random direction "
        "has the norm of the trained filter, so nets of different scale compare. Same "
        "colour scale for every contour. Expect the plain net's surface to rise faster and "
        "less convexly away from the trained weights."
    )


def lesion_controls(picked: list[tuple[str, Design]]) -> None:
    """Designs, training budget and held-out images; Start."""
    designs = _pair_picker("probe_lesion", picked)
    c = st.columns(3)
    steps = c[0].number_input("Training steps", 1, 10_000, 300, key="probe_lesion_steps")
    images = c[1].number_input("Held-out images", 1, 1000, 500, key="probe_lesion_images")
    _start_button(
        c[2], "Train and lesion", "probe_lesion_start", LESION_JOB, designs, int(steps),
        lesion.then(int(images)), "lesion", {"images": int(images)},
    )  # fmt: skip


def draw_lesion(result: dict[str, Any], key: str) -> None:
    """Accuracy with each block removed, a line per design, and every block in a table."""
    st.plotly_chart(probe_charts.lesion_chart(result), key=f"{key}_chart")
    notes = []
    rows = []
    for d in result["designs"]:
        les = d["lesion"]
        if les is None:
            notes.append(f"{d['label']}: no trained model ({d['train_status']}).")
            continue
        mean = les["mean_acc"]
        notes.append(
            f"**{d['label']}**: intact {les['baseline']['acc']:.3f}, mean with one block "
            f"removed {'-' if mean is None else format(mean, '.3f')}"
            + (
                f"; {les['skipped']} shape-changing blocks cannot be removed"
                if les["skipped"]
                else ""
            )
        )
        for b in les["blocks"]:
            rows.append(
                {
                    "design": d["label"],
                    "block": b["name"],
                    "held-out acc": b["acc"],
                    "drop": b["acc_drop"],
                    "how": b["how"],
                }
            )
    st.markdown("  \n".join(notes))
    with st.expander("Every block"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_table")


def saved_study(run: Any) -> None:
    """A study from the run history (its result is stored with the run), drawn as it was."""
    kind, result = run.config.get("study"), run.config.get("result")
    label = str(run.config.get("label", "")).split(": ", 1)[-1]
    if not result:
        st.info(f"This {kind} study ended {run.status} without a result.")
        return
    wrapped = {"designs": [{"label": label, kind: result, "train_status": run.status}]}
    if kind == "landscape":
        draw_landscape(wrapped, key=f"hist_ls_{run.run_id[:8]}")
    elif kind == "lesion":
        draw_lesion(wrapped, key=f"hist_lesion_{run.run_id[:8]}")


#: Each study's job key, the hint shown before its first run, its icon, and how its result
#: is drawn.
_STUDIES: dict[str, tuple[str, str, str, Callable[[dict[str, Any], str], None]]] = {
    "landscape": (
        LANDSCAPE_JOB,
        "Train two designs briefly and slice the loss surface around their weights.",
        ":material/landscape:",
        draw_landscape,
    ),
    "lesion": (
        LESION_JOB,
        "Train designs briefly, then remove one block at a time (Veit et al. 2016).",
        ":material/content_cut:",
        draw_lesion,
    ),
}


def study_results(study: str) -> None:
    """A study's ("landscape" or "lesion") progress while it runs, then its result: the
    landscape's line and contours on one scale, or accuracy with each block removed."""
    study_view(*_STUDIES[study])
