"""The home page's block diagram, which is the only part of that page that needs PyTorch.

On a fresh server, the page draws its figures and the editor without PyTorch. The block
waits for the warm-up (`ui.warm`) to import PyTorch and the tracer: a note polls the warm-up
until it is ready, then reruns the page, which draws the block. On a warm server the block is
drawn at once. The note has the key ``block_wait``; browser tests wait until it is gone.
"""

from __future__ import annotations

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.ui import warm

#: How often the note asks whether PyTorch is ready.
POLL_S = 0.5


def block_section(design: Design) -> None:
    """The stage and block pickers and the block's diagram, or the note while PyTorch loads."""
    if warm.tracer_ready():
        from resnet_explorer.ui import diagram_view

        stage, block = diagram_view.block_picker(design, "home")
        diagram_view.show_block(design, stage, block)
        return
    warm.start()
    _wait_for_tracer()


@st.fragment(run_every=POLL_S)
def _wait_for_tracer() -> None:
    if warm.tracer_ready():
        st.rerun()  # the whole page, which now draws the block
    with st.container(key="block_wait"):
        st.info(
            "Loading PyTorch to trace this block (a fresh server's first page; the figures "
            "need no PyTorch and are already exact)...",
            icon=":material/hourglass_top:",
        )
