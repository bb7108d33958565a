"""What a probe job shows: per-design progress across its seeds, and once it has ended the
per-run table, the intervals over the seeds, the pairwise verdicts, whether a one-click
experiment reproduced its paper's finding, and the depth ladder's chart."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from resnet_explorer.probes import experiments, stats
from resnet_explorer.probes.events import ProbeEnd, ProbeEvent
from resnet_explorer.probes.jobs import DesignProgress, JobStatus
from resnet_explorer.status import RUN_RESULTS
from resnet_explorer.ui import probe_charts

EXPERIMENT = "probe_job_experiment"  # the one-click experiment the session's job runs, if any


def _by_label(status: JobStatus) -> dict[str, list[DesignProgress]]:
    out: dict[str, list[DesignProgress]] = {}
    for d in status.designs:
        out.setdefault(d.label, []).append(d)
    return out


def _fraction(d: DesignProgress, cfg: dict[str, Any]) -> float:
    """How much of its budget a run has done: all of it once it ended with a result (done or
    diverged); a run stopped or failed on the way, only what it reached (a job stopped during
    its first seed showed full bars, "3 of 3 seeds done")."""
    if d.status in RUN_RESULTS:
        return 1.0
    if d.status == "pending":
        return 0.0
    if cfg["steps"]:
        return min(1.0, d.step / cfg["steps"])
    return min(1.0, (d.elapsed or 0) / cfg["seconds"])


def shown_run(runs: list[DesignProgress]) -> DesignProgress:
    """The seed a design's bar speaks of: the running one, else the last that took a step
    (not a seed a stop cancelled before its first step), else the last that started."""
    running = [d for d in runs if d.status == "running"]
    started = [d for d in runs if d.status != "pending"]
    return (running or [d for d in started if d.step] or started or runs)[-1]


def progress_rows(status: JobStatus) -> None:
    """A bar per design: its current seed's step, loss and accuracy, and how many seeds are
    done."""
    cfg = status.config
    for label, runs in _by_label(status).items():
        current = shown_run(runs)
        if cfg["steps"]:
            where = f"step {current.step}/{cfg['steps']}"
        else:
            where = f"step {current.step}, {current.elapsed or 0:.1f}/{cfg['seconds']:g} s"
        parts = [f"**{label}** · {current.status} · {where}"]
        if len(runs) > 1:
            done = sum(1 for d in runs if d.status in RUN_RESULTS)
            parts.append(f"seed {current.seed} ({done} of {len(runs)} seeds done)")
        if current.loss is not None:
            parts.append(f"loss {current.loss:.3f} · acc {current.acc:.2f}")
        if current.held_out_acc is not None:
            parts.append(f"held-out acc {current.held_out_acc:.3f}")
        if current.error:
            parts.append(current.error)
        frac = sum(_fraction(d, cfg) for d in runs) / len(runs)
        st.progress(frac, text=" · ".join(parts))


def summary(status: JobStatus, events: list[ProbeEvent]) -> None:
    """Every run's figures; with several seeds the intervals and the verdicts; the finding."""
    seeds = status.config.get("seeds", 1)
    rows = []
    for d in status.designs:
        s = d.summary or {}
        rows.append(
            {
                "design": d.label,
                "seed": d.seed,
                "status": d.status,
                "steps": s.get("steps"),
                "train loss": s.get("final_train_loss"),
                "train acc": s.get("final_train_acc"),
                "held-out loss": s.get("held_out_loss"),
                "held-out acc": s.get("held_out_acc"),
                "images/s": s.get("images_per_s"),
                "seconds": s.get("train_seconds"),
            }
        )
    statistics = _statistics(status, events)
    if seeds > 1:
        _intervals(statistics, seeds)
    with st.expander("Every run", expanded=seeds == 1):
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="probe_summary")
    if seeds > 1:
        _verdicts(statistics)
    _finding(statistics)


def _statistics(status: JobStatus, events: list[ProbeEvent]) -> dict[str, Any]:
    end = next((e for e in reversed(events) if isinstance(e, ProbeEnd)), None)
    if end is not None and end.statistics is not None:
        return end.statistics
    return stats.summarize([d.summary for d in status.designs if d.summary])


def _cell(d: dict[str, Any] | None, spec: str) -> str:
    if not d:
        return "-"
    return stats.Interval(**d).text(spec)


def _intervals(statistics: dict[str, Any], seeds: int) -> None:
    rows = [
        {
            "design": label,
            "seeds": len(d["seeds"]),
            "final train loss: mean [interval]": _cell(d.get("final_train_loss"), ".4f"),
            "held-out acc: mean [interval]": _cell(d.get("held_out_acc"), ".3f"),
            "early train loss": _cell(d.get("early_train_loss"), ".4f"),
        }
        for label, d in statistics["designs"].items()
    ]
    method = stats.band_method(seeds).split("band: ")[-1]
    st.markdown(f"**Across {seeds} seeds** (intervals: {method} of the mean)")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="probe_intervals")


def _verdicts(statistics: dict[str, Any]) -> None:
    lines = [v["text"] for v in statistics["verdicts"] if v["metric"] == "final_train_loss"]
    if lines:
        st.markdown("**Pairwise, final training loss, seed by seed:**")
        st.markdown("\n".join(f"- {line}" for line in lines))


def _finding(statistics: dict[str, Any]) -> None:
    name = st.session_state.get(EXPERIMENT)
    if not name:
        return
    exp = experiments.get(name)
    if exp.name == "depth_ladder":
        st.plotly_chart(probe_charts.depth_ladder(statistics), key="probe_ladder")
    found = exp.finding(statistics)
    if not found["sentence"]:
        return
    shows = {"reproduced": st.success, "partly reproduced": st.warning}
    show = shows.get(found["verdict"], st.info)
    show(f"**{exp.title}.** {found['sentence']}", icon=":material/fact_check:")
    if exp.notes:
        st.caption(exp.notes)
