"""Reproduce the degradation problem (He et al. 2015, Fig. 6) on the offline MNIST digits.

    .venv/bin/python benchmarks/degradation.py [--steps 400] [--image-size 16] [--seed 0]

Trains plain-20, plain-56, ResNet-20 and ResNet-56 with the same settings and batches, prints
each net's training-loss curve (mean over windows of steps) and held-out accuracy, and checks the
finding: the deeper plain net ends with a higher training loss than the shallower one, and the
deeper residual net does not: its gap to the shallower residual net is under a tenth of the
plain nets' gap. Exit code 0 when reproduced, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet_explorer.probes import experiments
from resnet_explorer.probes.runner import run_probe

RESIDUAL_SHARE = 0.1  # the residual gap must be under this share of the plain gap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--windows", type=int, default=8, help="points per printed curve")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)

    exp = experiments.get("degradation")
    overrides = {"seed": args.seed, "threads": args.threads}
    for key in ("steps", "image_size", "batch_size", "lr"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    config = exp.probe_config(**overrides)
    print(f"config: {json.dumps(config.to_dict())}", flush=True)

    def progress(event: dict) -> None:
        if event["event"] == "design_end":
            s = event["summary"]
            print(
                f"  {s['label']:9} {s['status']:8} {s['steps']} steps, {s['train_seconds']:.1f} s",
                flush=True,
            )

    start = time.perf_counter()
    result = run_probe(exp.designs, config, on_event=progress)
    wall = time.perf_counter() - start

    steps = config.steps or max(r.steps for r in result.runs)
    window = max(1, steps // args.windows)
    print(f"\ntraining loss, mean over windows of {window} steps (step = window end):")
    ends = list(range(window, steps + 1, window))
    print(f"{'net':10}" + "".join(f"{e:>8}" for e in ends))
    curves = {}
    for run in result.runs:
        losses = [x for x in run.losses() if x is not None]
        curve = [sum(losses[e - window : e]) / window for e in ends if len(losses) >= e]
        curves[run.label] = curve
        print(f"{run.label:10}" + "".join(f"{v:8.3f}" for v in curve))
    print(f"\n{'net':10} {'final train loss':>17} {'train acc':>10} {'held-out acc':>13}")
    final = {}
    for s in result.summaries():
        final[s["label"]] = s
        print(
            f"{s['label']:10} {s['final_train_loss']:17.4f} {s['final_train_acc']:10.3f} "
            f"{s['held_out_acc']:13.3f}"
        )
    loss = {k: v["final_train_loss"] for k, v in final.items()}
    plain_gap = loss["plain56"] - loss["plain20"]
    residual_gap = loss["resnet56"] - loss["resnet20"]
    plain_degrades = plain_gap > 0
    residual_ok = residual_gap < RESIDUAL_SHARE * plain_gap
    print(
        f"\nfinal training loss, 56 minus 20 layers: plain {plain_gap:+.4f}, residual "
        f"{residual_gap:+.4f}\nplain-56 ends higher than plain-20: {plain_degrades}; residual gap "
        f"under {RESIDUAL_SHARE:g} x the plain gap: {residual_ok}; wall {wall:.0f} s"
    )
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "config": config.to_dict(),
                    "window": window,
                    "curves": curves,
                    "summary": result.summaries(),
                    "reproduced": plain_degrades and residual_ok,
                    "wall_seconds": wall,
                },
                indent=2,
            )
        )
    return 0 if plain_degrades and residual_ok else 1


if __name__ == "__main__":
    sys.exit(main())
