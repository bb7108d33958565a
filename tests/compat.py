"""Import torchvision and timm on a CPU-only torch.

PyPI's torchvision wheels are CUDA builds. With the CPU build of torch their C extension cannot
load, and torchvision's fake-kernel registrations for its detection ops then fail at import. The
model definitions (all the tests need) are pure Python, so on a CPU-only torch we skip those
registrations. On a CUDA build nothing is changed.
"""

from __future__ import annotations

import sys
import types

import torch


def import_torchvision():
    if torch.version.cuda is None and "torchvision" not in sys.modules:
        sys.modules.setdefault(
            "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
        )
    import torchvision

    return torchvision


def import_timm():
    import_torchvision()
    import timm

    return timm
