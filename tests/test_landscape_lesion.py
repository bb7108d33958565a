"""Loss-landscape slices, the lesion study, post-training job steps, persistence, and the
landscape / lesion CLI."""

from __future__ import annotations

import json
import threading

import pytest
import torch
from test_probes import TINY

from resnet_explorer import presets
from resnet_explorer.builder import build_model
from resnet_explorer.cli import main
from resnet_explorer.probes import ProbeConfig, ProbeError, landscape, lesion, trained
from resnet_explorer.probes.jobs import JobManager
from resnet_explorer.probes.persist import StoreWriter
from resnet_explorer.store import Store

PLAIN_TINY = TINY.replace(shortcut="none")


def cfg(**kw) -> ProbeConfig:
    base = {"steps": 6, "batch_size": 16, "threads": 1, "eval_every": 3, "log_every": 1}
    return ProbeConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def tiny_probe(data):
    return trained.train([("res", TINY), ("plain", PLAIN_TINY)], cfg(), data=data)


def _xy(probe, index=0, n=32):
    run = probe.result.runs[index]
    return run.model, trained.eval_tensors(probe.data, run.design, n, probe.device)


# --- landscape ---------------------------------------------------------------------------------


def test_directions_are_filter_normalised():
    model = build_model(TINY, seed=0)
    d = landscape.filter_normalized_direction(model, torch.Generator().manual_seed(1))
    for name, p in model.named_parameters():
        if p.dim() <= 1:
            assert torch.count_nonzero(d[name]) == 0, name  # biases and norms stay put
        else:
            got = d[name].flatten(1).norm(dim=1)
            want = p.detach().flatten(1).norm(dim=1)
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_batched_points_equal_one_at_a_time(tiny_probe):
    model, (x, y) = _xy(tiny_probe)
    g = torch.Generator().manual_seed(0)
    dirs = [landscape.filter_normalized_direction(model, g) for _ in range(2)]
    points = [(0.0, 0.0), (0.3, -0.2), (-1.0, 0.5), (0.7, 0.7), (0.1, 0.0)]
    loop = landscape.SliceEvaluator(model, x, y, dirs, points_per_batch=1).evaluate(points)
    vmap = landscape.SliceEvaluator(model, x, y, dirs, points_per_batch=3, batch_size=10).evaluate(
        points
    )
    for (la, aa), (lb, ab) in zip(loop, vmap, strict=True):
        assert la == pytest.approx(lb, rel=1e-4) and aa == pytest.approx(ab)
    # the centre is the trained model itself
    assert loop[0][0] == pytest.approx(trained.evaluate(model, x, y)[0], rel=1e-5)
    assert loop[2][0] > loop[0][0]  # a full filter-norm step away is worse than the minimum


def test_landscape_line_and_plane_shapes_and_cancel(tiny_probe):
    model, (x, y) = _xy(tiny_probe)
    spec = landscape.LandscapeSpec(line=5, plane=3, images=32)
    out = landscape.landscape(model, x, y, spec)
    assert out["complete"] and out["points"] == 5 + 9 and out["images"] == 32
    assert out["line"]["alphas"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert out["line"]["loss"][2] == pytest.approx(out["center"]["loss"], rel=1e-5)
    plane = out["plane"]
    assert len(plane["loss"]) == 3 and all(len(r) == 3 for r in plane["loss"])
    assert plane["loss"][1][1] == pytest.approx(out["center"]["loss"], rel=1e-5)
    calls = []
    stopped = landscape.landscape(
        model, x, y, spec, cancel=lambda: len(calls) >= 2, report=lambda f, t: calls.append(f)
    )
    assert not stopped["complete"] and stopped["plane"] is None
    assert len(stopped["line"]["loss"]) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"line": 1},
        {"plane": 1},
        {"line": 0, "plane": 0},
        {"span": 0},
        {"images": 0},
        {"points_per_batch": 0},
    ],
)
def test_landscape_spec_rejects_bad_settings(bad):
    with pytest.raises(ProbeError, match="invalid landscape settings"):
        landscape.LandscapeSpec(**bad)


# --- lesion ------------------------------------------------------------------------------------


