"""The design editor in the sidebar, shared by every page.

Every knob of the `Design` is a widget seeded from the session's design. After the widgets run
their values are assembled into a new `Design`; an invalid combination shows an inline error
naming the field, and the last valid design stays on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import (
    ACTIVATION_ORDER_DESCRIPTIONS,
    ACTIVATION_ORDERS,
    ACTIVATIONS,
    INIT_SCHEMES,
    NORMALIZATIONS,
    SHORTCUT_DESCRIPTIONS,
    SHORTCUTS,
    STEMS,
    Design,
    Stage,
)
from resnet_explorer.errors import DesignError, DesignTooLarge
from resnet_explorer.limits import check_limits
from resnet_explorer.ui import state

SCRATCH = "(scratch)"
SCRATCH_DESIGN = Design(
    image_size=32,
    num_classes=10,
    stem="cifar",
    stem_width=16,
    stages=(Stage(blocks=2, width=16), Stage(blocks=2, width=32, stride=2)),
)
_PREFIX = "ed_"
_START = "ed__start_from"


@dataclass(frozen=True)
class Knob:
    """One scalar field of the design and the widget that edits it."""

    field: str
    label: str
    kind: str  # select | int | float | bool
    options: tuple = ()
    help: str = ""
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None
    format_func: Callable[[Any], str] = str

    @property
    def key(self) -> str:
        return _PREFIX + self.field


KNOB_GROUPS: dict[str, list[Knob]] = {
    "Blocks": [
        Knob(
            "block",
            "Block type",
            "select",
            ("basic", "bottleneck"),
            "basic: two 3x3 convs; bottleneck: 1x1 -> 3x3 -> 1x1 with expansion",
        ),
        Knob(
            "expansion",
            "Bottleneck expansion",
            "int",
            min_value=1,
            max_value=16,
            step=1,
            help="output channels = width x expansion (4 in the paper)",
        ),
        Knob(
            "stride_on",
            "Bottleneck stride on",
            "select",
            ("3x3", "1x1"),
            help="3x3: torchvision's 'v1.5'; 1x1: the original paper",
        ),
        Knob("groups", "Groups (ResNeXt cardinality)", "int", min_value=1, max_value=1024, step=1),
        Knob(
            "width_per_group",
            "Width per group",
            "int",
            min_value=1,
            max_value=4096,
            step=1,
            help="ResNeXt's d; 64 with groups=1 is a plain bottleneck",
        ),
        Knob(
            "width_factor",
            "Width factor (Wide ResNet)",
            "float",
            min_value=0.25,
            max_value=32.0,
            step=0.25,
        ),
    ],
    "Shortcut and activation": [
        Knob(
            "shortcut",
            "Shortcut option",
            "select",
            SHORTCUTS,
            format_func=lambda o: f"{o}: {SHORTCUT_DESCRIPTIONS[o]}",
        ),
        Knob(
            "activation_order",
            "Activation order",
            "select",
            ACTIVATION_ORDERS,
            format_func=lambda o: ACTIVATION_ORDER_DESCRIPTIONS[o],
        ),
        Knob("activation", "Activation function", "select", ACTIVATIONS),
        Knob("norm", "Normalization", "select", NORMALIZATIONS),
    ],
    "Stem and input": [
        Knob(
            "stem",
            "Stem",
            "select",
            STEMS,
            help="imagenet: 7x7/2 conv + max-pool; cifar: 3x3/1 conv; deep: three 3x3 convs",
        ),
        Knob("stem_width", "Stem width", "int", min_value=1, max_value=1024, step=1),
        Knob("in_channels", "Input channels", "int", min_value=1, max_value=64, step=1),
        Knob("image_size", "Image size", "int", min_value=1, max_value=2048, step=1),
        Knob("num_classes", "Classes", "int", min_value=1, max_value=100_000, step=1),
    ],
    "Initialisation and head": [
        Knob("init", "Weight init", "select", INIT_SCHEMES),
        Knob("zero_init_residual", "Zero-init last norm of each branch", "bool"),
        Knob(
            "stochastic_depth",
            "Stochastic depth rate",
            "float",
            min_value=0.0,
            max_value=0.95,
            step=0.05,
        ),
        Knob("final_norm", "Final norm + activation (pre-activation head)", "bool"),
        Knob("dropout", "Dropout before fc", "float", min_value=0.0, max_value=0.95, step=0.05),
    ],
}
KNOBS = [knob for group in KNOB_GROUPS.values() for knob in group]
STAGE_COLUMNS = ["blocks", "width", "stride", "block"]


def _stages_frame(design: Design) -> pd.DataFrame:
    rows = [
        {"blocks": s.blocks, "width": s.width, "stride": s.stride, "block": s.block}
        for s in design.stages
    ]
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def _seed_widgets(design: Design) -> None:
    data = design.to_dict()
    for knob in KNOBS:
        st.session_state[knob.key] = data[knob.field]
    base = state.base_preset()
    st.session_state[_START] = base.name if base else SCRATCH


def _on_start_from() -> None:
    choice = st.session_state[_START]
    if choice == SCRATCH:
        state.load(SCRATCH_DESIGN, None)
    else:
        state.load(presets.get(choice), choice)


def _on_order_change() -> None:
    # The pre-activation head belongs to full pre-activation; follow it unless set by hand later.
    order = st.session_state[_PREFIX + "activation_order"]
    st.session_state[_PREFIX + "final_norm"] = order == "full_preact"


def _stage_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for record in frame.to_dict("records"):
        row: dict[str, Any] = {}
        for column in ("blocks", "width", "stride"):
            value = record.get(column)
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue  # a missing cell: the design error will name it
            row[column] = int(value) if float(value).is_integer() else value
        if record.get("block"):
            row["block"] = record["block"]
        rows.append(row)
    return rows


def _widget(knob: Knob, has_bottleneck: bool) -> None:
    disabled = knob.field in ("expansion", "stride_on") and not has_bottleneck
    kwargs: dict[str, Any] = {"key": knob.key, "help": knob.help or None, "disabled": disabled}
    if knob.field == "activation_order":
        kwargs["on_change"] = _on_order_change
    if knob.kind == "select":
        st.selectbox(knob.label, knob.options, format_func=knob.format_func, **kwargs)
    elif knob.kind == "bool":
        st.checkbox(knob.label, **kwargs)
    elif knob.kind == "int":
        st.number_input(
            knob.label,
            min_value=int(knob.min_value),
            max_value=int(knob.max_value),
            step=int(knob.step),
            **kwargs,
        )
    else:
        st.number_input(
            knob.label,
            min_value=float(knob.min_value),
            max_value=float(knob.max_value),
            step=float(knob.step),
            **kwargs,
        )


def _warn_if_too_large(design: Design) -> None:
    """A valid design over the size caps: its figures are counted, but it is never built."""
    try:
        check_limits(design)
    except DesignTooLarge as exc:
        st.warning(
            f"{exc}. Counts stay exact; diagrams, memory, latency and training are refused.",
            icon=":material/warning:",
        )


def sidebar(page: str) -> Design:
    """Draw the editor in the sidebar and return the current valid design."""
    design = state.current()
    if state.needs_seeding(page):
        _seed_widgets(design)
    with st.sidebar:
        st.header("Design")
        st.selectbox(
            "Start from",
            [SCRATCH, *presets.names()],
            key=_START,
            on_change=_on_start_from,
            format_func=lambda n: n if n == SCRATCH else f"{n} - {presets.info(n).title}",
        )
        # Re-read: picking a preset replaces the design in the callback above.
        design = state.current()
        st.caption("Stages (add or remove rows; 'block' empty = the design's block type)")
        edited = st.data_editor(
            _stages_frame(design),
            key=f"ed__stages_{state.editor_version()}",
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config={
                "blocks": st.column_config.NumberColumn(
                    "blocks", min_value=1, max_value=1000, step=1, width=60
                ),
                "width": st.column_config.NumberColumn(
                    "width", min_value=1, max_value=8192, step=1, width=60
                ),
                "stride": st.column_config.SelectboxColumn("stride", options=[1, 2], width=55),
                "block": st.column_config.SelectboxColumn(
                    "block",
                    options=["basic", "bottleneck"],
                    width=90,
                    help="empty: the design's block type",
                ),
            },
        )
        # From this run's edits, not the last valid design: switching the block type enables
        # the bottleneck knobs at once.
        stage_rows = _stage_rows(edited)
        has_bottleneck = st.session_state[_PREFIX + "block"] == "bottleneck" or any(
            row.get("block") == "bottleneck" for row in stage_rows
        )
        for title, knobs in KNOB_GROUPS.items():
            with st.expander(title, expanded=title == "Shortcut and activation"):
                for knob in knobs:
                    _widget(knob, has_bottleneck)
        candidate = {knob.field: st.session_state[knob.key] for knob in KNOBS}
        candidate["stages"] = stage_rows
        try:
            new = Design.from_dict(candidate)
        except DesignError as exc:
            state.set_error(str(exc))
            st.error(f"{exc}\n\nShowing the last valid design.", icon=":material/error:")
        else:
            if new != design:
                state.update(new)
            state.set_error(None)
            _warn_if_too_large(new)
    state.sync_url()
    return state.current()
