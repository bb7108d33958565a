"""Local process-pool backend: results, evaluation errors, a dead worker retried or failed."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import exit_the_first_time

from resnet_explorer.explore.backends import LocalBackend, Task


def double(design, options):
    return {"twice": design["x"] * 2, "pid": os.getpid()}


def crash_once(design, options):
    """Kills its worker the first time it sees sample 1; sample 2 raises."""
    if design["x"] == 1:
        exit_the_first_time(Path(options["dir"]) / f"seen-{design['x']}")
    if design["x"] == 2:
        raise ValueError("bad sample")
    return {"twice": design["x"] * 2}


def always_crash(design, options):
    os._exit(1)


def test_local_pool_retries_a_dead_worker_and_reports_every_task(tmp_path):
    tasks = [Task(i, {"x": i}, {"dir": str(tmp_path)}) for i in range(4)]
    out = {}
    LocalBackend(2, evaluate=crash_once, max_retries=2).run(
        tasks, lambda o: out.setdefault(o.index, o)
    )
    assert sorted(out) == [0, 1, 2, 3]
    assert out[1].status == "ok" and out[1].metrics == {"twice": 2} and out[1].attempts == 2
    assert out[2].status == "failed" and "bad sample" in out[2].error
    assert out[0].status == out[3].status == "ok"


def test_local_pool_marks_a_sample_failed_after_retries():
    out = []
    LocalBackend(1, evaluate=always_crash, max_retries=1).run([Task(0, {}, {})], out.append)
    assert (
        len(out) == 1 and out[0].status == "failed" and "worker died (2 attempts)" in out[0].error
    )


def test_inline_and_cancel():
    out = []
    LocalBackend(0, evaluate=double).run([Task(i, {"x": i}, {}) for i in range(3)], out.append)
    assert [o.metrics["twice"] for o in out] == [0, 2, 4] and out[0].metrics["pid"] == os.getpid()
    out.clear()
    LocalBackend(0, evaluate=double).run(
        [Task(i, {"x": i}, {}) for i in range(3)], out.append, lambda: True
    )
    assert [o.status for o in out] == ["cancelled"] * 3
