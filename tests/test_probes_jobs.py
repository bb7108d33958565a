"""The background job manager the Probe page polls: queue, positions, status, cancel, hooks."""

from __future__ import annotations

import threading
import time

import pytest
from test_probes import TINY

from resnet_explorer.probes import ProbeConfig, ProbeError
from resnet_explorer.probes.jobs import JobManager, get_manager


def cfg(**kw) -> ProbeConfig:
    base = {"steps": 6, "batch_size": 16, "threads": 1, "eval_every": 3, "log_every": 1}
    return ProbeConfig(**{**base, **kw})


def test_job_runs_and_status_is_plain_data(data):
    seen = []
    manager = JobManager(on_event=lambda job_id, e: seen.append((job_id, e["event"])))
    job_id = manager.submit([("a", TINY), ("b", TINY)], cfg(), data=data, name="two tiny")
    status = manager.wait(job_id, timeout=60)
    assert status["state"] == "done" and status["position"] is None and status["error"] is None
    assert status["name"] == "two tiny"
    assert [d["label"] for d in status["designs"]] == ["a", "b"]
    for design in status["designs"]:
        assert design["status"] == "done" and design["step"] == 6
        assert design["held_out_acc"] is not None and design["summary"]["steps"] == 6
    kinds = [e["event"] for e in status["events"]]
    assert kinds[0] == "probe_start" and kinds[-1] == "probe_end"
    assert status["next"] == len(kinds)
    assert manager.status(job_id, since=status["next"])["events"] == []
    assert {j for j, _ in seen} == {job_id} and len(seen) == len(kinds)
    assert [j["id"] for j in manager.jobs()] == [job_id]


def test_one_job_per_device_a_queue_with_positions_and_cancel(data):
    manager = JobManager()
    gate = threading.Event()
    release = threading.Event()

    def hold(_job_id, event):
        if event["event"] == "step":
            gate.set()
            release.wait(30)

    first = manager.submit([("a", TINY)], cfg(), data=data, on_event=hold)
    second = manager.submit([("b", TINY)], cfg(), data=data)
    third = manager.submit([("c", TINY)], cfg(), data=data)
    assert gate.wait(30)
    assert manager.position(first) == 0
    assert manager.status(first)["state"] == "running"
    assert manager.position(second) == 1 and manager.position(third) == 2
    assert manager.cancel(second) is True
    assert manager.status(second)["state"] == "cancelled"
    assert manager.position(third) == 1
    assert manager.cancel(first) is True
    release.set()
    done_first = manager.wait(first, timeout=60)
    assert done_first["state"] == "cancelled"
    assert done_first["designs"][0]["status"] == "cancelled"
    assert manager.wait(third, timeout=60)["state"] == "done"
    assert manager.cancel(third) is False


def test_a_failing_hook_never_stops_training(data):
    def broken(_job_id, _event):
        raise RuntimeError("store is down")

    manager = JobManager(on_event=broken)
    status = manager.wait(manager.submit([("a", TINY)], cfg(), data=data), timeout=60)
    assert status["state"] == "done"
    assert status["hook_errors"] and "store is down" in status["hook_errors"][0]


def test_bad_input_raises_at_submit_and_data_errors_fail_the_job():
    manager = JobManager()
    with pytest.raises(ProbeError):
        manager.submit([], cfg())
    with pytest.raises(ProbeError, match="no probe job"):
        manager.status("nope")
    job_id = manager.submit([("a", TINY)], cfg(dataset="imagenet"))
    status = manager.wait(job_id, timeout=60)
    assert status["state"] == "failed" and "imagenet" in status["error"]


def test_singleton():
    assert get_manager() is get_manager()


# --- long jobs: listed to everyone, stopped by anyone, stopped when unwatched -----------------


def _hold_at_first_step(manager):
    """An on_event hook that keeps the job at its first step until released."""
    started, release = threading.Event(), threading.Event()

    def hook(_job_id, event):
        if event["event"] == "step":
            started.set()
            release.wait(30)

    return hook, started, release


def test_every_job_is_listed_with_its_owner_and_anyone_can_stop_it(data, tmp_path):
    from resnet_explorer.probes.persist import StoreWriter
    from resnet_explorer.store import Store

    store = Store(tmp_path / "lib.sqlite3")
    writer = StoreWriter(store, flush_seconds=0.0)
    manager = JobManager()
    hold, started, release = _hold_at_first_step(manager)

    def hook(job_id, event):
        writer(job_id, event)
        hold(job_id, event)

    job = manager.submit([("a", TINY)], cfg(steps=50), data=data, owner="Ada", on_event=hook)
    assert started.wait(30)
    (listed,) = [j for j in manager.jobs() if j.id == job]
    assert listed.owner == "Ada" and listed.state == "running" and listed.kind == "probe"
    assert manager.cancel(job, reason="stopped from another session (Grace)")
    release.set()
    status = manager.wait(job, timeout=60)
    assert status.state == "cancelled" and status.stop_reason.startswith("stopped from another")
    (run,) = store.runs()
    assert run.status == "cancelled" and run.error == "stopped from another session (Grace)"
    assert run.steps >= 1


