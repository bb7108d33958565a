"""Several threads and processes write one library at once; a killed writer loses nothing
it committed. Worker processes are forked (fast: no second import of torch)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time

import pytest

from resnet_explorer import presets
from resnet_explorer.store import NameTakenError, Store

R20 = presets.get("resnet20")
FORK = multiprocessing.get_context("fork")
DESIGNS = 12
STEPS = 30


def _work(store: Store, worker: int) -> bool:
    """Interleave design saves and step appends; then race everyone for one name."""
    run_id = store.start_run(R20, {"worker": worker}, run_id=f"run-{worker}")
    for i in range(max(DESIGNS, STEPS)):
        if i < DESIGNS:
            design = R20.replace(num_classes=100 * worker + i + 1)
            store.save_design(f"w{worker}-{i}", design, tags=[f"w{worker}"])
        if i < STEPS:
            store.append_steps(run_id, [{"step": i, "loss": 1 / (i + 1), "worker": worker}])
    store.finish_run(run_id, "completed")
    try:
        store.save_design("contested", R20.replace(num_classes=worker + 1))
        return True
    except NameTakenError:
        return False


def _process_writer(path: str, worker: int, barrier, wins) -> None:
    barrier.wait()  # everyone opens the (not yet existing) file at the same moment
    if _work(Store(path), worker):
        with wins.get_lock():
            wins.value += 1


def _check_complete(path, workers: list[int]) -> None:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = Store(path)
    assert store.counts() == {
        "designs": len(workers) * DESIGNS + 1,
        "profiles": 0,
        "runs": len(workers),
        "steps": len(workers) * STEPS,
    }
    for w in workers:
        assert len(store.list_designs(tag=f"w{w}")) == DESIGNS
        assert store.get_design(f"w{w}-3").design.num_classes == 100 * w + 4
        run = store.get_run(f"run-{w}")
        assert run.status == "completed" and run.config == {"worker": w}
        steps = store.steps(run.run_id)
        assert [s.step for s in steps] == list(range(STEPS))
        assert all(s.metrics == {"worker": w} for s in steps)


def test_concurrent_processes(tmp_path):
    path = str(tmp_path / "lib.sqlite3")
    workers = [1, 2, 3, 4]
    barrier, wins = FORK.Barrier(len(workers)), FORK.Value("i", 0)
    procs = [FORK.Process(target=_process_writer, args=(path, w, barrier, wins)) for w in workers]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(workers)
    assert wins.value == 1  # exactly one process got the contested name
    _check_complete(path, workers)


def test_concurrent_threads_share_one_store(tmp_path):
    store = Store(tmp_path / "lib.sqlite3")
    workers = [1, 2, 3, 4]
    errors: list[BaseException] = []
    results: dict[int, bool] = {}
    connections: set[int] = set()
    start = threading.Barrier(len(workers))

    def target(w: int) -> None:
        try:
            start.wait()
            results[w] = _work(store, w)
            connections.add(id(store._conn()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(results.values()) == [False, False, False, True]
    assert len(connections) == len(workers)  # one connection per thread
    _check_complete(store.path, workers)


def _steady_writer(path: str, run_id: str, batch: int, acked) -> None:
    store = Store(path)
    store.start_run(R20, {"batch": batch}, run_id=run_id)
    step = 0
    while True:
        store.append_steps(run_id, [{"step": step + k, "loss": 1.0} for k in range(batch)])
        step += batch
        acked.value = step  # every step below this is committed


@pytest.mark.parametrize("batch", [1, 7])
def test_killed_writer_keeps_every_committed_step(tmp_path, batch):
    path = str(tmp_path / "lib.sqlite3")
    Store(path).save_design("kept", R20)
    for attempt in range(2):
        run_id = f"killed-{attempt}"
        acked = FORK.Value("i", 0)
        proc = FORK.Process(target=_steady_writer, args=(path, run_id, batch, acked))
        proc.start()
        deadline = time.monotonic() + 60
        while acked.value < 40 + 13 * attempt and time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)  # most likely mid-transaction: it writes nonstop
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL
        committed = acked.value
        assert committed >= 40

        store = Store(path)
        steps = [s.step for s in store.steps(run_id)]
        assert len(steps) >= committed and steps == list(range(len(steps)))
        assert len(steps) % batch == 0  # a batch is all or nothing
        run = store.get_run(run_id)
        assert run.status == "running"  # it never finished: the history shows it as such
        store.finish_run(run_id, "failed", "killed")  # and the file is writable again
        assert store.get_design("kept").design == R20
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_held_lock_gives_a_clear_busy_error_then_clears(tmp_path):
    from resnet_explorer.store import BusyError

    path = tmp_path / "lib.sqlite3"
    store = Store(path, timeout=0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process sitting on the write lock
    started = time.monotonic()
    with pytest.raises(BusyError, match="busy"):
        store.save_design("a", R20)
    assert time.monotonic() - started < 5
    assert store.list_designs() == []  # readers are not blocked by a writer (WAL)
    holder.execute("ROLLBACK")
    holder.close()
    assert store.save_design("a", R20).name == "a"


def _use_inherited(store: Store) -> None:
    store.save_design("from the child", R20)


def test_a_forked_child_gets_its_own_connection(tmp_path):
    store = Store(tmp_path / "lib.sqlite3")
    store.save_design("from the parent", R20)
    child = FORK.Process(target=_use_inherited, args=(store,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert [d.name for d in store.list_designs()] == ["from the child", "from the parent"]
