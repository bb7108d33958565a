"""Design-space exploration engine: space, sampling, counts, results, CLI."""

from __future__ import annotations

import itertools
import json

import pytest

from resnet_explorer.analysis.analytic import totals
from resnet_explorer.cli import main
from resnet_explorer.design import ACTIVATION_ORDERS, NORMALIZATIONS, Design
from resnet_explorer.explore import (
    EvalOptions,
    LocalBackend,
    Space,
    SpaceError,
    edf,
    edfs,
    explore,
    load_jsonl,
    pareto_front,
    sample_space,
    top_k,
)
from resnet_explorer.explore.results import ResultsError
from resnet_explorer.plan import BlockSpec, block_ops
from resnet_explorer.plan.counts import _rows, block_totals, network_totals
from resnet_explorer.plan.ops import cost, total
from resnet_explorer.regnet import quantized_widths as regnet_widths

EXAMPLE = "examples/space_cifar.json"

WIDE = {
    "base": "resnet20",
    "knobs": {
        "block": {"choices": ["basic", "bottleneck"]},
        "expansion": {"choices": [1, 2, 4]},
        "groups": {"choices": [1, 2, 4]},
        "width_per_group": {"choices": [16, 64]},
        "shortcut": {"choices": ["A", "B", "C", "D", "none"]},
        "activation_order": {"choices": list(ACTIVATION_ORDERS)},
        "norm": {"choices": list(NORMALIZATIONS)},
        "stem": {"choices": ["cifar", "deep", "deep_tiered", "imagenet"]},
        "stride_on": {"choices": ["3x3", "1x1"]},
        "width_factor": {"choices": [1.0, 1.5]},
    },
    "body": {
        "num_stages": {"low": 1, "high": 4},
        "depths": {"low": 1, "high": 4},
        "widths": {"low": 8, "high": 96, "log": True, "step": 8},
    },
}


def test_example_space_parses_and_round_trips():
    space = Space.load(EXAMPLE)
    again = Space.from_dict(json.loads(space.to_json()))
    assert again == space
    assert "block" in space.knobs and space.constraints["params"].max == 2_000_000


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"knobs": {"stages": 3}}, "knobs.stages"),
        ({"knobs": {"stem": {"choices": ["x"]}}}, "knobs.stem"),
        ({"knobs": {"groups": {"low": 4, "high": 1}}}, "knobs.groups"),
        ({"knobs": {"block": ["basic"]}}, "choices"),
        ({"body": {"depths": 2}}, "body.widths"),
        ({"body": {"depths": 2, "widths": 8}}, "body.num_stages"),
        ({"body": {"type": "regnet", "depth": 10, "w0": 8, "wa": 8}}, "wm"),
        ({"constraints": {"latency": {"max": 1}}}, "constraints.latency"),
        ({"constraints": {"macs": {"min": 5, "max": 1}}}, "constraints.macs"),
        ({"base": "resnet9000"}, "base"),
        ({"oops": 1}, "unknown key"),
    ],
)
def test_invalid_spaces_name_the_key(data, needle):
    with pytest.raises(SpaceError, match=needle.replace(".", r"\.")):
        Space.from_dict(data)


def test_deeply_nested_space_json_is_a_space_error():
    with pytest.raises(SpaceError, match="malformed"):
        Space.from_json('{"knobs": ' + "[" * 5000 + "]" * 5000 + "}")


