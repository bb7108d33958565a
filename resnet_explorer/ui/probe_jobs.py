"""Every job on this server, in every session: who started it, how far it got, a Stop button.

Jobs run in the process-wide `probes.jobs.JobManager`, shared by every browser session. This
panel lists the queued and running ones to everybody (with the label their owner chose), lets
anybody stop any of them (the run history then says who), and keeps this session's own jobs
marked as watched (`JobManager.touch`) while the page is open: a job whose page has been gone
for ``RESNET_EXPLORER_UNWATCHED_MINUTES`` (default 10) is stopped and says so.
"""

from __future__ import annotations

import contextlib
import uuid

import streamlit as st

from resnet_explorer.probes import ProbeError
from resnet_explorer.probes.jobs import JobStatus, get_manager
from resnet_explorer.status import is_active

OWNER = "probe_owner"  # the label (not a widget key: it must survive every kind of rerun)
_OWNER_INPUT = "probe_owner_input"
MINE = "probe_my_jobs"

#: Streamlit's header "Stop" stops only the redraw of this page, never a training job (they run
#: in the background): hidden here, so that the page's own Stop buttons are the only ones.
HIDE_HEADER_STOP = (
    '<style>[data-testid="stStatusWidget"] [data-testid="stBaseButton-header"]'
    "{display: none;}</style>"
)


def owner() -> str:
    """This session's label on the jobs it starts (the user may change it)."""
    if OWNER not in st.session_state:
        st.session_state[OWNER] = f"session {uuid.uuid4().hex[:4]}"
    return st.session_state[OWNER]


def _rename() -> None:
    label = str(st.session_state.get(_OWNER_INPUT, "")).strip()[:40]
    st.session_state[OWNER] = label or owner()


def mine(job_id: str) -> None:
    """Remember a job as this session's (it is then touched while the page is open)."""
    st.session_state.setdefault(MINE, [])
    st.session_state[MINE] = [*st.session_state[MINE][-19:], job_id]


def touch_mine() -> None:
    """Mark this session's jobs as still watched."""
    manager = get_manager()
    for job_id in st.session_state.get(MINE, []):
        manager.touch(job_id)


def _progress(job: JobStatus) -> str:
    if job.state == "queued":
        return f"queued, number {job.position} in line"
    running = [d for d in job.designs if d.status == "running"]
    done = sum(1 for d in job.designs if d.status not in ("pending", "running"))
    if job.phase == "analysis":
        return f"studying the trained weights: {job.analysis_progress.get('text', '')}"
    if not running:
        return "starting"
    d = running[0]
    budget = f"/{d.steps}" if d.steps else ""
    return f"{d.label} step {d.step}{budget} · design {done + 1} of {len(job.designs)}"


@st.fragment(run_every=2.0)
def panel() -> None:
    """The jobs of every session, with Stop; keeps this session's jobs watched."""
    touch_mine()
    me = owner()
    active = [j for j in get_manager().jobs() if is_active(j.state)]
    with st.container(border=True, key="probe_jobs"):
        head, name = st.columns([3, 2], vertical_alignment="center")
        head.markdown(
            f"**Jobs on this server** ({len(active)} queued or running, every user)"
            if active
            else "**Jobs on this server**: none is running."
        )
        name.text_input(
            "Your name on the jobs you start",
            value=me,
            key=_OWNER_INPUT,
            on_change=_rename,
            max_chars=40,
            help="Every session sees who started each job. A job whose page has been closed "
            "for a while is stopped (RESNET_EXPLORER_UNWATCHED_MINUTES, default 10).",
        )
        for job in active:
            _row(job, me)


def _row(job: JobStatus, me: str) -> None:
    ours = job.id in st.session_state.get(MINE, [])
    who = "you" if ours else (job.owner or "someone")
    text, button = st.columns([6, 1], vertical_alignment="center")
    text.markdown(
        f"**{job.name}** · {job.kind} · started by **{who}** · {job.device} · {_progress(job)}"
    )
    if button.button("Stop", key=f"probe_jobs_stop_{job.id}", icon=":material/stop_circle:"):
        reason = None if ours else f"stopped from another session, by {me}"
        with contextlib.suppress(ProbeError):  # finished and forgotten meanwhile
            get_manager().cancel(job.id, reason=reason)
        st.toast(f"Stopping {job.name} at its next step")