def test_a_job_nobody_watches_is_stopped_and_says_why(data):
    manager = JobManager(unwatched_after=0.3)
    watched = manager.submit([("a", TINY)], cfg(steps=100_000), data=data, watched=True)
    kept = manager.submit([("b", TINY)], cfg(steps=3), data=data)  # not watched: never reaped
    status = manager.wait(watched, timeout=60)
    assert status.state == "cancelled"
    assert "its page was gone" in status.stop_reason and "RESNET_EXPLORER_UNWATCHED" in (
        status.stop_reason
    )
    (design,) = status.designs
    assert design.status == "cancelled"
    end = next(e for e in status.events if e["event"] == "design_end")
    assert end["stop_reason"] == status.stop_reason
    assert manager.wait(kept, timeout=60).state == "done"


def test_touching_keeps_a_watched_job_alive(data):
    manager = JobManager(unwatched_after=2.0)  # a stall of up to 2 s on a busy box is fine
    hold, started, release = _hold_at_first_step(manager)
    job = manager.submit([("a", TINY)], cfg(steps=5), data=data, watched=True, on_event=hold)
    assert started.wait(30)
    end = time.monotonic() + 5.0  # 2.5 x the unwatched time of a page polling every 0.2 s
    while time.monotonic() < end:
        manager.touch(job)
        assert manager.status(job).state == "running"
        threading.Event().wait(0.2)
    release.set()
    assert manager.wait(job, timeout=60).state == "done"


def test_unwatched_minutes_from_the_environment(monkeypatch):
    from resnet_explorer.probes.jobs import unwatched_after_from_env

    monkeypatch.delenv("RESNET_EXPLORER_UNWATCHED_MINUTES", raising=False)
    assert unwatched_after_from_env() == 600
    monkeypatch.setenv("RESNET_EXPLORER_UNWATCHED_MINUTES", "2.5")
    assert unwatched_after_from_env() == 150
    monkeypatch.setenv("RESNET_EXPLORER_UNWATCHED_MINUTES", "off")
    assert unwatched_after_from_env() is None
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("RESNET_EXPLORER_UNWATCHED_MINUTES", bad)
        with pytest.raises(ProbeError, match="RESNET_EXPLORER_UNWATCHED_MINUTES"):
            unwatched_after_from_env()


def test_on_done_sees_the_finished_job_and_a_queued_cancel(data):
    done = []
    manager = JobManager()
    hold, started, release = _hold_at_first_step(manager)
    first = manager.submit([("a", TINY)], cfg(), data=data, on_event=hold, on_done=done.append)
    assert started.wait(30)
    queued = manager.submit([("b", TINY)], cfg(), data=data, on_done=done.append)
    manager.cancel(queued)
    release.set()
    manager.wait(first, timeout=60)
    assert [(s.id, s.state) for s in done] == [(queued, "cancelled"), (first, "done")]
    assert done[1].events[0]["event"] == "probe_start"  # the whole history


def test_shutdown_stops_every_job_and_refuses_new_ones(data):
    manager = JobManager()
    hold, started, release = _hold_at_first_step(manager)
    running = manager.submit([("a", TINY)], cfg(steps=50), data=data, on_event=hold)
    queued = manager.submit([("b", TINY)], cfg(), data=data)
    assert started.wait(30)
    release.set()
    assert set(manager.shutdown(timeout=60)) == {running, queued}
    for job in (running, queued):
        status = manager.status(job)
        assert status.state == "cancelled" and status.stop_reason == "stopped: the server shut down"
    with pytest.raises(ProbeError, match="shutting down"):
        manager.submit([("c", TINY)], cfg(), data=data)


_CHILD = """
import signal, sys, time
# What the Streamlit server does on SIGTERM / SIGINT: stop, and let the process exit normally.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
from resnet_explorer import Design
from resnet_explorer.probes import ProbeConfig
from resnet_explorer.probes.data import synthetic
from resnet_explorer.probes.jobs import get_manager
from resnet_explorer.probes.persist import StoreWriter
from resnet_explorer.store import Store

design = Design.from_json(sys.argv[2])
data = synthetic(num_classes=4, image_size=8, channels=3, train=64, held_out=32)
writer = StoreWriter(Store(sys.argv[1]), flush_seconds=0.2)
config = ProbeConfig(steps=1_000_000, batch_size=16, threads=1, eval_every=0, log_every=1)
get_manager().submit([("long", design)], config, data=data, on_event=writer)
print("started", flush=True)
while True:
    time.sleep(0.05)
"""


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_to_the_server_stops_jobs_cleanly_and_keeps_every_step(tmp_path, signum):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from resnet_explorer.store import Store

    db = tmp_path / "lib.sqlite3"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db), TINY.to_json()],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "started", child.stderr.read()
        deadline = time.monotonic() + 120
        seen = 0
        while seen < 5:  # wait until some steps are committed
            assert time.monotonic() < deadline, "no steps were committed within 120 s"
            runs = Store(db).runs() if db.exists() else []
            seen = runs[0].steps if runs else 0
            time.sleep(0.1)
        child.send_signal(getattr(signal, signum))
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    (run,) = Store(db).runs()
    assert run.status == "cancelled", (run, child.stderr.read())
    assert run.error == "stopped: the server shut down"
    assert run.steps >= seen and run.last_step == run.steps
