"""Widgets of the Probe page's training part: pick designs, settings, one-click experiments,
start and stop, and the live progress polled from the background `JobManager`.

Training runs in the process-wide `probes.jobs.get_manager()` (one job per device at a time,
queued across every session; it never calls Streamlit). The job id lives in
``st.session_state["probe_job"]``; `live` is a fragment that polls the job every second, so
touching any other widget never stops or hides a run. Each design's run is written to the library
(`probes.persist.StoreWriter`) step by step, so finished runs are in the run history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.probes import ProbeConfig, ProbeError, experiments
from resnet_explorer.probes.config import MAX_SEEDS
from resnet_explorer.probes.data import DATASETS
from resnet_explorer.probes.events import ProbeEvent, Step
from resnet_explorer.probes.jobs import JobStatus, get_manager
from resnet_explorer.status import is_active
from resnet_explorer.store import Store, StoreError
from resnet_explorer.ui import probe_charts, probe_jobs, probe_link, probe_results, stored

JOB = "probe_job"
EVENTS = "probe_job_events"
CURRENT = "current design (editor)"
LIB = "library: "


@st.cache_resource(show_spinner=False)
def _writer(path: str):
    """One `StoreWriter` per library file, shared by every session."""
    from resnet_explorer.probes.persist import StoreWriter

    return StoreWriter(Store(path))


def _library_names() -> list[str]:
    store = stored.open_store(quiet=True)
    if store is None:
        return []
    try:
        return [s.name for s in store.list_designs()]
    except StoreError:
        return []


def design_options() -> list[str]:
    """What the design picker offers: the editor's design, the presets, the library's designs."""
    return [CURRENT, *presets.names(), *(LIB + n for n in _library_names())]


def design_picker(current: Design, options: list[str]) -> list[tuple[str, Design]]:
    """1 to 4 designs: the editor's, presets, saved ones. Returns (label, design) pairs."""
    picked = st.multiselect(
        "Designs to train (1 to 4)",
        options,
        max_selections=probe_link.MAX_PICKS,
        key=probe_link.DESIGNS,
        help="All train on the same seeded batches, one after another.",
    )
    out: list[tuple[str, Design]] = []
    for name in picked:
        try:
            if name == CURRENT:
                out.append(("current", current))
            elif name.startswith(LIB):
                store = stored.open_store(quiet=True)
                if store is not None:
                    out.append((name[len(LIB) :], store.get_design(name[len(LIB) :]).design))
            else:
                out.append((name, presets.get(name)))
        except (StoreError, DesignError) as exc:
            st.error(f"{name} cannot be used: {exc}")
    return out


def settings() -> ProbeConfig | None:
    """Dataset, budget and optimizer settings; None (after saying why) when they are invalid.
    The widgets take their values from the session (`probe_link.seed`)."""
    c = st.columns(4)
    dataset = c[0].selectbox(
        "Dataset",
        list(DATASETS),
        key="probe_dataset",
        help="mnist: 5,000 real digits, offline. cifar10 is downloaded on first use. "
        "synthetic: seeded class templates plus noise.",
    )
    budget = c[1].radio("Budget", ["steps", "seconds"], horizontal=True, key="probe_budget")
    if budget == "steps":
        amount = c[2].number_input("Steps per design", 1, 100_000, key="probe_steps")
    else:
        amount = c[2].number_input("Seconds per design", 1, 3600, key="probe_seconds")
    size = c[3].selectbox(
        "Input size (px)",
        list(probe_link.IMAGE_SIZES),
        key="probe_image_size",
        help="Train every design at this input size (smaller is faster; depth and widths "
        "stay the design's).",
    )
    c = st.columns(5)
    optimizer = c[0].selectbox("Optimizer", ["sgd", "adamw"], key="probe_optimizer")
    lr = c[1].number_input("Learning rate", 0.0, 10.0, step=0.01, format="%.4f", key="probe_lr")
    batch = c[2].number_input("Batch size", 1, 4096, key="probe_batch")
    eval_every = c[3].number_input(
        "Held-out eval every (steps)",
        0,
        100_000,
        key="probe_eval_every",
        help="Also when the per-block gradient norms are recorded. 0 = only at the end.",
    )
    seed = c[4].number_input("Seed", 0, 2**31 - 1, key="probe_seed")
    seeds = c[4].number_input(
        "Seeds per design",
        1,
        MAX_SEEDS,
        key="probe_seeds",
        help="Each design trains with seeds seed, seed+1, ...: the curves show the mean and a "
        "band, the summary intervals and verdicts across the seeds.",
    )
    with st.expander("More settings"):
        c = st.columns(4)
        wd = c[0].number_input("Weight decay", 0.0, 1.0, step=1e-4, format="%.5f", key="probe_wd")
        warmup = c[1].number_input("Warm-up (fraction)", 0.0, 0.9, key="probe_warmup")
        smoothing = c[2].number_input("Label smoothing", 0.0, 0.9, key="probe_ls")
        threads = c[3].number_input(
            "CPU threads (0 = every core)",
            0,
            256,
            key="probe_threads",
            help="One thread (the default) starts at once and is often the fastest on a busy "
            "machine; results repeat exactly for the same seed and thread count.",
        )
    try:
        return ProbeConfig(
            steps=int(amount) if budget == "steps" else None,
            seconds=float(amount) if budget == "seconds" else None,
            dataset=dataset,
            image_size=None if size == "design's own" else int(size),
            optimizer=optimizer,
            lr=float(lr),
            batch_size=int(batch),
            eval_every=int(eval_every),
            seed=int(seed),
            seeds=int(seeds),
            weight_decay=float(wd),
            warmup=float(warmup),
            label_smoothing=float(smoothing),
            threads=int(threads) or None,
            log_every=1,  # the CPU gains nothing from batching host syncs; curves move every step
        )
    except ProbeError as exc:
        st.error(str(exc))
        return None


