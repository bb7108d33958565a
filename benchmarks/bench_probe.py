"""Probe loop overhead vs a minimal hand-written PyTorch loop: same model, data and precision.

    .venv/bin/python benchmarks/bench_probe.py [--design resnet20] [--steps 40] [--reps 5]
        [--image-size 32] [--batch-size 64] [--threads N] [--device auto]

Both loops train the same freshly built model (same seed) on the same device-resident MNIST
tensors with the same batched augmentation, optimizer (SGD + momentum) and precision (fp32 on
CPU; bf16 autocast + channels_last on CUDA). The probe additionally runs its schedule, accuracy,
per-step records, flushes every 10 steps and its cancel/budget checks; held-out evaluation and
diagnostics are off (they are not loop overhead). Runs alternate, hand then probe, so both see the
same machine load; the ratio of medians is printed and must be <= 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F

from resnet_explorer import build_model, presets
from resnet_explorer.probes import ProbeConfig, run_probe
from resnet_explorer.probes.data import augment, load_mnist, normalize
from resnet_explorer.probes.runner import training_device

LIMIT = 1.05


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_loop(design, data, *, steps: int, batch: int, device: torch.device, bf16: bool) -> float:
    """The minimal loop: sample, augment, forward, loss, backward, step. Returns seconds."""
    start = time.perf_counter()
    model = build_model(design, seed=0, device=device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator(device=device).manual_seed(0)
    mean = torch.tensor(data.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, -1, 1, 1)
    n = len(data.train_y)
    for _ in range(steps):
        idx = torch.randint(0, n, (batch,), generator=g, device=device)
        x = normalize(augment(data.train_x[idx], data.augment, g), mean, std)
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), data.train_y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    loss.item()  # wait for the device
    sync(device)
    return time.perf_counter() - start


def probe_loop(design, data, config: ProbeConfig) -> float:
    start = time.perf_counter()
    result = run_probe([("bench", design)], config, data=data)
    assert result.runs[0].status == "done", result.runs[0].reason
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", default="resnet20")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    device = training_device(args.device)
    bf16 = device.type == "cuda"
    design = presets.get(args.design).replace(image_size=args.image_size, num_classes=10)
    config = ProbeConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=0.05,
        warmup=0.0,
        eval_every=0,
        final_eval=False,
        diagnostics=False,
        device=str(device),
        threads=args.threads,
    )
    if device.type == "cpu":
        torch.set_num_threads(config.resolved_threads())
    data = load_mnist().adapt(design.image_size, design.in_channels).to(device)
    kw = {"steps": args.steps, "batch": args.batch_size, "device": device, "bf16": bf16}
    print(
        f"{args.design} at {design.image_size}px, batch {args.batch_size}, {args.steps} steps, "
        f"{device}, {'bf16' if bf16 else 'fp32'}, {torch.get_num_threads()} threads"
    )
    hand_loop(design, data, **kw)  # warm-up: allocator, kernels
    probe_loop(design, data, config)
    hand, probe = [], []
    for rep in range(args.reps):
        hand.append(hand_loop(design, data, **kw))
        probe.append(probe_loop(design, data, config))
        print(f"  rep {rep + 1}: hand {hand[-1]:.3f} s, probe {probe[-1]:.3f} s")
    ratio = statistics.median(probe) / statistics.median(hand)
    best = min(probe) / min(hand)
    images = args.steps * args.batch_size
    print(
        f"hand loop {images / statistics.median(hand):,.0f} img/s, probe "
        f"{images / statistics.median(probe):,.0f} img/s (medians, incl. model build)"
    )
    print(f"probe / hand ratio: {ratio:.3f} (median), {best:.3f} (best); limit {LIMIT}")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
