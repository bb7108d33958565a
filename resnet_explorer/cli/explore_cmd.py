"""``explore``: sample a design space under a budget, score and optionally measure the samples."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from resnet_explorer import units
from resnet_explorer.cli.common import CliError, print_json, schema


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "explore",
        help="sample a design space under a budget and evaluate the samples",
        description="Sample N designs of SPACE.json (format: docs/explore.md), rejecting invalid "
        "or out-of-budget ones, score them analytically and, on request, measure latency and a "
        "short probe. Results go to --out as JSON lines; a summary to stdout.",
    )
    parser.add_argument("space", metavar="SPACE.json")
    parser.add_argument("--samples", type=int, required=True, help="designs to keep")
    parser.add_argument("--seed", type=int, help="sampling seed (default: the space's)")
    parser.add_argument("--probe-steps", type=int, help="train each sample K steps")
    parser.add_argument("--dataset", help="probe data: mnist (default), cifar10, synthetic, DIR")
    parser.add_argument("--image-size", type=int, help="train every sample at this input size")
    parser.add_argument("--batch-size", type=int, help="probe batch size (default 64)")
    parser.add_argument(
        "--probe-seeds",
        type=int,
        help="train each sample with this many seeds: error is their mean, error_lo/error_hi "
        "its interval (default 3, 5 on a GPU)",
    )
    parser.add_argument("--latency", action="store_true", help="measure inference latency")
    parser.add_argument("--latency-batch", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    parser.add_argument("--backend", choices=["local", "ray"], default="local")
    parser.add_argument("--workers", type=int, help="local worker processes (0 = in-process)")
    parser.add_argument("--ray-address", help="Ray cluster address (default: RAY_ADDRESS)")
    parser.add_argument("--out", metavar="RESULTS.jsonl", help="write results as JSON lines")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.add_argument("--top", type=int, default=5, help="rows of the top-k table")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.explore import EvalOptions, Space, explore, top_k
    from resnet_explorer.explore.backends import make_backend

    if args.samples is None or args.samples < 1 or args.samples > 1_000_000:
        raise CliError(f"--samples {args.samples}: a whole number 1..1000000")
    if args.seed is not None and args.seed < 0:
        raise CliError(f"--seed {args.seed}: a whole number >= 0")
    if args.workers is not None and args.workers < 0:
        raise CliError(f"--workers {args.workers}: >= 0")
    space = Space.load(args.space)
    probe: dict[str, Any] = {}
    for key in ("dataset", "image_size", "batch_size"):
        if getattr(args, key) is not None:
            probe[key] = getattr(args, key)
    if args.probe_seeds is not None:
        probe["seeds"] = args.probe_seeds
    if probe and args.probe_steps is None:
        raise CliError("--dataset/--image-size/--batch-size/--probe-seeds go with --probe-steps")
    if args.probe_steps is not None:
        from resnet_explorer.probes.experiments import default_seeds

        probe.setdefault("seeds", default_seeds())
    options = EvalOptions(
        latency=args.latency,
        latency_batch=args.latency_batch,
        probe_steps=args.probe_steps,
        probe=probe,
        device=args.device,
    )
    if args.ray_address and args.backend != "ray":
        raise CliError("--ray-address goes with --backend ray")
    backend = make_backend(args.backend, address=args.ray_address, workers=args.workers)

    progress = _Progress(sys.stderr)
    try:
        result = explore(
            space,
            args.samples,
            seed=args.seed,
            options=options,
            backend=backend,
            out=args.out,
            force=args.force,
            on_event=progress.update,
        )
    except KeyboardInterrupt:
        print("interrupted: results so far are in --out", file=sys.stderr)
        return 130
    rows = result.results.rows()
    metric = "error" if options.probe_steps is not None else "macs"
    summary = {
        "schema": schema("explore"),
        "space": space.name,
        "state": result.state,
        "sampling": result.results.sampling,
        "counts": result.counts(),
        "seconds": round(result.seconds, 3),
        "out": args.out,
        "top": [
            {k: r.get(k) for k in ("index", "hash", metric, "params", "macs", "latency_ms")}
            | ({k: r.get(k) for k in ("error_lo", "error_hi")} if metric == "error" else {})
            for r in top_k(rows, metric, args.top)
        ],
    }
    if args.json:
        print_json(summary)
    else:
        _print_summary(summary, metric)
    counts = result.counts()
    return 1 if counts.get("failed") or counts.get("cut_short") else 0


class _Progress:
    """One line per event on stderr."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.done = 0

    def update(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "sampled":
            print(
                f"sampled {event['accepted']}/{event['requested']} designs in {event['draws']} "
                f"draws ({event['seconds']:.2f} s)",
                file=self.stream,
            )
        elif kind == "sample" and event.get("attempts"):
            self.done += 1
            what = event["status"] + (f": {event['failure']}" if event.get("failure") else "")
            print(f"[{self.done}] sample {event['index']} {event['hash']} {what}", file=self.stream)


def _print_summary(summary: dict[str, Any], metric: str) -> None:
    s = summary["sampling"]
    print(
        f"space {summary['space']}: {s['accepted']} of {s['requested']} samples kept from "
        f"{s['draws']} draws (seed {s['seed']}){'; space exhausted' if s['exhausted'] else ''}"
    )
    for reason, count in s["rejected"].items():
        print(f"  rejected {count:>7}  {reason}")
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items())
    print(f"state {summary['state']}: {counts} in {summary['seconds']} s")
    if summary["top"]:
        print(f"top {len(summary['top'])} by {metric}:")
        for r in summary["top"]:
            value = r.get(metric)
            shown = f"{value:.4f}" if metric == "error" else units.count(value)
            if metric == "error" and r.get("error_lo") is not None:
                shown += f" [{r['error_lo']:.4f}, {r['error_hi']:.4f}]"
            params, macs = units.count(r["params"]), units.count(r["macs"])
            print(f"  #{r['index']:<6} {r['hash']}  {metric} {shown}  params {params}  MACs {macs}")
    if summary["out"]:
        print(f"results: {summary['out']}")
