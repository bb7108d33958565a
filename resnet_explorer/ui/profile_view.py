"""Widgets of the Profile page: per-layer table, FLOP conventions, memory, torchinfo, latency."""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from resnet_explorer import units
from resnet_explorer.analysis import (
    CONVENTIONS,
    AnalysisError,
    LatencyOptions,
    LatencyReport,
    memory,
    summary,
)
from resnet_explorer.analysis.devices import PRECISIONS
from resnet_explorer.analysis.latency import MODES, LatencyError, LatencyJob
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.ui import cached, state, stored

KINDS = ["conv", "norm", "act", "pool", "linear", "shortcut", "add"]


def layer_table(design: Design) -> None:
    """Every layer with its exact counts; sortable by any column, filterable by name and kind."""
    frame = pd.DataFrame(cached.analytic_layers(design.to_json()))
    frame["stage"] = frame["stage"].map(lambda s: "stem/head" if pd.isna(s) else f"layer{s + 1}")
    left, right = st.columns([2, 3])
    needle = left.text_input("Filter by name", placeholder="e.g. layer3.0 or downsample")
    kinds = right.multiselect("Kinds", KINDS, default=["conv", "norm", "linear", "shortcut"])
    shown = frame[frame["kind"].isin(kinds)]
    if needle:
        shown = shown[shown["name"].str.contains(needle, regex=False)]
    st.dataframe(
        shown.rename(columns={"fvcore": "fvcore flops", "outputs": "output elements"}),
        hide_index=True,
        width="stretch",
        height=360,
        column_config={
            "params": st.column_config.NumberColumn(format="localized"),
            "macs": st.column_config.NumberColumn("MACs", format="localized"),
            "fvcore flops": st.column_config.NumberColumn(format="localized"),
            "activations": st.column_config.NumberColumn(format="localized"),
            "output elements": st.column_config.NumberColumn(format="localized"),
        },
    )
    st.caption(
        f"{len(shown):,} of {len(frame):,} layers. Counts are exact, for one image, computed "
        "from the design alone; the test suite checks them against fvcore and torchinfo."
    )


def conventions(design: Design) -> None:
    """The four FLOP conventions for this design, and why tools disagree."""
    counts = cached.analytic_totals(design.to_json())
    cols = st.columns(4)
    # Short labels (four in a row fit at 1280 px with the sidebar open); help says whose.
    cols[0].metric(
        "MACs",
        units.gmacs(counts.macs),
        help=f"Multiply-accumulates of conv + fc: torchvision's 'GFLOPS'. {counts.macs:,}",
    )
    cols[1].metric(
        "pycls flops",
        f"{counts.pycls_flops / 1e9:,.3f} G",
        help=f"MACs + bias additions: {counts.pycls_flops:,}",
    )
    cols[2].metric(
        "fvcore total",
        f"{counts.fvcore / 1e9:,.3f} G",
        help=f"fvcore's FlopCountAnalysis total: {counts.fvcore:,}",
    )
    cols[3].metric(
        "FLOPs (2 x MACs)",
        units.gflops(counts.flops),
        help=f"PyTorch's FlopCounterMode and hardware peaks: {counts.flops:,}",
    )
    st.info(CONVENTIONS, icon=":material/calculate:")


@st.cache_data(max_entries=64, show_spinner="Measuring what autograd saves...")
def _memory(design_json: str, batch_size: int, optimizer: str) -> dict:
    report = memory(Design.from_json(design_json), batch_size, optimizer=optimizer)
    return vars(report)


def memory_panel(design: Design) -> None:
    """Parameter bytes and the memory of one training step at a chosen batch size."""
    left, right = st.columns(2)
    batch = left.number_input(
        "Batch size", min_value=1, max_value=4096, value=32, step=1, key="memory_batch"
    )
    optimizer = right.selectbox("Optimizer", ["sgd", "adam", "none"], key="memory_optimizer")
    try:
        report = _memory(design.to_json(), int(batch), optimizer)
    except (AnalysisError, DesignError) as exc:
        st.error(str(exc))
        return
    cols = st.columns(4)
    cols[0].metric("Parameters", units.nbytes(report["parameter_bytes"]), help="fp32")
    cols[1].metric(
        "Gradients + optimizer state",
        units.nbytes(report["gradient_bytes"] + report["optimizer_state_bytes"]),
    )
    cols[2].metric(
        "Saved activations",
        units.nbytes(report["saved_activation_bytes"]),
        help=report["saved_activation_method"],
    )
    cols[3].metric(
        "Training step (estimate)",
        units.nbytes(report["training_step_estimate_bytes"]),
        help="parameters + gradients + optimizer state + saved activations; "
        "an estimate: allocator overhead and workspace are not included",
    )
    if report["measured_peak_bytes"] is not None:
        st.success(
            f"Measured peak on {report['measured_peak_device']}: "
            f"{units.nbytes(report['measured_peak_bytes'])}"
        )
    else:
        st.caption(
            "No GPU here: the peak memory of a real training step is measured only on "
            "CUDA. Saved activations are measured (autograd's saved tensors)."
        )


