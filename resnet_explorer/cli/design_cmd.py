"""``design``: print the canonical design of a preset, file or share link."""

from __future__ import annotations

import argparse

from resnet_explorer.analysis.analytic import totals
from resnet_explorer.cli.common import load_design, print_json, schema


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("design", help="print the canonical design of NAME or FILE.json")
    parser.add_argument("ref", metavar="NAME|FILE.json|v1.TOKEN")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    label, design = load_design(args.ref)
    counts = totals(design)
    if args.json:
        print_json(
            {
                "schema": schema("design"),
                "name": label,
                "hash": design.hash,
                "url_token": design.to_url(),
                "params": counts.params,
                "macs": counts.macs,
                "design": design.to_dict(),
            }
        )
        return 0
    print(design.to_json(indent=2))
    print(f"# {label}: hash {design.hash}, {counts.params:,} parameters, {counts.macs:,} MACs")
    return 0
