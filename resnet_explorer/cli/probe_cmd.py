"""``probe``: train designs briefly on the same batches and compare how they train."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from resnet_explorer.cli.common import CliError, load_design, print_json, schema
from resnet_explorer.cli.study_args import PROBE_OPTIONS, given

if TYPE_CHECKING:
    from resnet_explorer.probes.events import ProbeEvent


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "probe",
        help="train designs briefly and compare their training curves",
        description="Train each design for N steps or T seconds on the same seeded batches. "
        "Progress goes to stderr, the summary table (or --json) to stdout.",
    )
    parser.add_argument("refs", nargs="*", metavar="NAME|FILE.json|v1.TOKEN")
    parser.add_argument(
        "--experiment",
        metavar="NAME",
        help="a ready-made comparison: degradation, depth-ladder, activation_order, "
        "shortcut_options, zero_init, basic_vs_bottleneck",
    )
    parser.add_argument(
        "--depth",
        type=int,
        help="CIFAR depth of the experiment's deeper net (degradation: 32, 44, 56 or 110); "
        "refused with a message where the experiment has none to set",
    )
    parser.add_argument(
        "--depths", metavar="20,32,44,56", help="the depth ladder's depths (comma-separated)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help="train each design with this many seeds (seed, seed+1, ...): curves, intervals "
        "and verdicts across them; default 3 (5 on a GPU), 1 for a single run",
    )
    parser.add_argument("--dataset", help="mnist (offline default), cifar10, synthetic or a DIR")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps per design")
    budget.add_argument("--seconds", type=float, help="training seconds per design")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--optimizer", choices=["sgd", "adamw"])
    parser.add_argument("--lr", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--image-size", type=int, help="train at this input size (for speed)")
    parser.add_argument("--eval-every", type=int, help="held-out eval every N steps (0 = end)")
    parser.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads (default: every core)")
    parser.add_argument("--json-out", metavar="FILE.jsonl", help="write every event as JSON lines")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --json-out")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.probes import ProbeConfig, ProbeError, experiments
    from resnet_explorer.probes.runner import Probe

    designs: list[tuple[str, Any]] = []
    settings: dict[str, Any] = {"seeds": experiments.default_seeds()}
    exp = None
    try:
        if args.experiment:
            exp = experiments.get(args.experiment, args.depth, depths=_depths(args.depths))
            designs.extend(exp.designs)
            settings.update(exp.config)
        elif args.depth is not None or args.depths is not None:
            raise CliError("--depth and --depths go with --experiment")
        designs.extend(load_design(ref) for ref in args.refs)
        if not designs:
            raise CliError("give at least one design (NAME|FILE.json|v1.TOKEN) or --experiment")
        explicit = given(args, PROBE_OPTIONS)
        if "seconds" in explicit:
            settings["steps"] = None
        settings.update(explicit)
        config = ProbeConfig.from_dict(settings)
        probe = Probe(designs, config)
    except ProbeError as exc:
        raise CliError(str(exc)) from None

    out_file = _open_jsonl(args.json_out, force=args.force)
    bar = _Progress(sys.stderr, config, enabled=not args.no_progress)
    events = probe.events()
    code = 0
    try:
        for event in events:
            bar.update(event)
            if out_file is not None:
                _write_line(out_file, args.json_out, {"schema": schema("probe"), **event})
    except KeyboardInterrupt:
        events.close()
        bar.finish()
        print("interrupted: the summary shows what was recorded", file=sys.stderr)
        code = 130
    except CliError:
        events.close()  # the events file cannot be written: stop training now
        raise
    finally:
        if out_file is not None:
            _close(out_file, args.json_out)
    bar.finish()
    summaries = probe.result.summaries()
    statistics = probe.result.statistics()
    found = exp.finding(statistics) if exp is not None else None
    if args.json:
        doc = {
            "schema": schema("probe"),
            "status": probe.result.status if code == 0 else "cancelled",
            "config": config.to_dict(),
            "dataset": probe.result.dataset,
            "designs": summaries,
            "statistics": statistics,
        }
        if found is not None:
            doc["finding"] = found
        print_json(doc)
    else:
        _print_table(summaries, probe.result.dataset, seeds=config.seeds)
        _print_statistics(statistics, found, seeds=config.seeds)
    if code:
        return code
    return 1 if any(s["status"] in ("failed", "oom") for s in summaries) else 0


def _depths(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"--depths {text!r}: give depths separated by commas, e.g. 20,32,44,56"
        ) from None


def _open_jsonl(path: str | None, *, force: bool) -> TextIO | None:
    """The ``--json-out`` file: a new file, or a regular one replaced with ``--force``; never a
    device node, FIFO or socket (`files.open_output`)."""
    if path is None:
        return None
    from resnet_explorer.files import open_output

    return open_output(path, force=force, what="events file", error=CliError)


def _write_line(out: TextIO, path: str, record: dict[str, Any]) -> None:
    try:
        out.write(json.dumps(record) + "\n")
        out.flush()  # a full disk shows at once, not at the end of the run
    except OSError as exc:
        raise CliError(f"cannot write events file {path!r}: {exc.strerror or exc}") from None


def _close(out: TextIO, path: str) -> None:
    try:
        out.close()
    except OSError as exc:
        raise CliError(f"cannot write events file {path!r}: {exc.strerror or exc}") from None


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _print_table(rows: list[dict[str, Any]], dataset: dict[str, Any], *, seeds: int) -> None:
    print(
        f"dataset {dataset['name']}: {dataset['train']} train / {dataset['held_out']} held-out "
        "images; train loss/acc = mean over the last tenth of the steps"
    )
    seed_col = f"{'seed':>5} " if seeds > 1 else ""
    header = (
        f"{'design':16} {seed_col}{'status':9} {'steps':>6} {'train loss':>10} {'train acc':>9} "
        f"{'held loss':>9} {'held acc':>8} {'img/s':>8} {'seconds':>8}"
    )
    print(header)
    for r in rows:
        status = r["status"] + (f"@{r['diverged_at']}" if r["diverged_at"] else "")
        seed = f"{r['seed']:>5} " if seeds > 1 else ""
        print(
            f"{r['label'][:16]:16} {seed}{status:9} {r['steps']:>6} "
            f"{_fmt(r['final_train_loss'], '.4f'):>10} {_fmt(r['final_train_acc'], '.3f'):>9} "
            f"{_fmt(r['held_out_loss'], '.4f'):>9} {_fmt(r['held_out_acc'], '.3f'):>8} "
            f"{_fmt(r['images_per_s'], ',.0f'):>8} {r['train_seconds']:>8.1f}"
        )
    for r in rows:
        if r["error"]:
            print(f"{r['label']}: {r['error']}")


def _print_statistics(statistics: dict[str, Any], found: dict | None, *, seeds: int) -> None:
    """Per design the mean and interval over the seeds, the verdicts, the depth ladder's table,
    the experiment's finding."""
    from resnet_explorer.probes import experiments

    if seeds < 2:
        if found is not None and found["sentence"]:
            print(f"\n{found['sentence']}")
        return
    print(f"\nacross {seeds} seeds: mean [interval]")
    print(f"{'design':16} {'final train loss':>32} {'held-out acc':>28}  interval")
    for label, d in statistics["designs"].items():
        loss, acc = d.get("final_train_loss"), d.get("held_out_acc")
        print(
            f"{label[:16]:16} {_interval(loss, '.4f'):>32} {_interval(acc, '.3f'):>28}  "
            f"{(loss or acc or {}).get('method', '')}"
        )
    print("\nverdicts (final training loss):")
    for v in statistics["verdicts"]:
        if v["metric"] == "final_train_loss":
            print(f"  {v['text']}")
    points = experiments.ladder(statistics)
    if found is not None and all(points.values()):
        _print_ladder(points)
    if found is not None and found["sentence"]:
        print(f"\n{found['sentence']}")