@st.cache_data(max_entries=32, show_spinner="Running torchinfo...")
def _summary(design_json: str, depth: int) -> list[dict]:
    return [vars(row) for row in summary(Design.from_json(design_json), depth=depth).rows]


def torchinfo_panel(design: Design) -> None:
    depth = st.slider("Depth", 1, 4, 2, help="how deep torchinfo descends into modules")
    if st.toggle("Show the torchinfo summary", key="show_torchinfo"):
        try:
            rows = pd.DataFrame(_summary(design.to_json(), depth))
        except (AnalysisError, DesignError) as exc:
            st.error(str(exc))
            return
        rows["output_shape"] = rows["output_shape"].map(lambda s: " x ".join(map(str, s or [])))
        st.dataframe(rows, hide_index=True, width="stretch", height=360)


#: Batch sizes offered, and those a sweep measures by default (a GPU does more in the time).
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
DEFAULT_BATCHES = {"cpu": [1, 4, 16], "cuda": [1, 8, 32, 128]}
SWEEP_BUDGET_S = 25.0


def _latency_options() -> LatencyOptions:
    """The sweep's settings (defaults: three batch sizes, both modes, a 25 s budget)."""
    import torch

    where = "cuda" if torch.cuda.is_available() else "cpu"
    cols = st.columns([3, 2])  # wide enough that the picks are never cut
    batches = cols[0].multiselect(
        "Batch sizes", BATCHES, default=DEFAULT_BATCHES[where], key="latency_batches"
    )
    modes = cols[1].multiselect("Measure", list(MODES), default=list(MODES), key="latency_modes")
    cols = st.columns(4)
    precision = cols[0].selectbox(
        "Precision",
        list(PRECISIONS),
        help="bf16 and fp16 use autocast and need a GPU",
        key="latency_precision",
    )
    budget = cols[1].number_input(
        "Time for the sweep (s)",
        5.0,
        300.0,
        SWEEP_BUDGET_S,
        step=5.0,
        key="latency_budget",
        help="the whole sweep's time: slow rows get fewer timed runs, never none, until it "
        "is spent",
    )
    channels_last = cols[2].checkbox("channels_last", key="latency_channels_last")
    compile_model = cols[3].checkbox(
        "torch.compile", help="slow to compile on a CPU", key="latency_compile"
    )
    return LatencyOptions(
        batch_sizes=tuple(sorted(batches)) or (1,),
        precision=precision,
        modes=tuple(modes) or ("inference",),
        sweep_budget_s=float(budget),
        channels_last=channels_last,
        compile=compile_model,
    )


def latency_panel(design: Design) -> None:
    """Measure latency on request, in a background job the page polls (a progress bar); the
    result stays until the design or the options change."""
    try:
        options = _latency_options()
    except LatencyError as exc:
        st.error(str(exc))
        return
    key = (design.hash, options)
    job = state.latency_job()
    busy = job is not None and not job.finished
    clicked = st.button(
        "Measure latency",
        type="primary",
        icon=":material/timer:",
        key="latency_measure",
        disabled=busy,
    )
    if clicked and not busy:  # a click that raced a running sweep starts nothing
        job = LatencyJob(design, options).start()
        state.set_latency_job(key, job)
        busy = True
    if busy:
        _progress(job)
        return
    if job is not None and state.latency_job_key() == key:
        _collect(design, options, job)
    report = state.latency_results().get(key)
    if isinstance(report, str):  # the sweep failed: its message stays until the options change
        st.error(f"Latency could not be measured: {report}")
        return
    if report is None:
        st.caption(
            "Latency is measured on request, in the background (about half a minute on a "
            "CPU): the page stays usable meanwhile."
        )
        return
    show_latency(report, state.latency_seconds().get(key))


