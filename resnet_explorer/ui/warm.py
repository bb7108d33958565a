"""Warm what the pages need, once per server process, in a background thread.

The warm-up first imports PyTorch and the tracer and traces the default design, whose block
the home page draws (the trace is cached; its first run also imports torch's lazily loaded
decompositions): `tracer_ready` then says so, and the home page, which draws its figures
without PyTorch, draws its block. Then it imports what the other pages need (fvcore,
torchinfo, plotly, the store, the probes) and computes every preset's analytic counts.

It starts with the server where the app is started by its launcher (`ui.serve`, which
`scripts/run-app.sh` uses: `at_server_start`), else with the first page a session asks for
(`start`). Tracing here is safe beside a page's own: the tracer leaves other threads'
forward passes alone, and traces one at a time.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import time

_STARTED = threading.Event()
_TRACER_READY = threading.Event()
_DONE = threading.Event()
_LOG = logging.getLogger(__name__)
#: What the home page's block diagram needs. (No `ui` module here: imported before the
#: server's runtime exists, their caches would log that they fall back to memory.)
_TRACER = ("torch", "resnet_explorer.diagrams.trace", "resnet_explorer.diagrams.block")
#: What the other pages import.
_MODULES = (
    "pandas",
    "fvcore.nn",
    "torchinfo",
    "plotly.graph_objects",
    "plotly.subplots",
    "resnet_explorer.analysis",
    "resnet_explorer.report",
    "resnet_explorer.store",
    "resnet_explorer.explore",
    "resnet_explorer.probes.runner",
    "resnet_explorer.probes.jobs",
)
#: How long the launcher's warm-up waits for Streamlit's server to come up before it starts
#: anyway.
_SERVER_WAIT_S = 60.0


def at_server_start() -> None:
    """Warm as the server starts: once Streamlit's runtime is up (so that the server answers
    first), without waiting for a browser."""
    _start(wait_for_server=True)


def start() -> None:
    """Start warming (once per process; later calls do nothing)."""
    _start(wait_for_server=False)


def tracer_ready() -> bool:
    """Whether PyTorch and the tracer are imported, so that a block is drawn without waiting
    for them (True also where something else imported them, as in a test process)."""
    if _TRACER_READY.is_set():
        return True
    return all(_imported(name) for name in _TRACER)


def done() -> bool:
    """Whether the warm-up has finished."""
    return _DONE.is_set()


def _imported(name: str) -> bool:
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


def _start(wait_for_server: bool) -> None:
    if _STARTED.is_set():
        return
    _STARTED.set()
    threading.Thread(
        target=_warm, args=(wait_for_server,), name="resnet-explorer-warm-up", daemon=True
    ).start()


def _warm(wait_for_server: bool) -> None:
    # The lowest CPU priority for this thread alone (Linux): serving pages comes first.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    try:
        if wait_for_server:
            _wait_for_server()
        for name in _TRACER:
            importlib.import_module(name)
        _trace_default_design()
        _TRACER_READY.set()
        for name in _MODULES:
            importlib.import_module(name)
        from resnet_explorer import presets
        from resnet_explorer.analysis.analytic import layer_counts

        for name in presets.names():  # analytic counts: pure arithmetic, cached
            layer_counts(presets.get(name))
    except Exception:  # warming is best effort: the pages compute what they need anyway
        _LOG.exception("warm-up failed")
    finally:
        _TRACER_READY.set()  # failed or not: a page waiting on it draws (or says why not)
        _DONE.set()


def _wait_for_server() -> None:
    """Until Streamlit's runtime has started (polled: Streamlit offers no start-up hook)."""
    from streamlit import runtime

    deadline = time.monotonic() + _SERVER_WAIT_S
    while time.monotonic() < deadline:
        if runtime.exists() and runtime.get_instance().state.name != "INITIAL":
            return
        time.sleep(0.05)


def _trace_default_design() -> None:
    """The trace the home page's block diagram reads, for the design a new session shows."""
    from resnet_explorer import presets
    from resnet_explorer.diagrams import trace_network

    trace_network(presets.get(presets.DEFAULT))
