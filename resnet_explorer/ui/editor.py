"""The design editor in the sidebar, shared by every page.

Every knob of the `Design` is a widget seeded from the session's design. Each knob is one
`Knob` entry (field name, label, optional help): the widget kind, its options and its bounds
are read from the `Design` field, so a new design field needs one line here. After the widgets
run, their values are assembled into a new `Design`; an invalid combination shows a message
naming the field (in the sidebar and at the top of the page), and the last valid design stays
on screen.

The stage table is a ``st.data_editor`` fed the *seeded* stages on every run (never the edited
design): its edits then accumulate in the widget, so every edit lands however fast they come.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

import pandas as pd
import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import (
    ACTIVATION_ORDER_DESCRIPTIONS,
    ANTI_ALIAS_DESCRIPTIONS,
    ATTENTION_DESCRIPTIONS,
    SE_CONVENTION_DESCRIPTIONS,
    SHORTCUT_DESCRIPTIONS,
    STEM_DESCRIPTIONS,
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
_STAGES = "ed__stages"


@dataclass(frozen=True)
class FieldSpec:
    """What a `Design` (or `Stage`) field accepts, read from its pydantic definition."""

    kind: Literal["select", "bool", "int", "float"]
    options: tuple = ()
    optional: bool = False  # None (empty) is allowed: the design's default rule applies
    min_value: float | None = None  # inclusive bounds (exclusive ones are only in ``bounds``)
    max_value: float | None = None
    bounds: str = ""  # "1 to 1024", "> 0 and <= 32"


@cache
def field_spec(model: type, name: str) -> FieldSpec:
    """The widget kind, options and bounds of ``model.name`` (``Design`` or ``Stage``)."""
    info = model.model_fields[name]
    annotation = info.annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return FieldSpec("select", tuple(get_args(annotation)))
    if args and get_origin(args[0]) is Literal:  # Optional[Literal[...]]
        return FieldSpec("select", (None, *get_args(args[0])))
    if annotation is bool:
        return FieldSpec("bool")
    optional = bool(args) and type(None) in get_args(annotation)
    base = args[0] if optional else annotation
    if get_origin(base) is Annotated:  # Optional[Annotated[int, Strict()]]
        base = get_args(base)[0]
    kind = "int" if base is int else "float"
    low = high = None
    words = []
    for item in info.metadata:
        for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is None:
                continue
            words.append(f"{word} {value:g}")
            if attr == "ge":
                low = value
            elif attr == "le":
                high = value
    bounds = f"{low:g} to {high:g}" if low is not None and high is not None else " and ".join(words)
    return FieldSpec(kind, min_value=low, max_value=high, bounds=bounds, optional=optional)


@dataclass(frozen=True)
class Knob:
    """One scalar field of the design and how the editor labels it (the rest is the field's)."""

    field: str
    label: str
    help: str = ""
    step: float | None = None  # numbers: the +/- step (1 for ints, 0.05 for floats)
    format_func: Callable[[Any], str] = str  # selects: what an option reads
    describe: Mapping[str, str] | None = None  # selects: a caption under the widget
    bottleneck_only: bool = False
    requires: tuple[str, Any] | None = None  # (field, value): enabled only when it holds

    @property
    def key(self) -> str:
        return _PREFIX + self.field

    @property
    def spec(self) -> FieldSpec:
        return field_spec(Design, self.field)


_SHORTCUT_SHORT = {
    "A": "A: zero-pad (no parameters)",
    "B": "B: projection where shapes change",
    "C": "C: projection in every block",
    "D": "D: avg-pool + projection",
    "none": "none: no shortcut (plain)",
}
_ORDER_SHORT = {
    "original": "(a) original",
    "bn_after_add": "(b) BN after addition",
    "relu_before_add": "(c) ReLU before addition",
    "relu_only_preact": "(d) ReLU-only pre-activation",
    "full_preact": "(e) full pre-activation",
}

KNOB_GROUPS: dict[str, list[Knob]] = {
    "Blocks": [
        Knob(
            "block",
            "Block type",
            "basic: two 3x3 convs; bottleneck: 1x1 -> 3x3 -> 1x1 with expansion",
        ),
        Knob(
            "expansion",
            "Bottleneck expansion",
            "output channels = width x expansion (4 in the paper)",
            bottleneck_only=True,
        ),
        Knob(
            "stride_on",
            "Bottleneck stride on",
            "3x3: torchvision's 'v1.5'; 1x1: the original paper",
            bottleneck_only=True,
        ),
        Knob("groups", "Groups (ResNeXt cardinality)", bottleneck_only=True),
        Knob(
            "width_per_group",
            "Width per group",
            "ResNeXt's d; 64 with groups=1 is a plain bottleneck",
            bottleneck_only=True,
        ),
        Knob("width_factor", "Width factor (Wide ResNet)", step=0.25),
        Knob(
            "group_width",
            "Group width (RegNet)",
            "Radosavovic et al. 2020: channels per group of the 3x3; groups = 3x3 width / "
            "group width (instead of groups); empty: use groups",
            bottleneck_only=True,
        ),
        Knob(
            "bottleneck_ratio",
            "Bottleneck ratio (RegNet's b)",
            "Radosavovic et al. 2020: 3x3 width = width x b (1.0 in RegNet); empty: "
            "torchvision's width x width_per_group / 64",
            step=0.25,
            bottleneck_only=True,
        ),
    ],
    "Attention, anti-aliasing, dilation": [
        Knob(
            "attention",
            "Channel attention",
            "SE: Hu et al. 2018; ECA: Wang et al. 2020",
            describe=ATTENTION_DESCRIPTIONS,
        ),
        Knob(
            "se_ratio",
            "SE ratio",
            "reduced width = ratio x channels (1/16 SE-ResNet, 0.25 RegNetY and ResNet-RS)",
            step=0.0625,
            requires=("attention", "se"),
        ),
        Knob(
            "se_convention",
            "SE convention",
            describe=SE_CONVENTION_DESCRIPTIONS,
            requires=("attention", "se"),
        ),
        Knob(
            "anti_alias",
            "Anti-aliased downsampling",
            "Zhang 2019, Making Convolutional Networks Shift-Invariant Again (timm aa_layer)",
            describe=ANTI_ALIAS_DESCRIPTIONS,
        ),
        Knob(
            "output_stride",
            "Output stride (dilation)",
            "Yu & Koltun 2016; DeepLab: later strides become dilations (torchvision "
            "replace_stride_with_dilation, timm output_stride); empty: no dilation",
            format_func=lambda v: "none" if v is None else str(v),
        ),
    ],
    "Shortcut and activation": [
        Knob(
            "shortcut",
            "Shortcut option",
            format_func=_SHORTCUT_SHORT.get,
            describe=SHORTCUT_DESCRIPTIONS,
        ),
        Knob(
            "activation_order",
            "Activation order",
            "He et al. 2016, Fig. 4",
            format_func=_ORDER_SHORT.get,
            describe=ACTIVATION_ORDER_DESCRIPTIONS,
        ),
        Knob("activation", "Activation function"),
        Knob("norm", "Normalization"),
    ],
    "Stem and input": [
        Knob("stem", "Stem", describe=STEM_DESCRIPTIONS),
        Knob(
            "stem_pool",
            "Stem pool",
            "max: 3x3/2 max-pool; conv: a 3x3/2 conv + norm + activation (Bello et al. 2021, "
            "ResNet-RS; timm replace_stem_pool)",
        ),
        Knob("stem_width", "Stem width"),
        Knob("in_channels", "Input channels"),
        Knob("image_size", "Image size"),
        Knob("num_classes", "Classes"),
    ],
    "Initialisation and head": [
        Knob("init", "Weight init"),
        Knob("zero_init_residual", "Zero-init last norm of each branch"),
        Knob("stochastic_depth", "Stochastic depth rate", step=0.05),
        Knob("final_norm", "Final norm + activation (pre-activation head)"),
        Knob("dropout", "Dropout before fc", step=0.05),
        Knob(
            "module_names",
            "Module names",
            "whose checkpoint names the built model takes: torchvision/timm ResNet, or timm "
            "RegNet (RegNet-shaped designs only)",
        ),
    ],
}
KNOBS = [knob for group in KNOB_GROUPS.values() for knob in group]
#: Fields whose default the design derives from another field: the editor follows the
#: derivation when that field changes (the user can still set them by hand afterwards).
DERIVED = {"activation_order": "final_norm"}
STAGE_COLUMNS = list(Stage.model_fields)


# --- seeding ------------------------------------------------------------------------------------


def _stages_frame(design: Design) -> pd.DataFrame:
    rows = [{c: getattr(s, c) for c in STAGE_COLUMNS} for s in design.stages]
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def _seed_widgets(design: Design) -> None:
    for knob in KNOBS:
        st.session_state[knob.key] = getattr(design, knob.field)
    base = state.origin()
    st.session_state[_START] = base.preset if base and base.preset else SCRATCH


def start_label(name: str) -> str:
    """What a "Start from" option reads: the preset's name and its title without the
    parenthesis ("regnety_040 - RegNetY-4.0GF"), short enough for the sidebar's select (an
    input, which cannot wrap); the page's title gives the full one."""
    if name == SCRATCH:
        return name
    return f"{name} - {presets.info(name).title.split(' (')[0]}"


def _on_start_from() -> None:
    choice = st.session_state[_START]
    if choice == SCRATCH:
        state.load(SCRATCH_DESIGN)
    else:
        state.load(presets.get(choice), preset=choice)


def _follow_derived(source: str) -> Callable[[], None]:
    """A callback: re-derive the field that ``source`` decides (e.g. final_norm from the
    activation order), as the `Design` itself derives it."""
    target = DERIVED[source]

    def follow() -> None:
        value = st.session_state[_PREFIX + source]
        st.session_state[_PREFIX + target] = getattr(Design(**{source: value}), target)

    return follow


# --- widgets ------------------------------------------------------------------------------------


def _help(knob: Knob) -> str | None:
    parts = [knob.help] if knob.help else []
    if knob.spec.bounds:
        parts.append(f"allowed: {knob.spec.bounds}")
    return "; ".join(parts) or None


def _applies(knob: Knob) -> bool:
    """Whether the knob means anything with the other widgets' current values."""
    if knob.requires is None:
        return True
    field, value = knob.requires
    return st.session_state.get(_PREFIX + field) == value


def _widget(knob: Knob, has_bottleneck: bool) -> None:
    spec = knob.spec
    kwargs: dict[str, Any] = {
        "key": knob.key,
        "help": _help(knob),
        "disabled": (knob.bottleneck_only and not has_bottleneck) or not _applies(knob),
    }
    if knob.field in DERIVED:
        kwargs["on_change"] = _follow_derived(knob.field)
    if spec.kind == "select":
        st.selectbox(knob.label, spec.options, format_func=knob.format_func, **kwargs)
        if knob.describe:
            st.caption(knob.describe[st.session_state[knob.key]])
    elif spec.kind == "bool":
        st.checkbox(knob.label, **kwargs)
    else:
        # No widget bounds: a value out of range reaches validation, whose message names the
        # field and the range (the widget would only outline itself in red).
        cast = int if spec.kind == "int" else float
        st.number_input(knob.label, step=cast(knob.step or (1 if cast is int else 0.05)), **kwargs)


def _column_config(last: Stage) -> dict[str, Any]:
    """The stage table's columns: options from the `Stage` fields; a new row starts as a copy
    of the last stage. No bounds: a bad value reaches validation and gets a message."""
    help_text = {c: (Stage.model_fields[c].description or "") for c in STAGE_COLUMNS}
    config: dict[str, Any] = {}
    for column in STAGE_COLUMNS:
        spec = field_spec(Stage, column)
        bounds = f" (allowed: {spec.bounds})" if spec.bounds else ""
        if spec.kind == "select":
            config[column] = st.column_config.SelectboxColumn(
                column,
                options=[o for o in spec.options if o is not None],
                default=getattr(last, column),
                help=help_text[column] or None,
                width=92 if column == "block" else 68,
            )
        else:
            config[column] = st.column_config.NumberColumn(
                column, step=1, default=getattr(last, column), help=help_text[column] + bounds,
                width=74 if column == "blocks" else 68,
            )  # fmt: skip
    return config


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and pd.isna(value))


