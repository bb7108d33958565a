"""ResNet Explorer: pick a preset and see its design and size (the full UI lands with issue 6)."""

import streamlit as st

from resnet_explorer import presets
from resnet_explorer.analysis.analytic import totals

st.set_page_config(page_title="ResNet Explorer", layout="wide")
st.title("ResNet Explorer")
name = st.selectbox("Preset", presets.names(), index=presets.names().index("resnet50"))
preset = presets.info(name)
counts = totals(preset.design)
st.metric("Parameters", f"{counts.params:,}")
st.json(preset.design.to_dict())
