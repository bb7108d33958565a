"""Options and training shared by ``landscape`` and ``lesion``: designs to train briefly, then
study with their trained weights (not a command itself)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from resnet_explorer.cli.common import CliError, load_design

if TYPE_CHECKING:
    from resnet_explorer.probes.events import ProbeEvent

_OPTIONS = (
    "dataset",
    "steps",
    "seconds",
    "batch_size",
    "optimizer",
    "lr",
    "seed",
    "image_size",
    "device",
    "threads",
)


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

    explicit = {k: getattr(args, k) for k in _OPTIONS if getattr(args, k) is not None}
    try:
        designs = [load_design(ref) for ref in args.refs]
        config = ProbeConfig.study(**explicit)  # probes.config.STUDY_TRAINING unless told
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
