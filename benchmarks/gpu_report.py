"""The GPU check's record: device facts, the peaks behind "% of peak", a time guard, and the
report (`gpu-check.json` + `gpu-check.md`) that `scripts/gpu-check.sh` leaves in `artifacts/gpu/`.

    .venv/bin/python benchmarks/gpu_report.py --out artifacts/gpu [--junit pytest.xml]
        [--pytest-exit N] [--bench-exit N] [--started EPOCH_S] [--budget S]

merges what `pytest -m gpu` (its JUnit XML and the figures the tests recorded) and
`benchmarks/bench_gpu.py` (`bench.json`) left in the folder, prints one line per test check
(``<check>: skipped: no CUDA device`` on a machine without CUDA) and writes the report. Every
figure is recorded with its status; a check that did not run says why.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCHEMA = "resnet-explorer/gpu-check/v1"
NO_CUDA = "no CUDA device"
DEADLINE_ENV = "GPU_CHECK_DEADLINE"  # epoch seconds by which the whole check must be done
FIGURES_ENV = "GPU_CHECK_FIGURES"  # JSON-lines file the gpu tests append their figures to
FALLBACK = (
    "device not in the peak table (resnet_explorer/analysis/devices.py): '% of peak' is given "
    "against the peaks measured in this run (large GEMMs, a device-to-device copy), labelled "
    "'measured'; they understate the datasheet peaks"
)


# --- device and peaks ---------------------------------------------------------------------------


def driver_version() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi``, None where there is none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=15, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def device_facts() -> dict[str, Any]:
    """Which device the check ran on and the versions that matter (torch, CUDA, cuDNN, driver)."""
    import torch

    cuda = torch.cuda.is_available()
    facts: dict[str, Any] = {
        "cuda_available": cuda,
        "name": "CPU only",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "driver": driver_version() if cuda else None,
        "cpu_threads": torch.get_num_threads(),
    }
    if cuda:
        index = torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        facts.update(
            name=props.name,
            index=index,
            device_count=torch.cuda.device_count(),
            capability=f"{props.major}.{props.minor}",
            total_memory_bytes=int(props.total_memory),
            multiprocessors=int(props.multi_processor_count),
            bf16_supported=bool(torch.cuda.is_bf16_supported()),
            tf32_cudnn=bool(torch.backends.cudnn.allow_tf32),
            tf32_matmul=bool(torch.backends.cuda.matmul.allow_tf32),
        )
    return facts


def datasheet_peaks(name: str | None) -> dict[str, Any]:
    """The peak table's entry for a GPU name (TFLOP/s, GB/s); ``known`` False with the fallback
    stated when the device is not in the table (or is the CPU)."""
    from resnet_explorer.analysis.devices import gpu_peak

    if not name:
        return {"known": False, "name": None, "source": None, "fallback": "no GPU in this run"}
    peak = gpu_peak(name)
    if peak is None:
        return {"known": False, "name": name, "source": None, "fallback": FALLBACK}
    return {
        "known": True,
        "name": name,
        "fp32_tflops": peak.fp32,
        "tf32_tflops": peak.tf32,
        "bf16_tflops": peak.bf16,
        "fp16_tflops": peak.fp16,
        "bandwidth_gbs": peak.bandwidth_gbs,
        "source": peak.source + " (dense)",
    }


def peak_for(
    peaks: dict[str, Any], precision: str, *, tf32: bool = False
) -> tuple[float | None, str]:
    """(TFLOP/s, what it is) to compare a run in ``precision`` with: the datasheet's where the
    device is known, else the GEMM peak measured in this run; (None, why) when neither exists.
    ``tf32``: an fp32 run whose convolutions may use TF32 tensor cores (cuDNN's default)."""
    keys = ("tf32", "fp32") if precision == "fp32" and tf32 else (precision,)
    sheet = peaks.get("datasheet") or {}
    measured = peaks.get("measured") or {}
    for key in keys:
        value = sheet.get(f"{key}_tflops") if sheet.get("known") else None
        if value:
            return float(value), f"datasheet {key.upper()} {value:g} TFLOP/s ({sheet['source']})"
    for key in keys:
        value = measured.get(f"{key}_tflops")
        if value:
            return float(value), f"measured {key.upper()} GEMM {value:.3g} TFLOP/s (this run)"
    return None, f"no {precision} peak known or measured"


def bandwidth_for(peaks: dict[str, Any]) -> tuple[float | None, str]:
    """(GB/s, what it is): the datasheet's memory bandwidth, else the copy measured in this run."""
    sheet = peaks.get("datasheet") or {}
    if sheet.get("known") and sheet.get("bandwidth_gbs"):
        value = float(sheet["bandwidth_gbs"])
        return value, f"datasheet {value:,.0f} GB/s ({sheet['source']})"
    measured = (peaks.get("measured") or {}).get("copy_gbs")
    if measured:
        return float(measured), f"measured device copy {measured:,.0f} GB/s (this run)"
    return None, "no memory bandwidth known or measured"


# --- the time guard -----------------------------------------------------------------------------


class TimeGuard:
    """A deadline shared by every part of the check: a part that needs more time than is left is
    skipped and says so, so the whole check ends in time with what it has."""

    def __init__(self, budget_s: float, *, deadline: float | None = None) -> None:
        self.budget_s = float(budget_s)
        self.deadline = deadline if deadline is not None else time.time() + self.budget_s

    @classmethod
    def from_env(cls, default_budget_s: float) -> TimeGuard:
        """The check's deadline from ``GPU_CHECK_DEADLINE`` (set by the script), else a budget
        from now."""
        raw = os.environ.get(DEADLINE_ENV)
        try:
            deadline = float(raw) if raw else None
        except ValueError:
            deadline = None
        if deadline is None:
            return cls(default_budget_s)
        return cls(max(0.0, deadline - time.time()), deadline=deadline)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.time())

    def allows(self, cost_s: float) -> bool:
        return self.remaining() >= cost_s

    def reason(self, cost_s: float) -> str:
        return (
            f"time guard: {self.remaining():.0f} s left of the check's budget, this part needs "
            f"about {cost_s:.0f} s"
        )


