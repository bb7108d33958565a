"""Shared fixtures. Tests run from the repository root; `tests/` is importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Keep tests deterministic and light on a 2-core machine.
torch.set_num_threads(1)
os.environ.setdefault("RESNET_EXPLORER_HOME", str(ROOT / ".pytest_cache" / "home"))

SHARED = ROOT.parent / "shared"


def exit_the_first_time(marker: Path) -> None:
    """End this process at once (a worker dying) the first time it gets here with ``marker``;
    the file remembers, so a retried task goes on. For the evaluation backends' tests."""
    if not marker.exists():
        marker.write_text("x")
        os._exit(1)


@pytest.fixture(scope="session")
def torchvision():
    from compat import import_torchvision

    return import_torchvision()


@pytest.fixture(scope="session")
def timm():
    from compat import import_timm

    return import_timm()


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A fresh library file for the app under test (``RESNET_EXPLORER_DB``)."""
    path = tmp_path / "library.sqlite3"
    monkeypatch.setenv("RESNET_EXPLORER_DB", str(path))
    return path


@pytest.fixture
def tiny_file(tmp_path):
    """`test_probes.TINY` (a two-stage 8 px net) written as a design file: its path."""
    from test_probes import TINY

    path = tmp_path / "tiny.json"
    path.write_text(TINY.to_json())
    return str(path)


@pytest.fixture(scope="module")
def data():
    """Tiny synthetic probe data: 4 classes of 8 px RGB images, 64 to train on, 32 held out."""
    from resnet_explorer.probes.data import synthetic

    return synthetic(num_classes=4, image_size=8, channels=3, train=64, held_out=32)
