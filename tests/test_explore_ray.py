"""Ray backend against a local Ray instance on 127.0.0.1 (one per module)."""

from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray")

from resnet_explorer.explore import EvalOptions, RayBackend, Space, explore  # noqa: E402
from resnet_explorer.explore.backends import Task  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ray.init(
        num_cpus=2,
        object_store_memory=80 * 1024**2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        # the tests' helpers (conftest) are importable in the workers too
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([root, f"{root}/tests"])}},
    )
    yield
    ray.shutdown()


def test_ray_probe_and_latency_come_back(cluster, tmp_path):
    space = Space.load("examples/space_cifar.json")
    options = EvalOptions(
        latency=True,
        latency_budget_s=2.0,  # a loaded machine still measures (else: cut_short)
        probe_steps=2,
        probe={"dataset": "synthetic", "batch_size": 8, "eval_size": 32},
    )
    events = []
    run = explore(
        space,
        3,
        options=options,
        backend=RayBackend(),
        out=str(tmp_path / "r.jsonl"),
        on_event=events.append,
    )
    assert run.state == "done", run.error
    assert run.counts() == {"ok": 3}
    for r in run.results.records:
        assert r["metrics"]["latency_ms"] > 0 and 0 <= r["metrics"]["error"] <= 1
    assert sum(e["event"] == "sample" for e in events) == 3


def test_ray_dead_worker_is_retried_then_failed(cluster, tmp_path):
    def flaky(design, options):
        import os
        from pathlib import Path

        from conftest import exit_the_first_time

        if design["x"] == 0:
            exit_the_first_time(Path(options["dir"]) / f"m{design['x']}")
        if design["x"] == 1:
            os._exit(1)
        if design["x"] == 2:
            raise ValueError("bad sample")
        return {"x": design["x"]}

    tasks = [Task(i, {"x": i}, {"dir": str(tmp_path)}) for i in range(4)]
    out = {}
    RayBackend(max_retries=1, evaluate=flaky).run(tasks, lambda o: out.setdefault(o.index, o))
    assert sorted(out) == [0, 1, 2, 3]
    assert out[0].status == "ok" and out[3].metrics == {"x": 3}
    assert out[1].status == "failed" and "worker died" in out[1].error
    assert out[2].status == "failed" and "bad sample" in out[2].error


def test_ray_cancel(cluster):
    def slow(design, options):
        import time

        time.sleep(30)
        return {}

    out = []
    calls = iter(range(1000))
    RayBackend(evaluate=slow).run(
        [Task(i, {}, {}) for i in range(3)], out.append, lambda: next(calls) > 3
    )
    assert [o.status for o in out] == ["cancelled"] * 3