def is_busy(key: str) -> bool:
    """Whether the job under ``st.session_state[key]`` is queued or running."""
    job_id = st.session_state.get(key)
    if job_id is None:
        return False
    try:
        return is_active(get_manager().status(job_id, since=1 << 62).state)
    except ProbeError:
        return False


def _busy() -> bool:
    return is_busy(JOB)


START_ERROR = "probe_start_error"


def submit(
    designs: list[tuple[str, Any]], config: ProbeConfig, name: str, experiment: str | None = None
) -> None:
    """Queue a probe job for this session (its runs written to the library; watched while
    this page shows it, listed to every session under this session's label). A button's
    ``on_click``: it runs before the page is drawn again, so the page draws the job at once."""
    store = stored.open_store(quiet=True)
    hook = _writer(str(store.path)) if store is not None else None
    try:
        job_id = get_manager().submit(
            designs, config, name=name, on_event=hook, owner=probe_jobs.owner(), watched=True
        )
    except (ProbeError, DesignError) as exc:
        st.session_state[START_ERROR] = f"Not started: {exc}"
        return
    probe_jobs.mine(job_id)
    st.session_state[JOB] = job_id
    st.session_state[probe_results.EXPERIMENT] = experiment
    st.session_state[EVENTS] = {"job": job_id, "events": [], "next": 0}


def _start_error() -> None:
    message = st.session_state.pop(START_ERROR, None)
    if message:
        st.error(message)


def start_button(designs: list[tuple[str, Design]], config: ProbeConfig | None) -> None:
    """Start (disabled while this session's job runs or nothing is picked)."""
    busy = _busy()
    st.button(
        "Start training",
        type="primary",
        icon=":material/play_arrow:",
        disabled=busy or not designs or config is None,
        key="probe_start",
        help="Stop the current run first" if busy else None,
        on_click=submit,
        args=(designs, config, ", ".join(label for label, _ in designs)),
    )
    _start_error()


def experiment_panel() -> None:
    """One-click experiments: pick one, read what to look for, run it with its settings."""
    names = experiments.names()
    titles = {n: experiments.get(n).title for n in names}
    name = st.selectbox("Experiment", names, format_func=titles.get, key="probe_experiment")
    exp = experiments.get(name)
    st.markdown(f"**What to look for.** {exp.look_for}")
    seeds = st.number_input(
        "Seeds per design",
        1,
        MAX_SEEDS,
        key=probe_link.EXPERIMENT_SEEDS,
        help="Every design trains with seeds 0, 1, ...: the curves show the mean and a band, "
        "the summary intervals, pairwise verdicts and whether the paper's finding held "
        f"(default {experiments.default_seeds()} here; 1 seed gives curves but no verdict).",
    )
    cfg = exp.probe_config(log_every=1, threads=threads(), seeds=int(seeds))
    st.caption(
        f"{len(exp.designs)} designs: {', '.join(label for label, _ in exp.designs)} · "
        f"{cfg.seeds} seeds each · {cfg.steps} steps at {cfg.image_size} px, batch "
        f"{cfg.batch_size}, lr {cfg.lr:g} on {cfg.dataset} · source: {exp.source}"
    )
    if exp.notes:
        st.caption(exp.notes)
    st.button(
        "Run this experiment",
        icon=":material/science:",
        disabled=_busy(),
        key="probe_run_experiment",
        on_click=submit,
        args=(list(exp.designs), cfg, exp.title, exp.name),
    )


