"""``report``: one self-contained HTML review report of a design or a comparison (2 to 4)."""

from __future__ import annotations

import argparse
import sys

from resnet_explorer import units
from resnet_explorer.cli.common import CliError, load_design, print_json, schema
from resnet_explorer.files import check_output, write_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="write a self-contained HTML review report of one design or a comparison",
    )
    parser.add_argument(
        "refs",
        nargs="+",
        metavar="DESIGN",
        help="1 to 4 designs: preset names, FILE.json, v1.TOKEN or names saved in the library",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--title", help="the report's title (default: 'Design review: A vs B')")
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="library for saved designs, latency and runs (default as for `library`)",
    )
    parser.add_argument(
        "--no-library", action="store_true", help="do not read the library (no latency, no runs)"
    )
    parser.add_argument(
        "--memory-batch",
        type=int,
        default=32,
        metavar="N",
        help="batch size of the training-memory estimate (default 32; 0 skips it)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary (needs -o)")
    parser.set_defaults(handler=run)


def _store(args: argparse.Namespace):
    from resnet_explorer.store import Store, StoreError, default_path

    if args.no_library:
        return None
    if not args.db and not default_path().exists():
        return None  # no library yet: nothing to read
    try:
        return Store(args.db, create=False, read_only=True)  # a report never writes it
    except StoreError as exc:
        if args.db:  # asked for explicitly: a bad file is an error
            raise
        print(f"warning: library not read: {exc}", file=sys.stderr)
        return None


def _candidate(ref: str, store):
    from resnet_explorer.report import Candidate
    from resnet_explorer.store import StoreError

    try:
        label, design = load_design(ref)
    except CliError:
        saved = None
        if store is not None:
            try:
                saved = store.find_design(ref)
            except StoreError:
                saved = None
        if saved is None:
            raise CliError(
                f"{ref!r} is neither a preset, a design file, a share token nor a design saved "
                "in the library"
            ) from None
        return Candidate(saved.name, saved.design, "library")
    source = "preset" if label == ref else ("link" if ref.startswith("v1.") else "file")
    return Candidate(label, design, source)


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.report import MAX_CANDIDATES, build_report

    if len(args.refs) > MAX_CANDIDATES:
        raise CliError(
            f"a report compares at most {MAX_CANDIDATES} designs; {len(args.refs)} given"
        )
    if args.memory_batch < 0 or args.memory_batch > 4096:
        raise CliError(f"--memory-batch {args.memory_batch}: use 0 (skip) to 4096")
    if args.json and not args.output:
        raise CliError("--json prints a summary; write the report itself with -o FILE")
    if not args.output and sys.stdout.isatty():
        raise CliError("the report is a large HTML file: write it with -o review.html")
    output = args.output
    if output is not None:  # refuse before the work (the rules: resnet_explorer.files)
        check_output(output, force=args.force, what="report file")
    store = _store(args)
    candidates = [_candidate(ref, store) for ref in args.refs]
    text = build_report(
        candidates, store=store, title=args.title, memory_batch=args.memory_batch or None
    )
    if output is None:
        sys.stdout.write(text)
        return 0
    write_file(output, text, force=args.force, what="report file")
    if args.json:
        print_json(
            {
                "schema": schema("report"),
                "output": output,
                "bytes": len(text.encode()),
                "designs": [
                    {"name": c.name, "source": c.source, "hash": c.design.hash} for c in candidates
                ],
            }
        )
    else:
        names = ", ".join(c.name for c in candidates)
        size = units.nbytes(len(text.encode()))
        print(f"wrote {output} ({size}): {names}", file=sys.stderr)
    return 0