def test_plain_shape_changing_blocks_are_not_removable():
    from resnet_explorer.plan import plan

    res = [lesion.removable(b) for b in plan(presets.get("resnet20")).blocks]
    assert all(ok for ok, _ in res)
    plain = [lesion.removable(b) for b in plan(presets.get("plain20")).blocks]
    skipped = [how for ok, how in plain if not ok]
    assert len(skipped) == 2 and all("would break the network" in h for h in skipped)


def test_lesion_restores_the_model_and_reports_every_block(tiny_probe):
    model, (x, y) = _xy(tiny_probe)
    before = trained.evaluate(model, x, y)
    out = lesion.lesion(model, tiny_probe.result.runs[0].design, x, y)
    assert trained.evaluate(model, x, y) == before  # restored
    assert out["baseline"] == {"loss": before[0], "acc": before[1]}
    assert [b["name"] for b in out["blocks"]] == ["layer1.0", "layer2.0"]
    assert out["removed"] == 2 and out["skipped"] == 0 and out["complete"]
    # the plain twin: layer2.0 changes the shape, layer1.0 (4 -> 4, stride 1) does not
    model, (x, y) = _xy(tiny_probe, 1)
    plain = lesion.lesion(model, PLAIN_TINY, x, y)
    assert [b["removable"] for b in plain["blocks"]] == [True, False]
    assert plain["blocks"][1]["acc"] is None


def test_shortcut_only_is_the_identity_or_the_projection():
    model = build_model(TINY, seed=0).eval()
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(lesion.ShortcutOnly(model.layer1[0])(x), x)
    down = model.layer2[0]
    torch.testing.assert_close(lesion.ShortcutOnly(down)(x), down.downsample(x))


def test_residual_nets_degrade_gracefully_plain_nets_collapse():
    """Veit et al. on the offline digits: plain-20 vs ResNet-20 after 60 steps at 16 px."""
    probe = trained.train(
        [("plain20", presets.get("plain20")), ("resnet20", presets.get("resnet20"))],
        ProbeConfig(
            steps=60, batch_size=64, lr=0.05, warmup=0.1, image_size=16, eval_every=0, threads=1
        ),
    )
    out = lesion.study(probe, images=300)
    drop = {}
    for d in out["designs"]:
        les = d["lesion"]
        base = les["baseline"]["acc"]
        drop[d["label"]] = (base - les["mean_acc"]) / base
    assert out["designs"][0]["lesion"]["skipped"] == 2
    assert drop["resnet20"] < drop["plain20"], drop


# --- jobs: post-training steps, persistence -----------------------------------------------------


def test_then_runs_in_the_job_and_frees_the_models(data):
    manager = JobManager()
    job = manager.submit([("res", TINY)], cfg(), data=data, then=lesion.then(16))
    status = manager.wait(job, timeout=60)
    assert status["state"] == "done" and status["phase"] == "finished"
    assert status["analysis"]["designs"][0]["lesion"]["images"] == 16
    assert status["analysis_progress"]["fraction"] == pytest.approx(1.0)
    assert manager.result(job) is None
    kept = manager.submit([("res", TINY)], cfg(), data=data, keep_models=True)
    manager.wait(kept, timeout=60)
    assert manager.result(kept).runs[0].model is not None


def test_a_failing_then_fails_the_job(data):
    manager = JobManager()

    def boom(probe, cancel, report):
        raise ValueError("no study today")

    status = manager.wait(manager.submit([TINY], cfg(), data=data, then=boom), timeout=60)
    assert status["state"] == "failed" and "no study today" in status["error"]


def test_store_writer_records_runs_step_by_step(data, tmp_path):
    store = Store(tmp_path / "lib.sqlite3")
    writer = StoreWriter(store, flush_seconds=0.0)
    manager = JobManager()
    job = manager.submit([("res", TINY), ("plain", PLAIN_TINY)], cfg(), data=data, on_event=writer)
    status = manager.wait(job, timeout=60)
    assert status["hook_errors"] == []
    runs = {r.config["label"]: r for r in store.runs()}
    assert set(runs) == {"res", "plain"}
    res = runs["res"]
    assert res.status == "completed" and res.steps == 6 and res.config["job"] == job
    assert res.run_id == writer.run_ids[(job, "res")]
    rows = [s.row() for s in store.steps(res.run_id)]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    evals = {r["step"]: r for r in rows if "val_acc" in r}
    assert set(evals) == {3, 6}
    assert set(evals[3]["grad_blocks"]) >= {"layer1.0", "layer2.0"}


