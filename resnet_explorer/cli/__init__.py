"""Command-line interface: ``python -m resnet_explorer COMMAND ...``.

Each command lives in its own module ``cli/<name>_cmd.py`` with ``register(subparsers)``
(found by `registry.modules`); the handler it sets returns the process exit code.
``--json`` output is a documented, stable contract (docs/cli.md): every JSON document carries
``"schema"``: ``resnet-explorer/<command>/v<N>``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from resnet_explorer.cli import registry
from resnet_explorer.errors import ResNetExplorerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resnet_explorer",
        description="Compose ResNet-family architectures and see what they are and cost.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in registry.modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 bad input).

    Every error the engine raises on purpose is a `ResNetExplorerError`: caught here, once, and
    printed as ``error: MESSAGE`` on stderr (exit 2, or 1 for a failing tool such as ``dot``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # a bad option: argparse prints usage, SystemExit(2)
    try:
        return int(args.handler(args) or 0)
    except ResNetExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. piped into `head`: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