def _print_ladder(points: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    """The depth ladder: final training loss against depth, plain and residual side by side."""
    plain, resnet = dict(points["plain"]), dict(points["resnet"])
    print("\ndepth ladder, final training loss, mean [interval]:")
    print(f"{'depth':>5} {'plain':>28} {'residual (option A)':>28}")
    for depth in sorted(set(plain) | set(resnet)):
        print(
            f"{depth:>5} {_interval(plain.get(depth), '.4f'):>28} "
            f"{_interval(resnet.get(depth), '.4f'):>28}"
        )


def _interval(d: dict[str, Any] | None, spec: str) -> str:
    if not d:
        return "-"
    if d["n"] < 2:
        return format(d["mean"], spec)
    return f"{d['mean']:{spec}} [{d['lo']:{spec}}, {d['hi']:{spec}}]"


class _Progress:
    """A one-line progress bar on a terminal; plain lines per design elsewhere."""

    WIDTH = 24

    def __init__(self, stream: TextIO, config: Any, *, enabled: bool) -> None:
        self.stream = stream
        self.config = config
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.last = 0.0
        self.open = False

    def update(self, event: ProbeEvent) -> None:
        from resnet_explorer.probes.events import DesignEnd, Step

        if not self.enabled:
            return
        if isinstance(event, Step) and self.tty and time.monotonic() - self.last > 0.1:
            self.last = time.monotonic()
            cfg = self.config
            parts = []
            if cfg.steps:
                parts.append(event.step / cfg.steps)
            if cfg.seconds:
                parts.append(event.elapsed / cfg.seconds)
            frac = min(1.0, max(parts))
            done = int(frac * self.WIDTH)
            line = (
                f"\r{event.label[:16]:16} [{'#' * done}{'.' * (self.WIDTH - done)}] "
                f"{frac:4.0%} step {event.step} loss {_fmt(event.loss, '.3f')} acc {event.acc:.2f}"
            )
            self.stream.write(line.ljust(78)[:100])
            self.stream.flush()
            self.open = True
        elif isinstance(event, DesignEnd):
            self.finish()
            s = event.summary
            self.stream.write(
                f"{event.label[:16]:16} {event.status} ({event.reason}), "
                f"train loss {_fmt(s['final_train_loss'], '.4f')}, "
                f"{s['train_seconds']:.1f} s\n"
            )
            self.stream.flush()

    def finish(self) -> None:
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False
