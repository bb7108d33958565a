"""Diagram widgets: network and block diagrams (DOT rendered in the browser), downloads."""

from __future__ import annotations

import hashlib

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
from resnet_explorer.diagrams.network import network_rows
from resnet_explorer.errors import DesignError


@st.cache_data(max_entries=128, show_spinner=False)
def _network_dot(design_json: str, depth: int, expand: int | None, rankdir: str, title: str) -> str:
    design = Design.from_json(design_json)
    graph = network_diagram(design, depth=depth, expand_stage=expand, rankdir=rankdir, title=title)
    return graph.source


@st.cache_data(max_entries=64, show_spinner=False)
def _network_rows(design_json: str, depth: int, expand: int | None, title: str) -> list[str]:
    design = Design.from_json(design_json)
    rows = network_rows(design, depth=depth, expand_stage=expand, title=title)
    return [graph.source for graph in rows]


@st.cache_data(max_entries=256, show_spinner=False)
def _block_dot(design_json: str, stage: int, block: int, rankdir: str) -> str:
    return block_diagram(Design.from_json(design_json), stage, block, rankdir=rankdir).source


@st.cache_data(max_entries=64, show_spinner="Rendering with graphviz...")
def _rendered(dot: str, fmt: str) -> bytes:
    return render(dot, fmt)


def labelled_select(label: str, labels: list[str], key: str, **kwargs) -> int:
    """A selectbox over ``labels`` that returns the index picked; the labels are always the
    current ones (a widget keyed only by ``key`` would keep showing labels of an earlier
    design), and the pick is kept by index while they change."""
    index = min(st.session_state.get(key, 0), len(labels) - 1)
    digest = hashlib.sha1("\x1f".join(labels).encode()).hexdigest()[:10]
    picked = st.selectbox(label, labels, index=index, key=f"{key}_{digest}", **kwargs)
    st.session_state[key] = labels.index(picked)
    return st.session_state[key]


def block_picker(design: Design, key: str) -> tuple[int, int]:
    """Stage and block selectors (from 0) for ``design``."""
    left, right = st.columns([3, 2])
    with left:
        stage = labelled_select(
            "Stage",
            [
                f"layer{i + 1} · {design.block_type(i)} x {s.blocks}"
                for i, s in enumerate(design.stages)
            ],
            f"{key}_stage",
        )
    count = design.stages[stage].blocks
    with right:
        block = labelled_select(
            "Block",
            [f"{j}" + (" (first)" if j == 0 else "") for j in range(count)],
            f"{key}_block",
            help="the first block of a stage changes the stride and width: its shortcut differs",
        )
    return stage, block


def show_block(design: Design, stage: int, block: int, rankdir: str = "TB") -> str | None:
    """Draw one block; returns its DOT (None when it could not be drawn)."""
    try:
        dot = _block_dot(design.to_json(), stage, block, rankdir)
    except (DiagramError, DesignError) as exc:
        st.error(f"Cannot draw this block: {exc}")
        return None
    st.graphviz_chart(dot, width="content")
    return dot


def show_network(
    design: Design, depth: int, expand: int | None, rankdir: str, title: str
) -> str | None:
    """Draw the network; returns its DOT (None when it failed). Left to right, each row is
    its own chart, stacked like wrapped text (one wide chart, shrunk to fit, was a strip);
    every operation (depth 2) is drawn at full size with a scroll bar where it is wider."""
    try:
        dot = _network_dot(design.to_json(), depth, expand, rankdir, title)
        rows = _network_rows(design.to_json(), depth, expand, title) if rankdir == "LR" else [dot]
    except (DiagramError, DesignError) as exc:
        st.error(f"Cannot draw this network: {exc}")
        return None
    with st.container(key="full_size_diagram" if depth == 2 or expand is not None else None):
        for row in rows:
            st.graphviz_chart(row, width="content")
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
