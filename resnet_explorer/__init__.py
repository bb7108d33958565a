"""ResNet Explorer: compose ResNet-family architectures and see what they are and what they cost.

The engine. One validated, immutable `Design` flows through it:
spec (`Design`) -> builder (`build_model`) -> analysis / diagrams / probes -> store.
It never imports Streamlit.
"""

from resnet_explorer.builder import build_model
from resnet_explorer.design import Design, Stage
from resnet_explorer.errors import DesignError, DesignTooLarge
from resnet_explorer.limits import Limits

__all__ = ["Design", "DesignError", "DesignTooLarge", "Limits", "Stage", "build_model"]
__version__ = "0.1.0"
