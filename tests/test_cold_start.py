"""A fresh server's first page: its figures need no PyTorch, its block waits for the warm-up.

What makes the first page of a fresh server usable within a few seconds (the figures in
`benchmarks/bench_app.py`): the home page's figures, editor and stage table import no PyTorch;
the block diagram is drawn once the warm-up (`ui.warm`) has imported it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from apptest_helpers import assert_no_exception, run_page

import resnet_explorer
from resnet_explorer import diagrams, presets, probes
from resnet_explorer.analysis.analytic import stage_totals, totals
from resnet_explorer.ui import warm

ROOT = Path(__file__).resolve().parents[1]


def test_the_home_pages_figures_import_no_pytorch():
    """In a fresh interpreter where importing torch fails, the home page's modules import and
    compute the default design's figures, and torch is still not imported."""
    script = textwrap.dedent(
        """
        import sys

        class NoTorch:
            def find_spec(self, name, path, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError(f"{name} imported on the first page's path")

        sys.meta_path.insert(0, NoTorch())
        from resnet_explorer import presets
        from resnet_explorer.analysis.analytic import stage_totals, totals
        from resnet_explorer.ui import cached, editor, figures, home_block, page, sharing, state

        design = presets.get(presets.DEFAULT)
        print(totals(design).params, len(stage_totals(design)), "torch" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["11689512", "4", "False"]


@pytest.mark.parametrize("package", [resnet_explorer, diagrams, probes])
def test_lazy_exports_resolve_and_unknown_names_fail(package):
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        package.nothing_here  # noqa: B018


def test_diagrams_render_is_the_function_not_its_module():
    """``diagrams.render`` is both a submodule and an export: the export wins."""
    import resnet_explorer.diagrams.render  # noqa: F401

    assert callable(diagrams.render) and diagrams.render.__name__ == "render"


def test_home_page_waits_for_pytorch_with_a_note_then_draws_the_block(monkeypatch):
    started = []
    monkeypatch.setattr(warm, "tracer_ready", lambda: False)
    monkeypatch.setattr(warm, "start", lambda: started.append(True))
    at = run_page()
    assert_no_exception(at)
    assert "11,689,512 parameters" in " ".join(c.value for c in at.caption)
    assert any("Loading PyTorch to trace this block" in i.value for i in at.info)
    assert not at.get("graphviz_chart") and started
    monkeypatch.setattr(warm, "tracer_ready", lambda: True)
    at.run()
    assert_no_exception(at)
    assert not any("Loading PyTorch" in i.value for i in at.info)
    assert at.get("graphviz_chart")


def test_tracer_ready_once_pytorch_and_the_tracer_are_imported():
    import resnet_explorer.diagrams.block
    import resnet_explorer.diagrams.trace  # noqa: F401

    assert warm.tracer_ready()


def test_stage_budget_table_gives_each_stage_and_the_rest_of_the_network():
    at = run_page()
    table = next(d for d in at.dataframe if "stage" in d.value.columns)
    rows = table.value.to_dict("records")
    design = presets.get(presets.DEFAULT)
    stages, total = stage_totals(design), totals(design)
    assert [r["stage"] for r in rows] == ["layer1", "layer2", "layer3", "layer4", "stem + head"]
    assert rows[0]["parameters"] == pytest.approx(stages[0].params / 1e6)
    assert sum(r["parameters"] for r in rows) == pytest.approx(total.params / 1e6)
    assert sum(r["GMACs"] for r in rows) == pytest.approx(total.macs / 1e9)
