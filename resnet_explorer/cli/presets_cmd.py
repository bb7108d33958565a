"""``presets``: list the ready-made designs with their published and counted figures."""

from __future__ import annotations

import argparse

from resnet_explorer import presets
from resnet_explorer.analysis.analytic import totals
from resnet_explorer.cli.common import print_json, schema
from resnet_explorer.units import count


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("presets", help="list the preset designs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def preset_record(name: str) -> dict:
    preset = presets.info(name)
    counts = totals(preset.design)
    return {
        "name": name,
        "title": preset.title,
        "family": preset.family,
        "source": preset.source,
        "hash": preset.design.hash,
        "params": counts.params,
        "macs": counts.macs,
        "published": {
            "params": preset.params,
            "macs": preset.macs,
            "fvcore": preset.fvcore,
            "results": [
                {"metric": r.metric, "value": r.value, "source": r.source} for r in preset.results
            ],
        },
        "matches_published": preset.matches(counts.params, counts.macs),
        "torchvision": preset.torchvision,
        "timm": preset.timm,
    }


def run(args: argparse.Namespace) -> int:
    records = [preset_record(name) for name in presets.names()]
    if args.json:
        print_json({"schema": schema("presets"), "presets": records})
        return 0
    print(f"{'name':20} {'params':>12} {'MACs':>10}  matches  title")
    for r in records:
        mark = {True: "yes", False: "NO", None: "-"}[r["matches_published"]]
        print(f"{r['name']:20} {r['params']:>12,} {count(r['macs']):>10}  {mark:7}  {r['title']}")
    return 0
