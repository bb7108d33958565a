"""``diagram``: draw a design's network, one of its blocks, or its diff with another design."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from resnet_explorer.cli.common import CliError, load_design, print_json, schema
from resnet_explorer.files import check_output, write_file

_BLOCK = re.compile(r"^(?:layer(?P<layer>\d+)|(?P<stage>\d+))\.(?P<block>\d+)$")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diagram",
        help="draw the network, a block (--block) or a diff (--compare) as DOT, SVG or PNG",
    )
    parser.add_argument("ref", metavar="NAME|FILE.json|v1.TOKEN")
    parser.add_argument(
        "--block",
        metavar="STAGE.BLOCK",
        help="draw one block: STAGE.BLOCK counted from 0 (2.0) or its module name (layer3.0)",
    )
    parser.add_argument("--depth", type=int, default=0, help="0 stages, 1 blocks, 2 operations")
    parser.add_argument("--stage", type=int, help="expand only this stage (from 0)")
    parser.add_argument("--compare", metavar="OTHER", help="draw the diff with another design")
    parser.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="layout direction")
    parser.add_argument(
        "--format", choices=["dot", "svg", "png", "pdf"], help="default: from -o, else dot"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--json", action="store_true", help="print a JSON summary with the DOT")
    parser.set_defaults(handler=run)


def parse_block(text: str) -> tuple[int, int]:
    """'2.0' -> (2, 0); 'layer3.0' -> (2, 0)."""
    match = _BLOCK.match(text.strip())
    if not match:
        raise CliError(f"--block {text!r}: use STAGE.BLOCK counted from 0 (2.0) or layer3.0")
    stage = int(match["stage"]) if match["stage"] is not None else int(match["layer"]) - 1
    if stage < 0:
        raise CliError(f"--block {text!r}: layers are numbered from layer1")
    return stage, int(match["block"])


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.diagrams import block_diagram, diff_diagram, network_diagram, render

    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output else "dot")
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise CliError(f"cannot tell the format from {args.output!r}; pass --format")
    fmt = "dot" if fmt == "gv" else fmt
    if fmt in ("png", "pdf") and not args.output and not args.json and sys.stdout.isatty():
        raise CliError(f"{fmt.upper()} is binary: write it to a file with -o FILE")
    if args.block and args.compare:
        raise CliError("--block and --compare cannot be combined")
    if args.output:  # refuse before the work (the rules: resnet_explorer.files)
        check_output(args.output, force=args.force, what="diagram file")
    label, design = load_design(args.ref)
    if args.compare:
        other_label, other = load_design(args.compare)
        graph = diff_diagram(
            design,
            other,
            names=(label, other_label),
            depth=args.depth,
            expand_stage=args.stage,
            rankdir=args.rankdir,
        )
        kind = "diff"
    elif args.block:
        stage, block = parse_block(args.block)
        graph = block_diagram(design, stage, block, rankdir=args.rankdir)
        kind = "block"
    else:
        graph = network_diagram(
            design, depth=args.depth, expand_stage=args.stage, rankdir=args.rankdir
        )
        kind = "network"
    data = render(graph, fmt)  # a RenderError (dot failed) exits 1 with its message
    if args.output:
        write_file(args.output, data, force=args.force, what="diagram file")
    if args.json:
        source = graph.source
        print_json(
            {
                "schema": schema("diagram"),
                "kind": kind,
                "name": label,
                "hash": design.hash,
                "compare": args.compare and {"name": other_label, "hash": other.hash},
                "format": fmt,
                "output": args.output,
                "bytes": len(data),
                "dot": source,
            }
        )
    elif not args.output:
        if fmt in ("png", "pdf"):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            text = data.decode()
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        print(f"wrote {args.output} ({len(data):,} bytes, {kind} diagram of {label})")
    return 0
