"""``lesion``: train designs briefly, then remove one block at a time (Veit et al. 2016)."""

from __future__ import annotations

import argparse
from typing import Any

from resnet_explorer.cli.common import CliError, print_json, schema
from resnet_explorer.cli.study_args import add_study_parser, train


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_study_parser(
        sub,
        "lesion",
        help="remove one block at a time from briefly trained designs (Veit et al. 2016)",
        study="replace each block in turn by its shortcut (a plain block by the identity, where "
        "its shape allows) and measure the held-out accuracy",
        handler=run,
    )
    parser.add_argument("--images", type=int, default=1000, help="held-out images to evaluate")


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.probes.lesion import study

    if not 1 <= args.images <= 100_000:
        raise CliError(f"--images {args.images}: must be 1..100000")
    probe = train(args)
    result = study(probe, images=args.images)
    if args.json:
        print_json({"schema": schema("lesion"), "training": probe.config.to_dict(), **result})
    else:
        _print(result)
    return 0 if all(d["lesion"] is not None for d in result["designs"]) else 1


def _print(result: dict[str, Any]) -> None:
    print(f"held-out accuracy with one block removed ({result['images']} images)")
    for d in result["designs"]:
        les = d["lesion"]
        if les is None:
            print(f"{d['label']}: no trained model ({d['train_status']})")
            continue
        mean = les["mean_acc"]
        print(
            f"\n{d['label']} (depth {d['depth']}, shortcut {d['shortcut']}): intact "
            f"{les['baseline']['acc']:.3f}; mean with one removed "
            f"{'-' if mean is None else format(mean, '.3f')} over {les['removed']} blocks"
            + (f", {les['skipped']} not removable" if les["skipped"] else "")
        )
        for b in les["blocks"]:
            if b["acc"] is None:
                print(f"  {b['name']:10} skipped: {b['how']}")
            else:
                print(f"  {b['name']:10} {b['acc']:.3f} ({-b['acc_drop']:+.3f})")
