"""The probe runner: determinism, fair batches, divergence, OOM, budgets, cancellation, events."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from resnet_explorer import Design, DesignError
from resnet_explorer.probes import (
    ProbeConfig,
    ProbeError,
    experiments,
    gradient_flow_at_init,
    run_probe,
)
from resnet_explorer.probes.runner import iter_probe, lr_at

TINY = Design(
    image_size=8,
    num_classes=4,
    stem="cifar",
    stem_width=4,
    stages=[{"blocks": 1, "width": 4}, {"blocks": 1, "width": 8, "stride": 2}],
    shortcut="A",
)


def config(**kw) -> ProbeConfig:
    base = {"steps": 12, "batch_size": 16, "threads": 1, "eval_every": 6, "log_every": 3}
    return ProbeConfig(**{**base, **kw})


def test_same_seed_same_losses_and_every_design_sees_the_same_batches(data):
    first = run_probe([("a", TINY), ("b", TINY)], config(), data=data)
    again = run_probe([("a", TINY)], config(), data=data)
    other = run_probe([("a", TINY)], config(seed=1), data=data)
    losses = first.run("a").losses()
    assert len(losses) == 12 and all(isinstance(x, float) for x in losses)
    assert first.run("b").losses() == losses  # same init, same batches, same order
    assert again.run("a").losses() == losses
    assert other.run("a").losses() != losses
    assert first.status == "done"
    assert losses[-1] < losses[0]  # it learns the synthetic set


def test_events_stream_plain_json_with_diagnostics(data):
    events = list(iter_probe([("tiny", TINY)], config(), data=data))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "probe_start" and kinds[1] == "design_start"
    assert kinds[-2:] == ["design_end", "probe_end"]
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, 13))
    for e in steps:
        assert e["lr"] >= 0 and e["step_time"] > 0 and e["images_per_s"] > 0
        assert 0 <= e["acc"] <= 1
    evals = [e for e in events if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [6, 12]
    last = evals[-1]
    assert set(last["grad_norm"]["blocks"]) == {"stem", "layer1.0", "layer2.0", "head"}
    assert set(last["grad_norm"]["stages"]) == {"stem", "layer1", "layer2", "head"}
    assert all(v > 0 for v in last["grad_norm"]["blocks"].values())
    assert 0 < last["update_ratio"]["total"] < 1
    assert set(last["activations"]) == {"layer1", "layer2"}
    assert last["activations"]["layer1"]["std"] > 0
    assert 0 <= last["held_out_acc"] <= 1 and last["held_out_size"] == 32
    json.dumps(events, allow_nan=False)  # JSON-able as they are


def test_warmup_then_cosine():
    cfg = ProbeConfig(lr=0.2, warmup=0.1)
    assert lr_at(cfg, 0.0) == 0.0
    assert lr_at(cfg, 0.05) == pytest.approx(0.1)
    assert lr_at(cfg, 0.1) == pytest.approx(0.2)
    assert lr_at(cfg, 0.55) == pytest.approx(0.1)
    assert lr_at(cfg, 1.0) == pytest.approx(0.0)


def test_divergence_stops_that_design_and_the_others_go_on(data):
    cfg = config(lr=1000.0, warmup=0.0, steps=20, log_every=5)
    result = run_probe(
        [("no-norm", TINY.replace(norm="none")), ("batch-norm", TINY)], cfg, data=data
    )
    bad, good = result.run("no-norm"), result.run("batch-norm")
    assert bad.status == "diverged"
    assert bad.diverged_at is not None and bad.diverged_at == bad.steps <= 20
    assert bad.losses()[-1] is None and all(x is not None for x in bad.losses()[:-1])
    assert "step" in bad.reason
    assert good.status == "done" and good.steps == 20
    assert result.status == "done"


def test_out_of_memory_is_reported_and_the_others_go_on(data, monkeypatch):
    import resnet_explorer.builder as builder

    real = builder.build_model

    def fake_build(design, **kw):
        model = real(design, **kw)
        if design.stem_width == 3:

            def boom(*_a, **_k):
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

            model.forward = boom
        return model

    monkeypatch.setattr(builder, "build_model", fake_build)
    result = run_probe([("big", TINY.replace(stem_width=3)), ("small", TINY)], config(), data=data)
    assert result.run("big").status == "oom"
    assert "out of memory" in result.run("big").error
    assert result.run("small").status == "done"


def test_time_budget_stops_cleanly(data):
    result = run_probe([("t", TINY)], config(steps=None, seconds=0.3), data=data)
    run = result.run("t")
    assert run.status == "done" and "time budget" in run.reason
    assert run.steps >= 1 and len(run.losses()) == run.steps
    assert 0.3 <= run.train_seconds < 3.0
    assert run.evals and run.evals[-1]["step"] == run.steps  # the final evaluation ran


def test_cancel_at_any_step(data):
    stop = threading.Event()

    def on_event(event):
        if event["event"] == "step" and event["step"] == 4:
            stop.set()

    result = run_probe(
        [("a", TINY), ("b", TINY)], config(log_every=1), data=data, on_event=on_event, cancel=stop
    )
    assert result.run("a").status == "cancelled" and result.run("a").steps == 4
    assert result.run("b").status == "cancelled" and result.run("b").steps == 0
    assert result.status == "cancelled"


def test_threads_are_restored(data):
    before = torch.get_num_threads()
    run_probe([("t", TINY)], config(steps=2, threads=2), data=data)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"steps": None, "seconds": None}, "budget"),
        ({"steps": 0}, "steps=0"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"lr": float("nan")}, "lr="),
        ({"batch_size": 0}, "batch_size"),
        ({"precision": "fp8"}, "precision"),
    ],
)
def test_bad_config_is_a_clear_error(kw, message):
    with pytest.raises(ProbeError, match=message):
        ProbeConfig(**kw)


#: The keys of the config stored with every run (SQLite): the same names, in this order.
STORED_KEYS = [
    "steps", "seconds", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "warmup",
    "label_smoothing", "seed", "seeds", "dataset", "augment", "image_size", "log_every",
    "eval_every", "eval_size", "final_eval", "diagnostics", "device", "precision",
    "channels_last", "threads",
]  # fmt: skip


def test_a_config_names_every_problem_at_once_and_replace_validates():
    with pytest.raises(ProbeError) as info:
        ProbeConfig(steps=None, seconds=None, lr=-1, seed=True, final_eval="yes", stepz=1)
    text = str(info.value)
    assert text.startswith("invalid probe config: ")
    for part in (
        "lr=-1: must be a finite number >= 0",
        "seed=True: must be a whole number",
        "final_eval",
        "stepz: unknown field",
        "give a budget: steps or seconds",
    ):
        assert part in text, text
    cfg = ProbeConfig(lr=1)
    assert list(cfg.to_dict()) == STORED_KEYS
    assert cfg.to_dict()["lr"] == 1 and isinstance(cfg.to_dict()["lr"], int)  # kept as given
    assert ProbeConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.replace(steps=5).steps == 5 and cfg.steps == 200
    with pytest.raises(ProbeError, match="steps=0"):
        cfg.replace(steps=0)
    with pytest.raises(ProbeError, match="lr=True"):
        ProbeConfig(lr=True)


def test_bad_input_is_refused_before_training(data):
    with pytest.raises(ProbeError, match="at least one design"):
        run_probe([], config(), data=data)
    with pytest.raises(ProbeError, match="Designs"):
        run_probe(["resnet20"], config(), data=data)
    with pytest.raises(ProbeError, match="unknown probe setting"):
        ProbeConfig.from_dict({"stepz": 3})
    huge = TINY.replace(stages=[{"blocks": 1, "width": 4096}] * 4)
    with pytest.raises(DesignError, match="huge"):
        run_probe([("huge", huge)], config(), data=data)


def test_adamw_and_label_smoothing_train(data):
    result = run_probe(
        [("t", TINY)], config(optimizer="adamw", lr=0.01, label_smoothing=0.1), data=data
    )
    losses = result.run("t").losses()
    assert result.run("t").status == "done" and losses[-1] < losses[0]


@pytest.mark.parametrize("name", experiments.names())
def test_every_experiment_runs_end_to_end_on_synthetic_data(name):
    exp = experiments.get(name)
    assert exp.look_for.count(".") >= 2 and len(exp.designs) >= 2
    cfg = exp.probe_config(
        dataset="synthetic", image_size=8, steps=2, batch_size=8, eval_every=0, threads=1
    )
    result = run_probe(exp.designs, cfg)
    assert [r.label for r in result.runs] == [label for label, _ in exp.designs]
    assert all(r.status == "done" and r.steps == 2 and r.evals for r in result.runs)


def test_unknown_experiment():
    with pytest.raises(ProbeError, match="degradation"):
        experiments.get("nope")


def test_gradient_flow_at_init_plain_vs_residual():
    from resnet_explorer import presets

    plain = gradient_flow_at_init(presets.get("plain20").replace(image_size=8), batch_size=4)
    residual = gradient_flow_at_init(presets.get("resnet20").replace(image_size=8), batch_size=4)
    assert [b["name"] for b in plain["blocks"]][:2] == ["layer1.0", "layer1.1"]
    assert len(plain["blocks"]) == 9 and plain["depth"] == 20
    for flow in (plain, residual):
        assert all(b["grad_norm"] > 0 for b in flow["blocks"])
    # The identity path keeps the per-block gradients within a narrower band.
    spread = [
        max(n) / min(n) for n in ([b["grad_norm"] for b in f["blocks"]] for f in (plain, residual))
    ]
    assert spread[1] < spread[0]


def test_the_fast_cpu_settings_and_study_variants_live_in_the_engine():
    from resnet_explorer.probes.config import FAST_CPU, STUDY_TRAINING

    assert experiments.get("zero_init").config == dict(FAST_CPU)
    study = ProbeConfig.study(steps=7)
    assert study.steps == 7 and study.eval_every == 0 and study.image_size == FAST_CPU["image_size"]
    assert ProbeConfig.study().steps == STUDY_TRAINING["steps"]
    timed = ProbeConfig.study(seconds=3.0)
    assert timed.steps is None and timed.seconds == 3.0
    labels = [label for label, _ in experiments.trio(32)]
    assert labels == ["plain32", "resnet32", "preact32"]
    plain, residual = (d for _, d in experiments.study_pair(56))
    assert plain.shortcut == "none" and residual.shortcut == "A" and plain.depth == 56


def test_the_memory_estimate_adds_data_activations_and_optimizer_state(monkeypatch):
    from resnet_explorer.analysis.analytic import totals
    from resnet_explorer.probes import budget

    design = TINY
    small = budget.estimate([design], dataset="synthetic", batch_size=16)
    assert 0 < small.total < small.limit and small.device == "cpu"
    params = totals(design).params
    assert small.model == params * 4 * 4  # weights, gradients, momentum, the diagnostics' copy
    adamw = budget.estimate([design], dataset="synthetic", batch_size=16, optimizer="adamw")
    assert adamw.model == params * 4 * 5
    big_batch = budget.estimate([design], dataset="synthetic", batch_size=64)
    assert big_batch.activations == pytest.approx(4 * small.activations, rel=0.05)
    wide = budget.estimate([design.replace(image_size=32)], dataset="mnist", batch_size=16)
    assert wide.data > 5000 * 3 * 32 * 32  # the digits and their copy resized to 32 px, 3 channels
    monkeypatch.setenv("RESNET_EXPLORER_PROBE_MEMORY_MB", "1")
    with pytest.raises(ProbeError, match="the limit is 1 MiB"):
        budget.check([design.replace(image_size=32)], dataset="mnist", batch_size=16)
    monkeypatch.setenv("RESNET_EXPLORER_PROBE_MEMORY_MB", "lots")
    with pytest.raises(ProbeError, match="RESNET_EXPLORER_PROBE_MEMORY_MB='lots'"):
        budget.limit_bytes()