def _stage_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows as stage dicts; an all-empty row is left out, a missing cell is left
    missing (the design error names it)."""
    rows = []
    for record in frame.to_dict("records"):
        if all(_is_empty(record.get(c)) for c in STAGE_COLUMNS):
            continue
        row: dict[str, Any] = {}
        for column in STAGE_COLUMNS:
            value = record.get(column)
            if _is_empty(value):
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            row[column] = value
        rows.append(row)
    return rows


def _stage_table(page: str) -> list[dict[str, Any]]:
    """The stage table, fed the seeded stages (edits accumulate in the widget)."""
    seeded = state.seeded_design()
    shown = 4  # columns the sidebar shows at its width; the others are a scroll away
    st.caption(
        "Stages (add or remove rows; empty = the design's value). Scroll the table right for "
        + ", ".join(STAGE_COLUMNS[shown:])
        + "."
    )
    edited = st.data_editor(
        _stages_frame(seeded),
        key=f"{_STAGES}_{state.seed_generation()}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config=_column_config(seeded.stages[-1]),
    )
    return _stage_rows(edited)


def _too_large(design: Design) -> str | None:
    """The cap a valid design exceeds, if any: it is counted but never built."""
    try:
        check_limits(design)
    except DesignTooLarge as exc:
        return f"{exc}. Counts stay exact; diagrams, memory, latency and training are refused."
    return None


def sidebar(page: str) -> Design:
    """Draw the editor in the sidebar and return the current valid design."""
    if state.needs_seeding(page):
        _seed_widgets(state.current())
    with st.sidebar:
        st.header("Design")
        st.selectbox(
            "Start from",
            [SCRATCH, *presets.names()],
            key=_START,
            on_change=_on_start_from,
            format_func=start_label,
            help="The page's title gives the preset's full name.",
        )
        stage_rows = _stage_table(page)
        # From this run's edits, not the last valid design: switching the block type enables
        # the bottleneck knobs at once.
        has_bottleneck = st.session_state[_PREFIX + "block"] == "bottleneck" or any(
            row.get("block") == "bottleneck" for row in stage_rows
        )
        for title, knobs in KNOB_GROUPS.items():
            with st.expander(title, expanded=title == "Shortcut and activation"):
                for knob in knobs:
                    _widget(knob, has_bottleneck)
        # Fields without a widget keep the design's values (nothing the editor cannot show is
        # silently reset); every knob's widget overrides its field.
        candidate = state.seeded_design().model_dump(exclude={"stages"})
        candidate.update({knob.field: st.session_state[knob.key] for knob in KNOBS})
        candidate["stages"] = stage_rows
        try:
            new = Design.from_dict(candidate)
        except DesignError as exc:
            state.set_error(str(exc))
            st.error(f"{exc}\n\nShowing the last valid design.", icon=":material/error:")
        else:
            if new != state.current():
                state.update(new)
            state.set_error(None)
            warning = _too_large(new)
            if warning:
                st.warning(warning, icon=":material/warning:")
            state.set_warning(warning)
    return state.current()
