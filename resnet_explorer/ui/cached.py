"""Cached wrappers around the engine, keyed by the design's canonical JSON.

Analytic figures are cheap and follow every edit; models and heavier work are cached per design
so a rerun never rebuilds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from resnet_explorer.analysis.analytic import Totals, layer_counts, stage_totals, totals
from resnet_explorer.design import Design

if TYPE_CHECKING:
    from torch import nn


@st.cache_data(max_entries=512, show_spinner=False)
def analytic_totals(design_json: str) -> Totals:
    return totals(Design.from_json(design_json))


@st.cache_data(max_entries=256, show_spinner=False)
def analytic_stages(design_json: str) -> list[Totals]:
    return stage_totals(Design.from_json(design_json))


@st.cache_data(max_entries=128, show_spinner=False)
def analytic_layers(design_json: str) -> list[dict[str, Any]]:
    return [vars(layer) for layer in layer_counts(Design.from_json(design_json))]


@st.cache_resource(max_entries=8, show_spinner="Building the model...")
def model(design_json: str) -> nn.Module:
    """The built model in eval mode, shared by every session (never mutate it)."""
    from resnet_explorer.builder import build_model  # PyTorch: not on the first page's path

    return build_model(Design.from_json(design_json), seed=0).eval()