def test_deeply_nested_results_line_is_a_results_error(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text("[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ResultsError, match="line 1: not JSON"):
        load_jsonl(path)


def test_sampling_is_seeded_counted_and_within_budget():
    space = Space.load(EXAMPLE)
    a = sample_space(space, 300, seed=3)
    b = sample_space(space, 300, seed=3)
    c = sample_space(space, 300, seed=4)
    assert [s.hash for s in a.samples] == [s.hash for s in b.samples]
    assert [s.hash for s in a.samples] != [s.hash for s in c.samples]
    assert len(a.samples) == 300
    assert a.draws == 300 + sum(a.rejected.values())
    assert any(r.startswith("invalid: shortcut='A'") for r in a.rejected)
    assert set(a.examples) == set(a.rejected)
    # the messages a person reads: counts with separators, never 4.11816e+06
    said = " ".join(a.examples.values())
    assert "e+0" not in said and "over the max 2,000,000" in said, said
    for s in a.samples:
        t = totals(s.design)
        assert s.metrics["params"] == t.params <= 2_000_000
        assert 10_000_000 <= s.metrics["macs"] == t.macs <= 300_000_000
        assert s.knobs["depth"] == s.design.depth
        if s.design.block == "basic":
            assert s.knobs["groups"] is None and s.design.groups == 1


def test_prefix_stable_and_exhaustion():
    space = Space.load(EXAMPLE)
    short, long = sample_space(space, 50, seed=1), sample_space(space, 120, seed=1)
    assert [s.hash for s in short.samples] == [s.hash for s in long.samples[:50]]
    tight = Space.from_dict(
        {**WIDE, "constraints": {"params": {"max": 10}}, "max_draws_per_sample": 20}
    )
    report = sample_space(tight, 5)
    assert report.exhausted and not report.samples and report.draws == 20


def test_fast_totals_equal_analytic_totals_over_a_wide_space():
    space = Space.from_dict(WIDE)
    report = sample_space(space, 600, seed=7)
    assert len(report.samples) == 600
    for s in report.samples:
        assert network_totals(Design.unvalidated(s.design.to_dict())) == totals(s.design)


def test_cached_block_totals_equal_the_sum_over_the_block_ops_exhaustively():
    """The explorer's fast path (totals per distinct block, cached) is the op table summed."""
    shortcuts = ["identity", "zero_pad", "projection", "avgpool_projection", "none"]
    for order, norm, kind, so, sc, stride in itertools.product(
        ACTIVATION_ORDERS,
        NORMALIZATIONS,
        ["basic", "bottleneck"],
        ["3x3", "1x1"],
        shortcuts,
        [1, 2],
    ):
        out = 8 if stride == 2 else 15
        spec = BlockSpec(kind, 24, 16, 48, 2, stride, 15, out, sc, order, norm, "relu", so, True)
        counts = block_totals(spec)
        assert counts == total(block_ops(spec))
        per_op = [cost(op) for op in block_ops(spec)]
        for field in ("params", "macs", "fvcore", "activations", "outputs", "bias_adds"):
            assert getattr(counts, field) == sum(getattr(c, field) for c in per_op)
        rows = _rows("x.", 0, block_ops(spec), "x", "x")
        assert sum(r.params for r in rows) == counts.params


def test_regnet_body():
    stages = regnet_widths(13, 24, 36.0, 2.5, 8)
    assert sum(d for d, _ in stages) == 13
    widths = [w for _, w in stages]
    assert widths == sorted(widths) and all(w % 8 == 0 for w in widths)
    space = Space.from_dict(
        {
            "base": "resnet18_cifar",
            "body": {
                "type": "regnet",
                "depth": {"low": 6, "high": 16},
                "w0": {"low": 16, "high": 64, "step": 8},
                "wa": {"low": 8.0, "high": 48.0},
                "wm": {"low": 1.5, "high": 3.0},
                "num_stages": {"choices": [3, 4]},
            },
        }
    )
    report = sample_space(space, 40)
    assert len(report.samples) == 40
    for s in report.samples:
        assert len(s.design.stages) in (3, 4) and s.knobs["num_stages"] == len(s.design.stages)


def test_results_analysis():
    rows = [
        {"index": i, "macs": m, "error": e, "block": b}
        for i, (m, e, b) in enumerate(
            [(1, 0.5, "a"), (2, 0.4, "a"), (3, 0.45, "b"), (4, 0.1, "b"), (2, 0.6, "b")]
        )
    ]
    assert [r["index"] for r in pareto_front(rows, "macs", "error")] == [0, 1, 3]
    xs, fs = edf([0.3, 0.1, 0.2, None])
    assert xs == [0.1, 0.2, 0.3] and fs == pytest.approx([1 / 3, 2 / 3, 1.0])
    groups = edfs(rows, "error", "block")
    assert set(groups) == {"a", "b"} and groups["b"][0] == [0.1, 0.45, 0.6]
    assert [r["index"] for r in top_k(rows, "error", 2)] == [3, 1]
    binned = edfs([{"v": i, "m": i} for i in range(100)], "m", "v", max_groups=4)
    assert len(binned) == 4 and sum(len(x) for x, _ in binned.values()) == 100


def test_explore_writes_jsonl_and_measures_inline(tmp_path):
    space = Space.load(EXAMPLE)
    out = tmp_path / "r.jsonl"
    options = EvalOptions(
        probe_steps=2, probe={"dataset": "synthetic", "batch_size": 8, "eval_size": 32}
    )
    run = explore(space, 3, options=options, backend=LocalBackend(0), out=str(out))
    assert run.state == "done"
    res = load_jsonl(out)
    assert res.header["samples"] == 3 and res.summary["status"] == "done"
    assert len(res.records) == 3
    for row in res.rows():
        assert row["status"] == "ok", row
        assert 0 <= row["error"] <= 1 and row["probe_status"] == "done"


def test_cli_explore(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert main(["explore", EXAMPLE, "--samples", "25", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "resnet-explorer/explore/v1" and doc["counts"] == {"ok": 25}
    assert len(load_jsonl(out).records) == 25
    assert main(["explore", str(tmp_path / "missing.json"), "--samples", "3"]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"knobs": {"shortcut": {"choices": ["Z"]}}}')
    assert main(["explore", str(bad), "--samples", "3"]) == 2
    assert "knobs.shortcut" in capsys.readouterr().err
    assert main(["explore", EXAMPLE, "--samples", "0"]) == 2
