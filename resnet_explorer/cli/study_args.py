"""Options and training shared by the commands that train designs (not a command itself):
which arguments are probe settings (``probe``, ``landscape``, ``lesion``), and the study
commands' parser and training (``landscape``, ``lesion``: designs to train briefly, then study
with their trained weights)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from resnet_explorer.cli.common import CliError, load_design

if TYPE_CHECKING:
    from resnet_explorer.probes.events import ProbeEvent

#: The arguments of ``probe`` that are `ProbeConfig` settings of the same names.
PROBE_OPTIONS = (
    "seeds",
    "dataset",
    "steps",
    "seconds",
    "batch_size",
    "optimizer",
    "lr",
    "weight_decay",
    "label_smoothing",
    "seed",
    "image_size",
    "eval_every",
    "device",
    "threads",
)
#: The study commands' (`add_training_options`): probe's but the seeds, weight decay, label
#: smoothing and evaluation schedule (a study trains one seed and evaluates at the end).
_OPTIONS = tuple(
    k for k in PROBE_OPTIONS if k not in ("seeds", "weight_decay", "label_smoothing", "eval_every")
)


def given(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The options among ``names`` that the command line set (those that are not None)."""
    return {k: getattr(args, k) for k in names if getattr(args, k) is not None}


def add_study_parser(
    sub: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    study: str,
    handler: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """The parser of the study command ``name``, run by ``handler``: the designs and how to
    train them (`add_training_options`), then what ``study`` says it does with them."""
    parser = sub.add_parser(
        name,
        help=help,
        description=f"Train each design briefly (as `probe` does), then {study}. Progress on "
        "stderr; the result (or --json) on stdout.",
    )
    add_training_options(parser)
    parser.set_defaults(handler=handler)
    return parser


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Designs and how to train them before the study."""
    parser.add_argument("refs", nargs="+", metavar="NAME|FILE.json|v1.TOKEN")
    parser.add_argument("--dataset", help="mnist (offline default), cifar10, synthetic or a DIR")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps per design (default 200)")
    budget.add_argument("--seconds", type=float, help="training seconds per design")
    parser.add_argument("--batch-size", type=int, help="training batch (default 64)")
    parser.add_argument("--optimizer", choices=["sgd", "adamw"])
    parser.add_argument("--lr", type=float, help="learning rate (default 0.05)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--image-size", type=int, help="train at this input size (default 16)")
    parser.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads (default: every core)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def train(args: argparse.Namespace):
    """Train the designs of ``args`` (a line per design on stderr); the finished `Probe`."""
    from resnet_explorer.probes import ProbeConfig, ProbeError, trained

    try:
        designs = [load_design(ref) for ref in args.refs]
        # probes.config.STUDY_TRAINING, with what the command line set on top
        config = ProbeConfig.study(**given(args, _OPTIONS))
        return trained.train(designs, config, on_event=_progress)
    except ProbeError as exc:
        raise CliError(str(exc)) from None


def _progress(event: ProbeEvent) -> None:
    from resnet_explorer.probes.events import DesignEnd

    if isinstance(event, DesignEnd):
        s = event.summary
        loss = s["final_train_loss"]
        print(
            f"trained {event.label}: {event.status} ({event.reason}), train loss "
            f"{'-' if loss is None else format(loss, '.4f')}, {s['train_seconds']:.1f} s",
            file=sys.stderr,
        )
