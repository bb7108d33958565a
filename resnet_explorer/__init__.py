"""ResNet Explorer: compose ResNet-family architectures and see what they are and what they cost.

The engine. One validated, immutable `Design` flows through it:
spec (`Design`) -> builder (`build_model`) -> analysis / diagrams / probes -> store.
It never imports Streamlit.

The names below are imported on first use (`lazy.exports`), so that importing a light part
of the package (the app's first page and launcher, the CLI's ``--help``) does not import
PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resnet_explorer.lazy import exports

if TYPE_CHECKING:
    from resnet_explorer.builder import build_model
    from resnet_explorer.design import Design, Stage
    from resnet_explorer.errors import DesignError, DesignTooLarge
    from resnet_explorer.limits import Limits

__all__ = ["Design", "DesignError", "DesignTooLarge", "Limits", "Stage", "build_model"]
__version__ = "0.1.0"
__getattr__ = exports(
    __name__,
    {
        "Design": "resnet_explorer.design",
        "DesignError": "resnet_explorer.errors",
        "DesignTooLarge": "resnet_explorer.errors",
        "Limits": "resnet_explorer.limits",
        "Stage": "resnet_explorer.design",
        "build_model": "resnet_explorer.builder",
    },
)
