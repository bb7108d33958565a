"""Several seeds: intervals, bands, paired verdicts, the papers' claims, the new experiments."""

from __future__ import annotations

import json

import pytest
from test_probes import TINY

from resnet_explorer.cli import main
from resnet_explorer.probes import ProbeConfig, ProbeError, experiments, run_probe, stats
from resnet_explorer.probes.claims import Claim, finding


def cfg(**kw) -> ProbeConfig:
    base = {"steps": 6, "batch_size": 16, "threads": 1, "eval_every": 0, "log_every": 3}
    return ProbeConfig(**{**base, **kw})


def test_each_seed_of_a_multi_seed_probe_is_the_single_seed_probe(data):
    three = run_probe(
        [("a", TINY), ("b", TINY.replace(stem_width=3))], cfg(seeds=3, seed=5), data=data
    )
    assert [(r.label, r.seed) for r in three.runs] == [
        ("a", 5),
        ("b", 5),
        ("a", 6),
        ("b", 6),
        ("a", 7),
        ("b", 7),
    ]  # seed after seed
    alone = run_probe([("a", TINY)], cfg(seed=6), data=data)
    assert three.run("a", seed=6).losses() == alone.run("a").losses()
    assert three.run("a", seed=5).losses() != three.run("a", seed=6).losses()
    assert three.run("a · seed 7").seed == 7
    summary = three.summaries()[2]
    assert summary["seed"] == 6 and summary["early_train_loss"] is not None
    statistics = three.statistics()
    assert statistics["designs"]["a"]["seeds"] == [5, 6, 7]
    loss = statistics["designs"]["a"]["final_train_loss"]
    assert loss["n"] == 3 and loss["lo"] <= loss["mean"] <= loss["hi"]
    assert "bootstrap 95 % interval over 3 seeds" in loss["method"]
    (v,) = [v for v in statistics["verdicts"] if v["metric"] == "final_train_loss"]
    assert v["a"] == "a" and v["b"] == "b" and v["n"] == 3


def test_intervals_say_what_they_are():
    assert stats.interval([]) is None
    one = stats.interval([0.5])
    assert (one.lo, one.hi, one.method) == (0.5, 0.5, "one seed: no interval")
    two = stats.interval([0.4, 0.6])
    assert (two.lo, two.hi) == (0.4, 0.6) and two.method == "min–max of 2 seeds"
    three = stats.interval([0.1, 0.2, 0.3, float("nan"), None])
    assert three.n == 3 and 0.1 <= three.lo < three.mean < three.hi <= 0.3
    assert stats.interval([0.1, 0.2, 0.3]) == three  # a fixed resampling seed
    band = stats.band([[1.0, 2.0], [3.0, 4.0, 5.0]])
    assert band["mean"] == [2.0, 3.0, 5.0] and band["n"] == [2, 2, 1]
    assert band["lo"][:2] == [1.0, 2.0] and band["hi"][2] is None
    assert stats.band_method(2) == "mean of 2 seeds, band: min–max"


def test_paired_verdicts_in_words():
    v = stats.compare("plain56", "plain20", {0: 1.4, 1: 2.1, 2: 1.6}, {0: 0.15, 1: 0.15, 2: 0.16})
    assert v.distinguishable and v.better == 0
    assert v.text.startswith("plain20 ends lower than plain56 in 3 of 3 seeds (final train loss)")
    assert "difference -" in v.text
    tie = stats.compare("r56", "r20", {0: 0.08, 1: 0.07, 2: 0.09}, {0: 0.085, 1: 0.075, 2: 0.08})
    assert not tie.distinguishable and "not distinguishable at this budget" in tie.text
    few = stats.compare("a", "b", {0: 1.0}, {0: 2.0})
    assert not few.distinguishable and "too few seeds" in few.text
    acc = stats.compare(
        "a", "b", {0: 0.9, 1: 0.92}, {0: 0.8, 1: 0.85}, metric="held_out_acc", lower_is_better=False
    )
    assert acc.text.startswith("a ends higher than b in 2 of 2 seeds (held out acc)")


