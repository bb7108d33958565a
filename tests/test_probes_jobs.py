"""The background job manager the Probe page polls: queue, positions, status, cancel, hooks."""

from __future__ import annotations

import threading

import pytest
from test_probes import TINY

from resnet_explorer.probes import ProbeConfig, ProbeError
from resnet_explorer.probes.data import synthetic
from resnet_explorer.probes.jobs import JobManager, get_manager


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=4, image_size=8, channels=3, train=64, held_out=32)


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
