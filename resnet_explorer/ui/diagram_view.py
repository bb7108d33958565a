"""Diagram widgets: network and block diagrams (DOT rendered in the browser), downloads."""

from __future__ import annotations

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.diagrams import (
    DiagramError,
    RenderError,
    block_diagram,
    dot_available,
    network_diagram,
    render,
)
from resnet_explorer.errors import DesignError


@st.cache_data(max_entries=128, show_spinner=False)
def _network_dot(design_json: str, depth: int, expand: int | None, rankdir: str) -> str:
    design = Design.from_json(design_json)
    return network_diagram(design, depth=depth, expand_stage=expand, rankdir=rankdir).source


@st.cache_data(max_entries=256, show_spinner=False)
def _block_dot(design_json: str, stage: int, block: int, rankdir: str) -> str:
    return block_diagram(Design.from_json(design_json), stage, block, rankdir=rankdir).source


@st.cache_data(max_entries=64, show_spinner="Rendering with graphviz...")
def _rendered(dot: str, fmt: str) -> bytes:
    return render(dot, fmt)


def block_picker(design: Design, key: str) -> tuple[int, int]:
    """Stage and block selectors (from 0) for ``design``."""
    left, right = st.columns(2)
    stage = left.selectbox(
        "Stage",
        range(len(design.stages)),
        format_func=lambda i: (
            f"layer{i + 1} ({design.block_type(i)}, {design.stages[i].blocks} blocks)"
        ),
        key=f"{key}_stage",
    )
    stage = min(stage, len(design.stages) - 1)  # the design may have lost stages since
    count = design.stages[stage].blocks
    block = right.selectbox(
        "Block",
        range(count),
        format_func=lambda j: f"{j} (first: stride and shortcut change)" if j == 0 else str(j),
        key=f"{key}_block",
    )
    return stage, min(block, count - 1)


def show_block(design: Design, stage: int, block: int, rankdir: str = "TB") -> str | None:
    """Draw one block; returns its DOT (None when it could not be drawn)."""
    try:
        dot = _block_dot(design.to_json(), stage, block, rankdir)
    except (DiagramError, DesignError) as exc:
        st.error(f"Cannot draw this block: {exc}")
        return None
    st.graphviz_chart(dot, width="content")
    return dot


def show_network(design: Design, depth: int, expand: int | None, rankdir: str) -> str | None:
    try:
        dot = _network_dot(design.to_json(), depth, expand, rankdir)
    except (DiagramError, DesignError) as exc:
        st.error(f"Cannot draw this network: {exc}")
        return None
    st.graphviz_chart(dot, width="content")
    return dot


def downloads(dot: str, name: str) -> None:
    """DOT always; SVG and PNG through the ``dot`` program, or a message saying it is missing."""
    cols = st.columns(3)
    cols[0].download_button(
        "DOT",
        dot,
        file_name=f"{name}.dot",
        mime="text/vnd.graphviz",
        icon=":material/download:",
        key=f"dl_dot_{name}",
    )
    if not dot_available():
        cols[1].caption(
            "SVG and PNG export need graphviz's `dot` program (Debian: `apt-get install graphviz`)."
        )
        return
    for col, fmt, mime in ((cols[1], "svg", "image/svg+xml"), (cols[2], "png", "image/png")):
        try:
            data = _rendered(dot, fmt)
        except RenderError as exc:
            col.error(str(exc))
            continue
        col.download_button(
            fmt.upper(),
            data,
            file_name=f"{name}.{fmt}",
            mime=mime,
            icon=":material/download:",
            key=f"dl_{fmt}_{name}",
        )
