"""The GPU check's machinery, run on the CPU so that it cannot rot where CI has no GPU.

Covers what `scripts/gpu-check.sh` relies on that does not need CUDA: the latency path with
``torch.compile`` (backend ``eager`` here, inductor on a GPU), the peak table, the benchmark's
measurement functions on a CPU device with tiny sizes, the time guard and the report writer.
"""

from __future__ import annotations

import functools
import json
import time

import pytest
import torch

from resnet_explorer import presets
from resnet_explorer.analysis import LatencyOptions, latency

TINY = presets.get("resnet20").replace(image_size=16)


@pytest.fixture
def eager_compile(monkeypatch):
    """``torch.compile`` with the eager backend: dynamo traces, nothing is code-generated."""
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))


def test_compiled_latency_times_the_compilation_apart_from_the_budget(eager_compile):
    options = LatencyOptions(
        batch_sizes=(2,), compile=True, budget_s=1.0, min_run_time_s=0.05, num_threads=1
    )
    report = latency(TINY, options)
    assert report.compiled and report.compile_s is not None and report.compile_s > 0
    # the compilation may take longer than the budget; the rows are measured all the same
    assert [(r.mode, r.status) for r in report.rows] == [("inference", "ok"), ("training", "ok")]
    assert not report.cut_short


def test_job_queues_are_keyed_by_physical_device():
    from resnet_explorer.probes.jobs import queue_key

    assert queue_key("cpu") == queue_key(torch.device("cpu")) == "cpu"
    assert queue_key("cuda:1") == "cuda:1"  # an explicit index needs no GPU to name its queue
    if torch.cuda.is_available():
        assert queue_key("cuda") == f"cuda:{torch.cuda.current_device()}"


def test_peak_table_has_bandwidth_and_the_gpus_the_check_quotes():
    from resnet_explorer.analysis.devices import gpu_peak

    h200, h100 = gpu_peak("NVIDIA H200"), gpu_peak("NVIDIA H100 80GB HBM3")
    assert (h200.bf16, h200.bandwidth_gbs) == (989.5, 4800.0)  # same compute as H100 SXM
    assert (h100.bf16, h100.bandwidth_gbs) == (989.5, 3350.0)
    assert gpu_peak("NVIDIA GeForce RTX 4090").bf16 == 165.2  # FP32 accumulate, dense
    assert gpu_peak("NVIDIA L4").bandwidth_gbs == 300.0
    a100 = {n: gpu_peak(n).bandwidth_gbs for n in ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB "
            "PCIe", "NVIDIA A100-SXM4-40GB")}  # fmt: skip
    assert list(a100.values()) == [2039.0, 1935.0, 1555.0]


# --- the benchmark's measurement functions, on the CPU ------------------------------------------


def test_bench_cpu_smoke_runs_every_part_and_records_each_figure(tmp_path, capsys):
    from benchmarks import bench_gpu

    assert bench_gpu.main(["--cpu-smoke", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "bench.json").read_text())
    lines = capsys.readouterr().out.splitlines()
    parts = bench_gpu.plan(bench_gpu.TINY, "fp32")
    titles = [t for p in parts for t in p.titles]
    assert [f["title"] for f in doc["figures"]] == titles  # every part, in order
    assert all(f["status"] == "ok" for f in doc["figures"]), doc["figures"]
    by = {f["name"]: f for f in doc["figures"]}
    assert doc["peaks"]["measured"]["fp32_tflops"] > 0 and doc["peaks"]["measured"]["copy_gbs"] > 0
    infer = by["resnet50_inference_b1_eager"]
    assert infer["images_per_s"] == pytest.approx(1e3 / infer["median_ms"])
    # the CPU is not in the peak table: % of peak is against the measured GEMM, and says so
    assert infer["percent_of_peak"] > 0 and infer["peak_basis"].startswith("measured FP32 GEMM")
    assert infer["anchor"]["value"] == 4217.6 and infer["weights_gbs"] > 0
    train = by["resnet50_training_b8"]
    assert train["goal"] == {"text": ">= 3,000 img/s on an H100-class GPU", "met": None}
    epoch = by["cifar_resnet20_epoch"]
    assert epoch["epoch_s"] == pytest.approx(epoch["images"] / epoch["images_per_s"])
    assert epoch["steps"] == 256 // 32 and by["cifar_resnet20_epoch_cudnn_benchmark"]["epoch_s"] > 0
    fidelity = by["latency_fidelity_b4"]
    assert fidelity["ours_ms"] > 0 and fidelity["hand_ms"] > 0
    assert "host clock" in fidelity["reference"]
    for fig in doc["figures"]:  # each figure is printed on one line, beside its anchor
        assert fig["line"] in lines
        assert ("anchor:" in fig["line"]) == ("anchor" in fig)