def _stats(a: list[float], b: list[float], la="A", lb="B") -> dict:
    rows = [
        {
            "label": label,
            "seed": s,
            "status": "done",
            "steps": 5,
            "final_train_loss": v,
            "held_out_acc": 0.5,
            "early_train_loss": v,
        }
        for label, values in ((la, a), (lb, b))
        for s, v in enumerate(values)
    ]
    return stats.summarize(rows)


def test_claims_say_whether_a_finding_was_reproduced():
    higher = Claim("A", "B", "higher")
    not_higher = Claim("A", "B", "not_higher")
    s = _stats([2.0, 2.1, 2.2], [1.0, 1.1, 1.05])
    assert finding([higher], s)["verdict"] == "reproduced"
    out = finding([higher, not_higher], s)
    assert out["verdict"] == "partly reproduced"
    assert out["sentence"].startswith("Partly reproduced at this budget: A ends with a higher")
    assert "A ended higher in 3 of 3 seeds" in out["sentence"]
    tie = _stats([1.0, 1.2, 1.1], [1.1, 1.0, 1.2])
    assert finding([not_higher], tie)["verdict"] == "reproduced"
    assert "not distinguishable at this budget" in finding([not_higher], tie)["sentence"]
    assert finding([higher], tie)["verdict"] == "not reproduced"
    assert finding([higher], _stats([1.0], [2.0]))["verdict"] == "no verdict"


def test_the_depth_ladder_and_degradation_depths():
    ladder = experiments.get("depth-ladder", depths=(20, 44, 32))
    assert [label for label, _ in ladder.designs] == [
        "plain20",
        "plain32",
        "plain44",
        "resnet20",
        "resnet32",
        "resnet44",
    ]
    assert {c.a for c in ladder.claims} == {"plain44", "resnet44"}
    for bad in ((20,), (20, 21), (20, 20)):
        with pytest.raises(ProbeError, match="depths="):
            experiments.get("depth_ladder", depths=bad)
    with pytest.raises(ProbeError, match="--depths"):
        experiments.get("depth_ladder", 56)
    with pytest.raises(ProbeError, match="--depths goes with the depth ladder"):
        experiments.get("degradation", depths=(20, 32))
    deep = experiments.get("degradation", 32)
    assert [label for label, _ in deep.designs] == ["plain20", "plain32", "resnet20", "resnet32"]
    assert deep.designs[1][1].depth == 32
    with pytest.raises(ProbeError, match="compares 20 layers with a deeper net"):
        experiments.get("degradation", 20)


def test_basic_vs_bottleneck_at_equal_depth_and_matched_macs():
    from resnet_explorer.analysis.analytic import totals

    exp = experiments.get("basic_vs_bottleneck")
    (_, basic), (_, bottleneck) = exp.designs
    assert basic.depth == bottleneck.depth == 20
    assert basic.block == "basic" and bottleneck.block == "bottleneck"
    a, b = totals(basic).macs, totals(bottleneck).macs
    assert abs(a - b) / a < 0.05 and "M MACs" in exp.notes
    assert experiments.get("basic_vs_bottleneck", 56).designs[1][1].depth == 56
    with pytest.raises(ProbeError, match="share the depths"):
        experiments.get("basic_vs_bottleneck", 32)