def threads() -> int | None:
    """The CPU threads this session trains with (the More settings field; None = every core)."""
    return int(st.session_state.get("probe_threads", 1)) or None


def _events(job_id: str) -> tuple[JobStatus, list[ProbeEvent]]:
    """The job's status and every event so far (read incrementally, kept in the session)."""
    cache = st.session_state.get(EVENTS)
    if not cache or cache["job"] != job_id:
        cache = {"job": job_id, "events": [], "next": 0}
    status = get_manager().status(job_id, since=cache["next"])
    cache["events"].extend(status.events)
    cache["next"] = status.next
    st.session_state[EVENTS] = cache
    return status, cache["events"]


def current_events() -> list[ProbeEvent]:
    """Events of this session's probe job (empty when there is none or it was forgotten)."""
    job_id = st.session_state.get(JOB)
    if job_id is None:
        return []
    try:
        return _events(job_id)[1]
    except ProbeError:
        return []


def _state_line(status: JobStatus) -> None:
    state, position = status.state, status.position
    if state == "queued":
        st.info(
            f"Queued: number {position} in line for {status.device} "
            "(one training job per device at a time, across every user).",
            icon=":material/hourglass_top:",
        )
    elif state == "running":
        st.caption(f"Running on {status.device}: **{status.name}**")
    elif state == "done":
        seconds = (status.finished_at or 0) - (status.started_at or 0)
        st.success(f"Done in {seconds:.1f} s: {status.name}", icon=":material/check_circle:")
    elif state == "cancelled":
        why = f" ({status.stop_reason})" if status.stop_reason else ""
        st.warning(f"Stopped: {status.name}{why}", icon=":material/stop_circle:")
    else:
        st.error(f"Failed: {status.error}")
    for err in status.hook_errors[:3]:
        st.warning(f"Not saved to the run history: {err}")


def live() -> None:
    """This session's probe: polled every second while it is queued or running (queue place,
    Stop, per-design progress, live curves), drawn once with the page when it has ended."""
    job_id = st.session_state.get(JOB)
    if job_id is None:
        st.info("Pick designs or an experiment and start a run.", icon=":material/model_training:")
        return
    try:
        status, events = _events(job_id)
    except ProbeError:
        st.info("The last run is no longer in memory; find it in the run history.")
        return
    if status.finished:
        _show(job_id, status, events)
    else:
        _poll(job_id)


@st.fragment(run_every=1.0)
def _poll(job_id: str) -> None:
    try:
        status, events = _events(job_id)
    except ProbeError:
        st.rerun()
    get_manager().touch(job_id)
    if status.finished:
        st.rerun()  # the whole page: results drawn once, Start enabled again
    _show(job_id, status, events)


def _show(job_id: str, status: JobStatus, events: list[ProbeEvent]) -> None:
    _state_line(status)
    if is_active(status.state) and st.button(
        "Stop training",
        type="primary",
        icon=":material/stop_circle:",
        key="probe_stop",
        help="Stops the job at its next step; what it recorded stays in the run history.",
    ):
        get_manager().cancel(job_id)
        st.toast("Stopping at the next step")
    probe_results.progress_rows(status)
    if not any(isinstance(e, Step) for e in events):
        return
    x = st.radio(
        "x axis",
        ["step", "wall time"],
        horizontal=True,
        key="probe_x",
        label_visibility="collapsed",
    )
    st.plotly_chart(
        probe_charts.training_curves(events, "step" if x == "step" else "elapsed"),
        key="probe_curves",
    )
    if status.finished:
        probe_results.summary(status, events)
        _saved_as(job_id, status)


def _saved_as(job_id: str, status: JobStatus) -> None:
    """Which library runs hold this job's designs."""
    store = stored.open_store(quiet=True)
    if store is None:
        return
    ids = _writer(str(store.path)).run_ids
    saved = [(d.key or d.label, ids.get((job_id, d.key or d.label))) for d in status.designs]
    saved = [(label, run_id) for label, run_id in saved if run_id]
    if saved:
        st.caption(
            "In the run history (Library page) as: "
            + ", ".join(f"{label} `{run_id}`" for label, run_id in saved)
        )


T = TypeVar("T")


def from_last_probe(extract: Callable[[list[ProbeEvent]], T], missing: str, icon: str) -> T | None:
    """What ``extract`` finds in the events of the session's last probe; None, after showing
    ``missing`` (what to run to see it), when it finds nothing."""
    data = extract(current_events())
    if not data:
        st.info(missing, icon=icon)
        return None
    return data