def test_bench_without_cuda_prints_one_skipped_line_per_figure(tmp_path, capsys, monkeypatch):
    from benchmarks import bench_gpu

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench_gpu.main(["--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    titles = [t for p in bench_gpu.plan(bench_gpu.FULL, "bf16 channels_last") for t in p.titles]
    assert lines == [f"{t}: skipped: no CUDA device" for t in titles]
    assert "ResNet-50 inference, batch 256, bf16 channels_last, compiled" in titles
    doc = json.loads((tmp_path / "bench.json").read_text())
    assert {f["status"] for f in doc["figures"]} == {"skipped"}


def test_a_failing_part_is_recorded_and_the_others_still_run(tmp_path, capsys):
    from benchmarks import bench_gpu
    from benchmarks.gpu_report import TimeGuard

    def boom(ctx):
        raise RuntimeError("CUDA error: an illegal memory access was encountered\nmore")

    parts = [bench_gpu.Part("bad", ("Bad part",), 1, boom),
             bench_gpu.Part("good", ("Good part",), 1,
                            lambda ctx: [bench_gpu.figure("good", "Good part", "ok", line="ok!")])]
    doc = {"figures": []}
    ctx = bench_gpu.Context("cpu", bench_gpu.TINY)
    assert bench_gpu.run_parts(parts, ctx, TimeGuard(60), doc, tmp_path) == 1
    assert [f["status"] for f in doc["figures"]] == ["failed", "ok"]
    reason = doc["figures"][0]["reason"]  # the first line only
    assert reason == "RuntimeError: CUDA error: an illegal memory access was encountered"
    assert json.loads((tmp_path / "bench.json").read_text()) == doc


def test_the_time_guard_skips_what_no_longer_fits_and_keeps_what_was_measured(tmp_path):
    from benchmarks import bench_gpu
    from benchmarks.gpu_report import TimeGuard

    ran = []

    def part(name):
        return lambda ctx: ran.append(name) or [bench_gpu.figure(name, name, "ok", line=name)]

    parts = [bench_gpu.Part("cheap", ("cheap",), 5, part("cheap")),
             bench_gpu.Part("dear", ("dear",), 500, part("dear"))]  # fmt: skip
    doc = {"figures": []}
    guard = TimeGuard(60)
    bench_gpu.run_parts(parts, bench_gpu.Context("cpu", bench_gpu.TINY), guard, doc, tmp_path)
    assert ran == ["cheap"]
    skipped = doc["figures"][1]
    assert skipped["status"] == "skipped" and skipped["reason"].startswith("time guard: ")
    assert "needs about 500 s" in skipped["line"]
    assert json.loads((tmp_path / "bench.json").read_text())["figures"][0]["status"] == "ok"


def test_time_guard_reads_the_shared_deadline(monkeypatch):
    from benchmarks.gpu_report import DEADLINE_ENV, TimeGuard

    monkeypatch.setenv(DEADLINE_ENV, str(time.time() + 30))
    guard = TimeGuard.from_env(3600)
    assert 25 < guard.remaining() <= 30 and guard.allows(10) and not guard.allows(60)
    monkeypatch.setenv(DEADLINE_ENV, str(time.time() - 5))
    assert TimeGuard.from_env(3600).remaining() == 0
    monkeypatch.delenv(DEADLINE_ENV)
    assert TimeGuard.from_env(100).remaining() > 99


# --- peaks and the report -----------------------------------------------------------------------


def test_peak_for_uses_the_datasheet_else_the_measured_peak_and_says_which():
    from benchmarks.gpu_report import bandwidth_for, datasheet_peaks, peak_for

    h100 = {"datasheet": datasheet_peaks("NVIDIA H100 80GB HBM3"), "measured": {"bf16_tflops": 700}}
    value, basis = peak_for(h100, "bf16")
    assert value == 989.5 and basis.startswith("datasheet BF16 989.5") and "H100 SXM5" in basis
    assert peak_for(h100, "fp32", tf32=True)[0] == 494.5
    assert peak_for(h100, "fp32")[0] == 67.0
    assert bandwidth_for(h100)[0] == 3350.0
    unknown = {"datasheet": datasheet_peaks("Some Future GPU"), "measured": {"bf16_tflops": 700.0,
               "copy_gbs": 5000.0}}  # fmt: skip
    assert unknown["datasheet"]["known"] is False and "measured" in unknown["datasheet"]["fallback"]
    assert peak_for(unknown, "bf16") == (700.0, "measured BF16 GEMM 700 TFLOP/s (this run)")
    assert bandwidth_for(unknown)[0] == 5000.0
    assert peak_for(unknown, "fp16") == (None, "no fp16 peak known or measured")
    assert datasheet_peaks(None)["fallback"] == "no GPU in this run"
    rtx = datasheet_peaks("NVIDIA GeForce RTX 4090")
    assert (rtx["bf16_tflops"], rtx["bandwidth_gbs"]) == (165.2, 1008.0)


def test_write_json_is_atomic_and_turns_non_finite_numbers_into_null(tmp_path):
    from benchmarks.gpu_report import write_json

    path = write_json(tmp_path / "sub" / "x.json", {"a": float("nan"), "b": (1, float("inf"))})
    assert json.loads(path.read_text()) == {"a": None, "b": [1, None]}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]  # no temporary left


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_gpu_x" name="test_ok" time="1.5"/>
<testcase classname="tests.test_gpu_x" name="test_bad[bf16]" time="2.0">
  <failure message="AssertionError: 0.2 &gt; 0.05 | worst">trace</failure></testcase>
<testcase classname="tests.test_gpu_x" name="test_late" time="0.0">
  <skipped type="pytest.skip" message="time guard: 3 s left">x</skipped></testcase>
</testsuite></testsuites>"""


def test_report_merges_outcomes_figures_and_benchmarks(tmp_path, capsys):
    from benchmarks import gpu_report

    (tmp_path / "pytest.xml").write_text(JUNIT)
    gpu_report.append_figures(tmp_path / "tests-figures.jsonl",
                              {"nodeid": "tests/test_gpu_x.py::test_ok", "figures": {"ratio": 1.1}})
    with (tmp_path / "tests-figures.jsonl").open("a") as fh:
        fh.write('{"nodeid": "tests/test_gpu_x.py::test_ok", "figu')  # cut short by a kill
    device = {"cuda_available": True, "name": "NVIDIA H200", "torch": "2.13.0", "cuda": "12.8"}
    bench = {"device": device, "peaks": {"datasheet": gpu_report.datasheet_peaks("NVIDIA H200"),
             "measured": None}, "figures": [{"name": "f", "title": "F", "status": "ok",
             "line": "F: 1 img/s | anchor: x"}]}  # fmt: skip
    gpu_report.write_json(tmp_path / "bench.json", bench)
    code = gpu_report.main(["--out", str(tmp_path), "--pytest-exit", "1", "--bench-exit", "0",
                            "--started", str(time.time() - 5), "--budget", "470"])  # fmt: skip
    assert code == 1  # a test failed
    doc = json.loads((tmp_path / "gpu-check.json").read_text())
    assert doc["schema"] == "resnet-explorer/gpu-check/v1" and doc["result"] == "failed"
    checks = {c["name"]: c for c in doc["tests"]["checks"]}
    assert checks["test_ok"]["figures"] == {"ratio": 1.1} and checks["test_ok"]["seconds"] == 1.5
    assert checks["test_bad[bf16]"]["outcome"] == "failed"
    assert checks["test_late"]["message"] == "time guard: 3 s left"
    assert doc["peaks"]["datasheet"]["bf16_tflops"] == 989.5 and doc["device"] == device
    out = capsys.readouterr().out
    assert "gpu test test_late: skipped: time guard: 3 s left" in out
    md = (tmp_path / "gpu-check.md").read_text()
    assert "# GPU check: NVIDIA H200" in md and "- F: 1 img/s | anchor: x" in md
    assert "AssertionError: 0.2 > 0.05 / worst" in md  # a '|' would break the table


def test_report_says_incomplete_when_the_time_guard_dropped_a_part(tmp_path):
    from benchmarks import gpu_report

    device = {"cuda_available": True, "name": "NVIDIA L4"}
    tests = {"checks": [{"name": "t", "outcome": "passed", "message": ""}]}
    bench = {"exit_code": 0, "figures": [{"status": "ok"}, {"status": "skipped",
             "reason": "time guard: 10 s left"}]}  # fmt: skip
    assert gpu_report._result(device, tests, bench) == "incomplete"
    bench["figures"].pop()
    assert gpu_report._result(device, tests, bench) == "passed"
    assert gpu_report._result({"cuda_available": False}, tests, bench) == "skipped: no CUDA device"
