"""``landscape``: train designs briefly, then slice the loss surface around their weights."""

from __future__ import annotations

import argparse
from typing import Any

from resnet_explorer.cli.common import CliError, print_json, schema
from resnet_explorer.cli.study_args import add_study_parser, given, train

#: The arguments that are `LandscapeSpec` settings of the same names.
_SPEC_OPTIONS = ("line", "plane", "span", "images", "points_per_batch")


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_study_parser(
        sub,
        "landscape",
        help="loss-landscape slices (Li et al. 2018) around briefly trained designs",
        study="evaluate the held-out loss along one filter-normalised random direction (a line) "
        "and on a plane of two, around the trained weights",
        handler=run,
    )
    parser.add_argument("--line", type=int, default=21, help="points on the line (0 = none)")
    parser.add_argument("--plane", type=int, default=9, help="plane points a side (0 = none)")
    parser.add_argument("--span", type=float, default=1.0, help="coefficients over [-span, span]")
    parser.add_argument("--images", type=int, default=256, help="held-out images per point")
    parser.add_argument("--eval-batch", type=int, default=256, help="images per forward pass")
    parser.add_argument(
        "--points-per-batch",
        type=int,
        help="grid points per forward pass (vmap; default 1 on the CPU, 8 on a GPU)",
    )


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.probes import ProbeError
    from resnet_explorer.probes.landscape import LandscapeSpec, study

    try:
        spec = LandscapeSpec(
            **given(args, _SPEC_OPTIONS), batch_size=args.eval_batch, seed=args.seed or 0
        )
    except ProbeError as exc:
        raise CliError(str(exc)) from None
    probe = train(args)
    result = study(probe, spec)
    if args.json:
        print_json(
            {
                "schema": schema("landscape"),
                "training": probe.config.to_dict(),
                **result,
            }
        )
    else:
        _print(result)
    return 0 if all(d["landscape"] is not None for d in result["designs"]) else 1


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _print(result: dict[str, Any]) -> None:
    spec = result["spec"]
    print(
        f"loss along filter-normalised random directions, {spec['images']} held-out images, "
        f"coefficients in [-{spec['span']:g}, {spec['span']:g}]"
    )
    for d in result["designs"]:
        ls = d["landscape"]
        if ls is None:
            print(f"{d['label']}: no trained model ({d['train_status']})")
            continue
        c = ls["center"]
        print(
            f"\n{d['label']} (depth {d['depth']}, shortcut {d['shortcut']}): loss {_fmt(c['loss'])}"
            f", acc {c['acc']:.3f} at the trained weights; {ls['seconds']:.1f} s"
        )
        if ls["line"]:
            line = ls["line"]
            print("  line  a:   " + " ".join(f"{a:>7.2f}" for a in line["alphas"]))
            print("  line  loss:" + " ".join(f"{_fmt(v):>7}" for v in line["loss"]))
        if ls["plane"]:
            plane = ls["plane"]
            flat = [v for row in plane["loss"] for v in row if v is not None]
            print(
                f"  plane {len(plane['alphas'])}x{len(plane['betas'])}: loss min {_fmt(min(flat))}"
                f", max {_fmt(max(flat))}"
            )