def _collect(design: Design, options: LatencyOptions, job: LatencyJob) -> None:
    """A finished job: its report kept (in the session and the library), or its error."""
    state.set_latency_job(None, None)
    if job.error is not None:
        state.latency_results()[(design.hash, options)] = job.error
        return
    state.latency_results()[(design.hash, options)] = job.report
    state.latency_seconds()[(design.hash, options)] = job.seconds
    _keep(design, options, job.report)


@st.fragment(run_every=0.5)
def _progress(job: LatencyJob) -> None:
    """The running sweep's progress bar, polled; the page redraws itself when it ends."""
    if job.finished:
        st.rerun()
    done = job.progress
    what = f"measuring {done.current}" if done.current else "starting"
    elapsed = time.perf_counter() - job.started
    st.progress(
        min(done.done / max(done.total, 1), 1.0),
        text=f"Latency: {what} ({done.done} of {done.total} rows, {elapsed:.0f} s of at most "
        f"{job.options.sweep_budget_s:g} s)",
    )
    st.button("Stop after this row", key="latency_stop", on_click=job.cancel)


def _keep(design: Design, options: LatencyOptions, report: LatencyReport) -> None:
    """Record the measurement in the library, so Compare and reports can show it."""
    store = stored.open_store(quiet=True)
    if store is None:
        st.caption("The library cannot be opened, so this measurement is not kept.")
        return
    store.add_profile(
        design,
        device=report.device_name,
        settings=options.model_dump(),
        results={"latency": report.to_dict()},
    )


def show_latency(report: LatencyReport, seconds: float | None = None) -> None:
    where = "GPU: " + report.device_name if report.device == "cuda" else "CPU only (no GPU)"
    took = f" · the sweep took {seconds:.1f} s" if seconds is not None else ""
    st.markdown(
        f"**Device:** {where} · {report.num_threads} CPU thread(s) · "
        f"{report.precision} · torch {report.torch_version}{took}"
    )
    if report.cut_short:
        not_run = [r for r in report.rows if r.status != "ok"]
        why = [f"{r.mode} batch {r.batch_size}: {r.message or r.status}" for r in not_run]
        st.warning(
            "The sweep was cut short by the time budget or memory:\n\n"
            + "\n".join(f"- {line}" for line in why),
            icon=":material/timer_off:",
        )
    rows = pd.DataFrame([vars(r) for r in report.rows])
    ok = rows[rows["status"] == "ok"]
    if not ok.empty:
        fig = go.Figure()
        for mode, part in ok.groupby("mode"):
            fig.add_trace(
                go.Scatter(
                    x=part["batch_size"],
                    y=part["median_s"] * 1e3,
                    mode="lines+markers",
                    name=f"{mode} latency (ms)",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=part["batch_size"],
                    y=part["images_per_s"],
                    mode="lines+markers",
                    name=f"{mode} images/s",
                    yaxis="y2",
                    line={"dash": "dot"},
                )
            )
        fig.update_layout(
            height=340,
            # ticks at the measured batch sizes (a log axis alone shows 0.1 ... 10 for one size)
            xaxis={
                "title": "batch size",
                "type": "log",
                "tickvals": sorted(ok["batch_size"].unique().tolist()),
            },
            yaxis={"title": "median latency (ms)"},
            yaxis2={"title": "images/s", "overlaying": "y", "side": "right"},
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            # above the plot: below it, the legend covered the x axis's title
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        )
        st.plotly_chart(fig, key="latency_chart")
    table = rows[
        [
            "mode",
            "batch_size",
            "status",
            "message",
            "median_s",
            "iqr_s",
            "images_per_s",
            "achieved_tflops",
            "fraction_of_peak",
        ]
    ].copy()
    table["median_s"] = table["median_s"].map(lambda v: None if pd.isna(v) else v * 1e3)
    table["iqr_s"] = table["iqr_s"].map(lambda v: None if pd.isna(v) else v * 1e3)
    st.dataframe(
        table.rename(columns={"median_s": "median (ms)", "iqr_s": "IQR (ms)"}),
        hide_index=True,
        width="stretch",
    )
    peak = (
        f"peak {report.peak_tflops} TFLOP/s ({report.peak_source})"
        if report.peak_tflops
        else "no known peak for this device"
    )
    st.caption(f"{report.flops_convention}. Fraction of peak: {peak}. " + " ".join(report.notes))
