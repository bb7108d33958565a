"""Wall time of the evidence a review defends: the 3-seed degradation experiment and the depth
ladder, and how much of it is training.

    .venv/bin/python benchmarks/bench_evidence.py [--seeds 3] [--threads 1] [--steps 400]
        [--depths 20,32,44,56] [--only degradation|depth_ladder] [--json-out FILE]

Runs each experiment as the Probe page's one-click button and ``probe --experiment`` do (its
settings, ``--seeds`` seeds each), timing every design's run from its start event to its end
event. It prints, per experiment: the wall time; the training time (the training steps
themselves, `RunSummary.train_seconds`); the time inside the runs outside the training steps
(building the model, held-out evaluations with their diagnostics, host syncs); the time outside
the runs (loading the data, starting the probe, the statistics); and overhead = everything but
training as a share of the wall time (target < 5 %). Then the per-design intervals over the
seeds, the pairwise verdicts and whether the paper's finding was reproduced. On a shared machine
the wall times move with other jobs' load; the overhead share is measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet_explorer.probes import experiments
from resnet_explorer.probes.events import DesignEnd, DesignStart, ProbeEvent
from resnet_explorer.probes.runner import run_probe

TARGET_OVERHEAD = 0.05


def _run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    depths = tuple(int(d) for d in args.depths.split(",")) if name == "depth_ladder" else None
    exp = experiments.get(name, depths=depths)
    overrides: dict[str, Any] = {"seeds": args.seeds, "threads": args.threads}
    if args.steps is not None:
        overrides["steps"] = args.steps
    config = exp.probe_config(**overrides)
    started: dict[tuple[str, int], float] = {}
    run_wall: dict[tuple[str, int], float] = {}

    def on_event(event: ProbeEvent) -> None:
        now = time.perf_counter()
        if isinstance(event, DesignStart):
            started[(event.label, event.seed)] = now
        elif isinstance(event, DesignEnd):
            key = (event.label, event.seed)
            run_wall[key] = now - started[key]
            s = event.summary
            print(
                f"  {event.label:12} seed {event.seed}: {event.status}, train loss "
                f"{s['final_train_loss']:.4f}, {s['train_seconds']:.1f} s training, "
                f"{run_wall[key]:.1f} s in the run",
                flush=True,
            )

    print(f"\n{exp.title}: {len(exp.designs)} designs x {config.seeds} seeds", flush=True)
    start = time.perf_counter()
    result = run_probe(exp.designs, config, on_event=on_event)
    wall = time.perf_counter() - start
    training = sum(r.train_seconds for r in result.runs)
    inside = sum(run_wall.values()) - training
    outside = wall - sum(run_wall.values())
    statistics = result.statistics()
    return {
        "experiment": name,
        "title": exp.title,
        "config": config.to_dict(),
        "wall_s": round(wall, 2),
        "training_s": round(training, 2),
        "in_runs_not_training_s": round(inside, 2),
        "outside_runs_s": round(outside, 2),
        "overhead": round((wall - training) / wall, 4),
        "statistics": statistics,
        "finding": exp.finding(statistics),
    }


def _report(r: dict[str, Any]) -> None:
    print(f"\n== {r['title']} ==")
    print(
        f"wall {r['wall_s']:.1f} s: training {r['training_s']:.1f} s, inside the runs but not "
        f"training {r['in_runs_not_training_s']:.1f} s (model build, evaluations, syncs), "
        f"outside the runs {r['outside_runs_s']:.1f} s (data, start, statistics)"
    )
    share = r["overhead"]
    verdict = "meets" if share < TARGET_OVERHEAD else "misses"
    print(f"overhead {share:.1%} of the wall time ({verdict} the < {TARGET_OVERHEAD:.0%} target)")
    print("final training loss, mean [interval]:")
    for label, d in r["statistics"]["designs"].items():
        loss = d["final_train_loss"]
        bounds = f"[{loss['lo']:.4f}, {loss['hi']:.4f}]"
        print(f"  {label:12} {loss['mean']:.4f} {bounds} ({loss['method']})")
    print("verdicts (final training loss):")
    for v in r["statistics"]["verdicts"]:
        if v["metric"] == "final_train_loss":
            print(f"  {v['text']}")
    print(r["finding"]["sentence"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="default: the experiment's 400")
    parser.add_argument("--depths", default="20,32,44,56")
    parser.add_argument("--only", choices=["degradation", "depth_ladder"])
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    names = [args.only] if args.only else ["degradation", "depth_ladder"]
    results = [_run(name, args) for name in names]
    for r in results:
        _report(r)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
