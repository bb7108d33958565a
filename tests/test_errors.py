"""One error root: every error class of the engine derives from `ResNetExplorerError`, and the
CLI turns any of them into ``error: MESSAGE`` with its exit code, in one place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import resnet_explorer
from resnet_explorer.cli import main
from resnet_explorer.errors import DesignError, ResNetExplorerError


def _engine_modules():
    for info in pkgutil.walk_packages(resnet_explorer.__path__, "resnet_explorer."):
        if ".ui" in info.name or info.name.endswith("__main__"):  # not the engine's errors
            continue
        yield importlib.import_module(info.name)


def test_every_error_class_of_the_engine_derives_from_the_root():
    found = set()
    for module in _engine_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Exception)
                and cls.__module__.startswith("resnet_explorer")
                and not cls.__name__.startswith("_")
            ):
                found.add(cls)
    assert len(found) >= 15, sorted(c.__name__ for c in found)
    strays = sorted(c.__qualname__ for c in found if not issubclass(c, ResNetExplorerError))
    assert strays == []
    assert issubclass(DesignError, ValueError)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("resnet_explorer.diagrams.errors.RenderError", 1),
        ("resnet_explorer.errors.DesignError", 2),
        ("resnet_explorer.store.errors.StoreError", 2),
        ("resnet_explorer.probes.errors.ProbeError", 2),
        ("resnet_explorer.explore.space.SpaceError", 2),
    ],
)
def test_any_engine_error_becomes_one_cli_message(capsys, monkeypatch, error, code):
    from resnet_explorer.cli import design_cmd

    module, name = error.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)

    def fail(args):
        raise cls("what went wrong")

    monkeypatch.setattr(design_cmd, "run", fail)  # bound when main() builds the parser
    assert main(["design", "resnet20"]) == code
    out, err = capsys.readouterr()
    assert out == "" and err == "error: what went wrong\n"


@pytest.mark.parametrize(
    "name",
    ["StoreError", "ProbeError", "DiagramError", "AnalysisError", "SpaceError", "CliError"],
)
def test_well_known_errors_are_found(name):
    names = {
        cls.__name__
        for module in _engine_modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ResNetExplorerError)
    }
    assert name in names
