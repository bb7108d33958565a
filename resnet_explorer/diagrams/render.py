"""Export: DOT text always; SVG, PNG and PDF through the Graphviz ``dot`` program."""

from __future__ import annotations

import shutil
import subprocess

import graphviz

from resnet_explorer.diagrams.errors import DiagramError, DotNotFoundError, RenderError

FORMATS = ("dot", "svg", "png", "pdf")


def dot_available() -> bool:
    """Whether the ``dot`` program (Debian package ``graphviz``) is on the PATH."""
    return shutil.which("dot") is not None


def render(graph: graphviz.Digraph | str, fmt: str = "svg", *, timeout: float = 60.0) -> bytes:
    """``graph`` as ``fmt`` bytes: ``dot`` (the source, needs nothing), ``svg``, ``png``, ``pdf``.

    Raises `DiagramError` for an unknown format, `DotNotFoundError` where ``dot`` is missing and
    `RenderError` when it fails or takes longer than ``timeout`` seconds.
    """
    if fmt not in FORMATS:
        raise DiagramError(f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    source = graph if isinstance(graph, str) else graph.source
    if fmt == "dot":
        return source.encode()
    dot = shutil.which("dot")
    if dot is None:
        raise DotNotFoundError(
            f"exporting {fmt.upper()} needs the Graphviz 'dot' program, which is not installed: "
            "install the Debian package 'graphviz' (apt-get install graphviz, or "
            "scripts/setup.sh --dev); DOT output (format 'dot') works without it"
        )
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"dot took longer than {timeout:g} s to render the diagram") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise RenderError(f"dot failed (exit {done.returncode}): {message}")
    return done.stdout
