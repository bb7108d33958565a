"""Block and network diagrams, drawn from the model that was built (traced with torch.fx).

``block_diagram``, ``network_diagram`` and ``diff_diagram`` return a ``graphviz.Digraph`` (its
``.source`` is DOT, which the app renders in the browser); ``render`` exports SVG / PNG / PDF
through the ``dot`` program. The traced structure is cached per design, so redrawing is cheap.
The names that need PyTorch (the diagrams and the trace) are imported on first use
(`lazy.exports`); export and its errors need none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resnet_explorer.diagrams.errors import DiagramError, DotNotFoundError, RenderError
from resnet_explorer.diagrams.render import FORMATS, dot_available, render
from resnet_explorer.lazy import exports

if TYPE_CHECKING:
    from resnet_explorer.diagrams.block import block_diagram
    from resnet_explorer.diagrams.diff import diff_diagram
    from resnet_explorer.diagrams.network import network_diagram
    from resnet_explorer.diagrams.trace import BlockTrace, NetworkTrace, TracedOp, trace_network

__all__ = [
    "FORMATS",
    "BlockTrace",
    "DiagramError",
    "DotNotFoundError",
    "NetworkTrace",
    "RenderError",
    "TracedOp",
    "block_diagram",
    "diff_diagram",
    "dot_available",
    "network_diagram",
    "render",
    "trace_network",
]
_MODULES = {
    "block": ("block_diagram",),
    "diff": ("diff_diagram",),
    "network": ("network_diagram",),
    "trace": ("BlockTrace", "NetworkTrace", "TracedOp", "trace_network"),
}
__getattr__ = exports(
    __name__, {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}
)