# --- writing ------------------------------------------------------------------------------------


def clean(value: Any) -> Any:
    """Non-finite floats as None (JSON has no NaN), recursively; tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def write_json(path: Path | str, doc: Any) -> Path:
    """Write ``doc`` as JSON atomically (a reader, or a kill, never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(clean(doc), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def append_figures(path: Path | str, record: dict[str, Any]) -> None:
    """Append one test's figures as a JSON line (kept even if the run is stopped later)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(clean(record), allow_nan=False) + "\n")


def read_figures(path: Path | str) -> dict[str, dict[str, Any]]:
    """Figures the tests recorded, by test id (later records of one test are merged in)."""
    out: dict[str, dict[str, Any]] = {}
    path = Path(path)
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        out.setdefault(record.get("nodeid", "?"), {}).update(record.get("figures") or {})
    return out


def read_junit(path: Path | str) -> list[dict[str, Any]]:
    """One entry per test case of a JUnit XML file: name, nodeid, outcome, message, seconds."""
    path = Path(path)
    if not path.is_file():
        return []
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (node.get("message") or (node.text or "")).strip()
                break
        cases.append(
            {
                "name": case.get("name", "?"),
                "nodeid": f"{module}.py::{case.get('name', '?')}",
                "outcome": outcome,
                "message": _skip_text(message),
                "seconds": float(case.get("time") or 0.0),
            }
        )
    return cases


def _skip_text(message: str) -> str:
    # pytest writes skips as "Skipped: <reason>"; keep the reason
    return message.removeprefix("Skipped: ").splitlines()[0][:500] if message else ""


def check_line(name: str, outcome: str, message: str = "") -> str:
    """The one line the check prints per check: ``name: outcome[: message]``."""
    return f"{name}: {outcome}" + (f": {message}" if message else "")


# --- the report ---------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _tests_part(out: Path, junit: Path, exit_code: int | None) -> dict[str, Any]:
    cases = read_junit(junit)
    figures = read_figures(out / "tests-figures.jsonl")
    for case in cases:
        case["figures"] = figures.get(case["nodeid"], {})
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
    note = ""
    if not cases:
        note = f"pytest left no results (exit code {exit_code}): stopped by the time guard?"
    return {"exit_code": exit_code, "counts": counts, "checks": cases, "note": note}


def _result(device: dict[str, Any], tests: dict[str, Any], bench: dict[str, Any]) -> str:
    if not device.get("cuda_available"):
        return f"skipped: {NO_CUDA}"
    outcomes = [c["outcome"] for c in tests["checks"]]
    figures = bench.get("figures") or []
    if any(o in ("failed", "error") for o in outcomes) or any(
        f.get("status") == "failed" for f in figures
    ):
        return "failed"
    guarded = [c for c in tests["checks"] if c["message"].startswith("time guard")] + [
        f for f in figures if str(f.get("reason", "")).startswith("time guard")
    ]
    if not outcomes or not figures or guarded or bench.get("exit_code") not in (0, None):
        return "incomplete"
    return "passed"


def build_report(
    out: Path,
    *,
    junit: Path,
    pytest_exit: int | None,
    bench_exit: int | None,
    started: float,
    budget_s: float,
) -> dict[str, Any]:
    """Merge the tests' and the benchmark's records in ``out`` into the check's report."""
    bench = _load(out / "bench.json")
    bench["exit_code"] = bench_exit
    device = bench.get("device") or device_facts()
    peaks = bench.get("peaks") or {
        "datasheet": datasheet_peaks(device["name"] if device.get("cuda_available") else None),
        "measured": None,
    }
    tests = _tests_part(out, junit, pytest_exit)
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 1),
        "budget_s": budget_s,
        "result": _result(device, tests, bench),
        "device": device,
        "peaks": peaks,
        "tests": tests,
        "bench": {k: v for k, v in bench.items() if k not in ("device", "peaks")},
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _scalars(figures: dict[str, Any], limit: int = 6) -> str:
    items = [(k, v) for k, v in figures.items() if isinstance(v, (int, float, str, bool))]
    return "; ".join(f"{k} {_fmt(v)}" for k, v in items[:limit])


def render_markdown(doc: dict[str, Any]) -> str:
    """A short human summary of the report."""
    dev, peaks = doc["device"], doc["peaks"]
    lines = [
        f"# GPU check: {dev.get('name')}",
        "",
        f"Result: **{doc['result']}** in {doc['seconds']:g} s (budget {doc['budget_s']:g} s). "
        f"torch {dev.get('torch')}, CUDA {dev.get('cuda')}, cuDNN {dev.get('cudnn')}, "
        f"driver {dev.get('driver')}.",
        "",
        "## Peaks used for % of peak",
        "",
        "| | fp32 | TF32 | bf16 | fp16 | bandwidth GB/s | source |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    sheet, measured = peaks.get("datasheet") or {}, peaks.get("measured") or {}
    if sheet.get("known"):
        lines.append(
            "| datasheet | " + " | ".join(_fmt(sheet.get(f"{k}_tflops")) for k in
            ("fp32", "tf32", "bf16", "fp16")) + f" | {_fmt(sheet.get('bandwidth_gbs'))} | "
            f"{sheet.get('source')} |"
        )  # fmt: skip
    else:
        lines.append(f"| datasheet | | | | | | {sheet.get('fallback') or 'none'} |")
    if measured:
        lines.append(
            "| measured | " + " | ".join(_fmt(measured.get(f"{k}_tflops")) for k in
            ("fp32", "tf32", "bf16", "fp16")) + f" | {_fmt(measured.get('copy_gbs'))} | "
            "GEMM / device copy in this run |"
        )  # fmt: skip
    lines += ["", "## Tests (`pytest -m gpu`)", "", "| check | outcome | figures |"]
    lines.append("|---|---|---|")
    for case in doc["tests"]["checks"]:
        detail = case["message"] if case["outcome"] != "passed" else _scalars(case["figures"])
        lines.append(f"| {case['name']} | {case['outcome']} | {detail.replace('|', '/')} |")
    if doc["tests"]["note"]:
        lines.append(f"\n{doc['tests']['note']}")
    lines += ["", "## Benchmarks (`benchmarks/bench_gpu.py`)", ""]
    lines += [f"- {fig.get('line', fig.get('title'))}" for fig in doc["bench"].get("figures", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "gpu")
    parser.add_argument("--junit", type=Path, default=None)
    parser.add_argument("--pytest-exit", type=int, default=None)
    parser.add_argument("--bench-exit", type=int, default=None)
    parser.add_argument("--started", type=float, default=time.time())
    parser.add_argument("--budget", type=float, default=480.0)
    args = parser.parse_args(argv)
    junit = args.junit or args.out / "pytest.xml"
    doc = build_report(
        args.out, junit=junit, pytest_exit=args.pytest_exit, bench_exit=args.bench_exit,
        started=args.started, budget_s=args.budget,
    )  # fmt: skip
    for case in doc["tests"]["checks"]:
        print(check_line(f"gpu test {case['name']}", case["outcome"], case["message"]))
    if doc["tests"]["note"]:
        print(doc["tests"]["note"])
    write_json(args.out / "gpu-check.json", doc)
    (args.out / "gpu-check.md").write_text(render_markdown(doc), encoding="utf-8")
    print(f"GPU check: {doc['result']} ({doc['seconds']:g} s); report in {args.out}/gpu-check.json")
    return 1 if doc["result"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
