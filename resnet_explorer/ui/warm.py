"""Warm what the pages need, once per server process, in a background thread.

The first page of a fresh server pays for importing torch and drawing its own figures; once
it is drawn (`ui.page.finish`), this imports what the other pages need (fvcore, torchinfo,
plotly, the store, the probes) so that the next click does not wait. It runs no model: torch
keeps process-wide state while it traces or dispatches (fx patches every module's call), so a
forward pass here could collide with a page's own.
"""

from __future__ import annotations

import logging
import threading

_STARTED = threading.Event()
_DONE = threading.Event()
_LOG = logging.getLogger(__name__)
#: What the pages import beyond the first page's needs.
_MODULES = (
    "fvcore.nn",
    "torchinfo",
    "plotly.graph_objects",
    "plotly.subplots",
    "resnet_explorer.analysis",
    "resnet_explorer.report",
    "resnet_explorer.store",
    "resnet_explorer.explore",
    "resnet_explorer.probes",
)


def start() -> None:
    """Start warming (once per process; later calls do nothing)."""
    if _STARTED.is_set():
        return
    _STARTED.set()
    threading.Thread(target=_warm, name="resnet-explorer-warm-up", daemon=True).start()


def done() -> bool:
    """Whether the warm-up has finished."""
    return _DONE.is_set()


def _warm() -> None:
    try:
        import importlib

        for name in _MODULES:
            importlib.import_module(name)
        from resnet_explorer import presets
        from resnet_explorer.analysis.analytic import layer_counts

        for name in presets.names():  # analytic counts: pure arithmetic, cached
            layer_counts(presets.get(name))
    except Exception:  # warming is best effort: the pages compute what they need anyway
        _LOG.exception("warm-up failed")
    finally:
        _DONE.set()