def test_store_writer_marks_a_stopped_run_cancelled(data, tmp_path):
    store = Store(tmp_path / "lib.sqlite3")
    manager = JobManager()
    stop = threading.Event()

    def hook(job_id, event):
        writer(job_id, event)
        if event["event"] == "step" and event["step"] == 2:
            manager.cancel(job_id)
            stop.set()

    writer = StoreWriter(store)
    job = manager.submit([("res", TINY)], cfg(steps=50), data=data, on_event=hook)
    status = manager.wait(job, timeout=60)
    assert stop.is_set() and status["state"] == "cancelled"
    (run,) = store.runs()
    assert run.status == "cancelled" and 2 <= run.steps < 50


# --- CLI ---------------------------------------------------------------------------------------


TRAIN = [
    "--dataset",
    "synthetic",
    "--steps",
    "4",
    "--batch-size",
    "16",
    "--image-size",
    "8",
    "--threads",
    "1",
]


def test_landscape_cli_json(tiny_file, capsys):
    code = main(
        ["landscape", tiny_file, *TRAIN, "--line", "3", "--plane", "2", "--images", "16", "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["schema"] == "resnet-explorer/landscape/v1"
    (d,) = out["designs"]
    assert d["label"] == "tiny" and len(d["landscape"]["line"]["loss"]) == 3
    assert len(d["landscape"]["plane"]["loss"]) == 2 and out["spec"]["images"] == 16


def test_lesion_cli_json_and_text(tiny_file, capsys):
    code = main(["lesion", tiny_file, *TRAIN, "--images", "16", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["schema"] == "resnet-explorer/lesion/v1"
    assert [b["name"] for b in out["designs"][0]["lesion"]["blocks"]] == ["layer1.0", "layer2.0"]
    assert main(["lesion", tiny_file, *TRAIN, "--images", "16"]) == 0
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["landscape", "nope"], "neither a preset nor a design file"),
        (["landscape", "resnet20", "--line", "1"], "line=1"),
        (["lesion", "resnet20", "--images", "0"], "--images 0"),
        (["lesion", "resnet20", "--lr", "-1"], "lr=-1"),
    ],
)
def test_study_cli_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_study_writer_saves_a_study_in_the_run_history(data, tmp_path):
    from resnet_explorer.probes.persist import StudyWriter

    store = Store(tmp_path / "lib.sqlite3")
    spec = landscape.LandscapeSpec(line=3, plane=0, images=16)
    writer = StudyWriter(store, "landscape", spec.to_dict())
    manager = JobManager()
    job = manager.submit(
        [("res", TINY)], cfg(), data=data, then=landscape.then(spec), on_done=writer.on_done
    )
    status = manager.wait(job, timeout=60)
    assert status.state == "done" and status.hook_errors == []
    (run,) = store.runs()
    assert run.status == "completed" and run.steps == 6
    assert run.config["label"] == "landscape: res" and run.config["study"] == "landscape"
    assert run.config["spec"]["line"] == 3 and run.config["job"] == job
    assert (
        run.config["result"]["line"]["loss"]
        == status.analysis["designs"][0]["landscape"]["line"]["loss"]
    )
    assert writer.run_ids[(job, "res")] == run.run_id
    assert {s.step for s in store.steps(run.run_id) if "val_acc" in s.metrics} == {3, 6}


def test_a_stopped_study_is_saved_as_cancelled_with_the_reason(data, tmp_path):
    from resnet_explorer.probes.persist import StudyWriter

    store = Store(tmp_path / "lib.sqlite3")
    writer = StudyWriter(store, "lesion", {"images": 16})
    manager = JobManager()

    def stop_at_two(job_id, event):
        if event["event"] == "step" and event["step"] == 2:
            manager.cancel(job_id, reason="stopped from another session (Grace)")

    job = manager.submit(
        [("res", TINY)],
        cfg(steps=50),
        data=data,
        then=lesion.then(16),
        on_event=stop_at_two,
        on_done=writer.on_done,
    )
    status = manager.wait(job, timeout=60)
    assert status.state == "cancelled" and status.hook_errors == []
    (run,) = store.runs()
    assert run.status == "cancelled" and run.error == "stopped from another session (Grace)"
    assert run.config["result"] is None and 2 <= run.steps < 50