def test_experiments_suggest_three_seeds_on_the_cpu(capsys):
    import torch

    assert experiments.default_seeds() == (5 if torch.cuda.is_available() else 3)
    exp = experiments.get("zero_init")
    assert exp.probe_config().seeds == 1  # the engine's default; the page and CLI ask for more
    assert exp.probe_config(seeds=experiments.default_seeds()).seeds == experiments.default_seeds()
    assert main(["probe", *ZERO_INIT_20, "--steps", "1", *FAST, "--image-size", "8", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["seeds"] == experiments.default_seeds()
    with pytest.raises(ProbeError, match="seeds=0"):
        ProbeConfig(seeds=0)
    with pytest.raises(ProbeError, match="the last seed is over"):
        ProbeConfig(seed=2**32 - 2, seeds=3)


FAST = ["--dataset", "synthetic", "--batch-size", "8", "--threads", "1", "--eval-every", "0"]
ZERO_INIT_20 = ["--experiment", "zero_init", "--depth", "20"]


def test_every_cli_probe_runs_the_default_seeds_unless_told(capsys, tiny_file):
    code = main(["probe", tiny_file, "resnet20", "--steps", "2", "--image-size", "8", *FAST])
    out = capsys.readouterr().out
    n = experiments.default_seeds()
    assert code == 0 and f"across {n} seeds" in out
    verdicts = out.split("verdicts (final training loss):")[1].splitlines()[1]
    assert "tiny" in verdicts and "resnet20" in verdicts
    assert "not distinguishable at this budget" in verdicts or f"of {n} seeds" in verdicts
    code = main(["probe", tiny_file, "--steps", "1", "--seeds", "1", *FAST, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and [(d["label"], d["seed"]) for d in doc["designs"]] == [("tiny", 0)]


def test_cli_seeds_statistics_and_finding(capsys, tiny_file):
    code = main(
        [
            "probe",
            tiny_file,
            "resnet20",
            "--steps",
            "3",
            "--seeds",
            "2",
            "--image-size",
            "8",
            *FAST,
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["config"]["seeds"] == 2
    assert [(d["label"], d["seed"]) for d in doc["designs"]] == [
        ("tiny", 0),
        ("resnet20", 0),
        ("tiny", 1),
        ("resnet20", 1),
    ]
    assert (
        doc["statistics"]["designs"]["tiny"]["final_train_loss"]["method"] == "min–max of 2 seeds"
    )
    assert "finding" not in doc
    code = main(
        ["probe", *ZERO_INIT_20, "--steps", "2", "--seeds", "2", "--image-size", "8", *FAST]
    )
    out = capsys.readouterr().out
    assert code == 0 and "across 2 seeds" in out and "verdicts (final training loss)" in out
    assert "early training loss" in out  # the finding names the claim it checked
    code = main(
        [
            "probe",
            "--experiment",
            "depth-ladder",
            "--depths",
            "20,32",
            "--steps",
            "1",
            "--seeds",
            "1",
            "--image-size",
            "8",
            *FAST,
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["finding"]["verdict"] == "no verdict"
    assert [d["label"] for d in doc["designs"]] == ["plain20", "plain32", "resnet20", "resnet32"]
    ladder = ["--experiment", "depth-ladder", "--depths", "32,20", "--steps", "1", *FAST]
    assert main(["probe", *ladder, "--seeds", "2", "--image-size", "8"]) == 0
    out = capsys.readouterr().out
    table = out.split("depth ladder, final training loss, mean [interval]:")[1].splitlines()
    assert table[1].split() == ["depth", "plain", "residual", "(option", "A)"]
    assert [row.split()[0] for row in table[2:4]] == ["20", "32"] and "[" in table[2]
    assert "finding was reproduced" in out or "at this budget" in out


def test_the_depth_ladder_chart_draws_loss_against_depth_with_intervals():
    from resnet_explorer.ui import probe_charts

    rows = [
        {"label": f"{kind}{depth}", "seed": seed, "status": "done", "steps": 5,
         "final_train_loss": depth / 100 * (2 if kind == "plain" else 1) + seed / 1000}
        for kind in ("plain", "resnet") for depth in (56, 20, 32) for seed in range(3)
    ]  # fmt: skip
    statistics = stats.summarize(rows)
    points = experiments.ladder(statistics)
    assert [d for d, _ in points["plain"]] == [20, 32, 56]
    fig = probe_charts.depth_ladder(statistics)
    plain, resnet = fig.data
    assert list(plain.x) == [20, 32, 56] and plain.name == "plain"
    assert resnet.name == "residual (option A)"
    assert plain.y[2] == pytest.approx(1.121) and all(v >= 0 for v in plain.error_y.array)
    assert "bootstrap 95 % interval over 3 seeds" in fig.layout.yaxis.title.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experiment", "degradation", "--depth", "20"], "compares 20 layers"),
        (["--experiment", "depth_ladder", "--depths", "20,x"], "--depths '20,x'"),
        (["--experiment", "depth_ladder", "--depth", "56"], "not --depth"),
        (["resnet20", "--depths", "20,32"], "--depth and --depths go with --experiment"),
        (["resnet20", "--seeds", "0"], "seeds=0"),
    ],
)
def test_cli_experiment_settings_are_honoured_or_refused(capsys, args, message):
    code = main(["probe", *args, "--steps", "1", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_explore_probe_evaluation_averages_its_seeds_with_an_interval():
    from resnet_explorer import presets
    from resnet_explorer.explore.evaluate import EvalOptions, run_probe_on

    design = presets.get("resnet20").replace(image_size=8)
    settings = {"dataset": "synthetic", "image_size": 8, "batch_size": 8, "threads": 1}
    one = run_probe_on(design, EvalOptions(probe_steps=2, probe=settings))
    three = run_probe_on(design, EvalOptions(probe_steps=2, probe={**settings, "seeds": 3}))
    assert "error_lo" not in one and three["probe_seeds"] == 3
    assert three["error_lo"] <= three["error"] <= three["error_hi"]


def test_explore_cli_trains_each_sample_with_its_seeds(capsys, tmp_path):
    out = tmp_path / "results.jsonl"
    args = ["explore", "examples/space_cifar.json", "--samples", "1", "--probe-steps", "1"]
    fast = ["--dataset", "synthetic", "--image-size", "32", "--batch-size", "4", "--workers", "0"]
    code = main([*args, *fast, "--probe-seeds", "2", "--out", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    (top,) = doc["top"]
    assert code == 0 and top["error_lo"] <= top["error"] <= top["error_hi"]
    header = json.loads(out.read_text().splitlines()[0])
    assert header["options"]["probe"]["seeds"] == 2
    assert main([*args[:3], "1", "--probe-seeds", "2"]) == 2
    assert "go with --probe-steps" in capsys.readouterr().err


def test_seeds_budget_and_data_order_reach_the_run_history_and_the_report(tmp_path, data):
    from resnet_explorer.probes.persist import StoreWriter
    from resnet_explorer.report import Candidate, build_report
    from resnet_explorer.store import Store

    store = Store(tmp_path / "lib.sqlite3")
    writer = StoreWriter(store, flush_seconds=0.0)
    run_probe([("tiny", TINY)], cfg(seeds=2, seed=3), data=data, on_event=writer.event)
    runs = sorted(store.runs(), key=lambda r: r.config["seed"])
    assert [(r.config["seed"], r.config["seeds"], r.config["steps"]) for r in runs] == [
        (3, 2, 6),
        (4, 2, 6),
    ]
    assert "seeded by the run's seed" in runs[0].config["data_order"]
    assert set(writer.run_ids) == {("local", "tiny · seed 3"), ("local", "tiny · seed 4")}
    html = build_report([Candidate("tiny", runs[0].design)], store=store, memory_batch=None)
    assert "3 (one of 2)" in html and "6 steps" in html and "seeded by the run" in html


def test_curves_show_the_mean_over_seeds_and_a_labelled_band(data):
    from resnet_explorer.ui import probe_charts

    for seeds, method in ((3, "bootstrap 95 % interval"), (2, "min–max")):
        events: list = []
        run_probe([("a", TINY)], cfg(seeds=seeds, log_every=1), data=data, on_event=events.append)
        fig = probe_charts.training_curves(events)
        (mean,) = [t for t in fig.data if t.name and t.name.endswith(" train") and t.xaxis == "x"]
        assert mean.name == f"a (mean of {seeds} seeds, band: {method}) train"
        (band,) = [t for t in fig.data if t.fill == "tonexty" and t.xaxis == "x"]
        upper = fig.data[list(fig.data).index(band) - 1]
        assert len(mean.y) == 6 and all(
            lo <= m <= hi for lo, m, hi in zip(band.y, mean.y, upper.y, strict=True)
        )


def test_cli_degradation_honours_depth(capsys):
    args = ["--experiment", "degradation", "--depth", "32", "--steps", "1", "--seeds", "1"]
    code = main(["probe", *args, *FAST, "--image-size", "8", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(d["label"], d["depth"]) for d in doc["designs"]] == [
        ("plain20", 20),
        ("plain32", 32),
        ("resnet20", 20),
        ("resnet32", 32),
    ]
    assert [c["claim"] for c in doc["finding"]["claims"]] == [
        "plain32 ends with a higher training loss than plain20",
        "resnet32 does not end with a higher training loss than resnet20",
    ]
