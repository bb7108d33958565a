"""Probes, the job queue and loss-landscape slices on CUDA (`pytest -m gpu`).

- A 200-step ResNet-20 probe on MNIST at 16 px and on synthetic CIFAR-shaped data (32x32x3):
  every loss finite, the mean of the last 20 steps below 0.7x the mean of the first 20, images/s
  recorded.
- Same seed, same curve: two runs in a child process with cuDNN's determinism flags
  (``cudnn.deterministic``, no ``cudnn.benchmark``, ``use_deterministic_algorithms(warn_only)``,
  ``CUBLAS_WORKSPACE_CONFIG=:4096:8``) give per-step losses within 1e-3 of each other; the largest
  difference and any op torch reports as nondeterministic are recorded.
- One job per GPU: two probes submitted together (one for ``auto``, one for ``cuda:N``) run one
  after the other in one queue, while a CPU probe runs beside the first.
- Landscape slices evaluated batched on the GPU (8 points per pass, vmap) equal the CPU's (one
  point at a time) on a small trained ResNet-20: losses within rtol 1e-4 / atol 1e-5 with TF32 off,
  within rtol 1e-2 with TF32 on (PyTorch's default for cuDNN convolutions); accuracies within two
  images of the 128.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import threading

import pytest
import torch
from gpu_support import DETERMINISM_ENV, GPU_MARKS, ROOT_DIR, record, within_budget

from resnet_explorer import presets
from resnet_explorer.probes import ProbeConfig, run_probe
from resnet_explorer.probes.data import synthetic
from resnet_explorer.probes.jobs import JobManager
from resnet_explorer.probes.landscape import LandscapeSpec, landscape
from resnet_explorer.probes.trained import eval_tensors, train

pytestmark = GPU_MARKS

R20 = presets.get("resnet20")
SAME_SEED_TOL = 1e-3


def _mean(values):
    return sum(values) / len(values)


@pytest.mark.parametrize("dataset", ["mnist_16px", "synthetic_cifar"])
def test_probe_trains_200_steps_on_cuda(dataset, request):
    within_budget(40)
    config = ProbeConfig(steps=200, batch_size=128, device="cuda", eval_every=100, lr=0.05)
    if dataset == "mnist_16px":
        result = run_probe([("resnet20", R20)], config.replace(dataset="mnist", image_size=16))
    else:
        data = synthetic(image_size=32, channels=3, train=5000, held_out=500, seed=0)
        result = run_probe([("resnet20", R20)], config.replace(dataset="synthetic"), data=data)
    run = result.runs[0]
    losses = run.losses()
    summary = run.summary(config.batch_size)
    record(
        request, dataset=dataset, status=run.status, steps=run.steps,
        images_per_s=summary["images_per_s"], train_seconds=run.train_seconds,
        first_loss=losses[0], final_train_loss=summary["final_train_loss"],
        held_out_acc=summary["held_out_acc"],
    )  # fmt: skip
    assert run.status == "done" and run.steps == 200, run.error
    assert all(x is not None and math.isfinite(x) for x in losses)
    assert _mean(losses[-20:]) < 0.7 * _mean(losses[:20])
    assert summary["images_per_s"] > 0


def test_same_seed_gives_the_same_curve_under_the_determinism_flags(request):
    within_budget(90)
    env = {**os.environ, **DETERMINISM_ENV}
    out = subprocess.run(
        [sys.executable, str(ROOT_DIR / "tests" / "gpu_support.py"), "same-seed", "mnist", "200"],
        capture_output=True, text=True, timeout=150, env=env, cwd=ROOT_DIR, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    a, b = doc["losses"]
    assert len(a) == len(b) == 200 and None not in a + b
    largest = max(abs(x - y) for x, y in zip(a, b, strict=True))
    record(request, largest_difference=largest, tolerance=SAME_SEED_TOL,
           nondeterministic_ops=doc["nondeterministic_ops"], flags=doc["flags"])  # fmt: skip
    assert largest <= SAME_SEED_TOL


def test_one_job_per_gpu_while_a_cpu_job_runs_beside(request):
    within_budget(90)
    jobs = JobManager()
    index = torch.cuda.current_device()
    gpu_stepping, cpu_stepping = threading.Event(), threading.Event()
    ids: dict[str, str] = {}
    seen: dict[str, dict] = {}

    def first_gpu_step(job_id, event):  # the first GPU job trains until the CPU job does too
        if event["event"] == "step" and not gpu_stepping.is_set():
            gpu_stepping.set()
            cpu_stepping.wait(60)
            seen["positions"] = {name: jobs.position(jid) for name, jid in ids.items()}

    def first_cpu_step(job_id, event):
        if event["event"] == "step" and not cpu_stepping.is_set():
            cpu_stepping.set()
            gpu_stepping.wait(60)

    config = ProbeConfig(steps=60, dataset="mnist", image_size=16, batch_size=64, eval_every=0,
                         final_eval=False, diagnostics=False)  # fmt: skip
    ids["gpu_auto"] = jobs.submit([R20], config.replace(device="auto"), on_event=first_gpu_step)
    ids["gpu_indexed"] = jobs.submit([R20], config.replace(device=f"cuda:{index}"))
    ids["cpu"] = jobs.submit([R20], config.replace(device="cpu", steps=20, threads=2),
                             on_event=first_cpu_step)  # fmt: skip
    final = {name: jobs.wait(jid, timeout=180) for name, jid in ids.items()}
    first, second = final["gpu_auto"], final["gpu_indexed"]
    ended, began = first["finished_at"], second["started_at"]
    record(
        request, positions_while_the_first_gpu_job_trained=seen.get("positions"),
        queues={n: s["device"] for n, s in final.items()},
        states={n: s["state"] for n, s in final.items()},
        second_started_after_first_finished_s=began - ended if began and ended else None,
    )  # fmt: skip
    assert {n: s["state"] for n, s in final.items()} == dict.fromkeys(ids, "done")
    assert first["device"] == second["device"] == f"cuda:{index}"
    assert seen["positions"] == {"gpu_auto": 0, "gpu_indexed": 1, "cpu": 0}
    assert second["started_at"] >= first["finished_at"]


def _values(result):
    line = result["line"]["loss"]
    plane = [v for row in result["plane"]["loss"] for v in row]
    acc = result["line"]["acc"] + [v for row in result["plane"]["acc"] for v in row]
    as_float = [math.nan if v is None else v for v in [*line, *plane]]
    return torch.tensor(as_float, dtype=torch.float64), torch.tensor(acc, dtype=torch.float64)


def test_landscape_batched_on_the_gpu_equals_the_cpu(request):
    within_budget(60)
    config = ProbeConfig(steps=50, dataset="mnist", image_size=16, batch_size=64, device="cuda",
                         eval_every=0, diagnostics=False)  # fmt: skip
    probe = train([("resnet20", R20)], config)
    run = probe.result.runs[0]
    assert run.model is not None, run.error
    x, y = eval_tensors(probe.data, run.design, 128, "cuda")
    spec = LandscapeSpec(line=7, plane=5, images=128, batch_size=128)
    cpu = landscape(copy.deepcopy(run.model).cpu(), x.cpu(), y.cpu(), spec)
    saved = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = False
        exact = landscape(run.model, x, y, spec)
        torch.backends.cudnn.allow_tf32 = True
        tf32 = landscape(run.model, x, y, spec)
    finally:
        torch.backends.cudnn.allow_tf32 = saved
    (loss_cpu, acc_cpu), (loss_gpu, acc_gpu), (loss_tf32, _) = map(_values, (cpu, exact, tf32))
    rel = ((loss_gpu - loss_cpu).abs() / loss_cpu.abs()).nan_to_num(0).max().item()
    rel_tf32 = ((loss_tf32 - loss_cpu).abs() / loss_cpu.abs()).nan_to_num(0).max().item()
    record(
        request, points=spec.points(), points_per_batch={"cuda": exact["points_per_batch"],
        "cpu": cpu["points_per_batch"]}, max_relative_difference=rel,
        max_relative_difference_tf32=rel_tf32, seconds={"cuda": exact["seconds"],
        "cpu": cpu["seconds"]},
    )  # fmt: skip
    assert (exact["points_per_batch"], cpu["points_per_batch"]) == (8, 1)
    assert exact["complete"] and cpu["complete"]
    torch.testing.assert_close(loss_gpu, loss_cpu, rtol=1e-4, atol=1e-5, equal_nan=True)
    torch.testing.assert_close(loss_tf32, loss_cpu, rtol=1e-2, atol=1e-4, equal_nan=True)
    assert (acc_gpu - acc_cpu).abs().max().item() <= 2 / 128 + 1e-9
