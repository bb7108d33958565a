"""AppTest: every page renders by default and for every preset, with no exception."""

from __future__ import annotations

import pytest
from apptest_helpers import ALL_PAGES, assert_no_exception, pick_preset, run_page

from resnet_explorer import presets


@pytest.mark.parametrize("path", ALL_PAGES)
def test_page_renders_the_default_design(path):
    at = run_page(path)
    assert_no_exception(at)
    assert at.title, f"{path} shows no title"
    # the shared editor and the page links are on every page
    assert at.sidebar.selectbox(key="ed__start_from").value == "resnet18"
    assert len(at.sidebar.get("page_link")) == len(ALL_PAGES)


@pytest.mark.parametrize("path", ["pages/1_Profile.py", "pages/2_Diagrams.py"])
def test_page_renders_every_preset(path):
    at = run_page(path)
    for name in presets.names():
        at = pick_preset(at, name)
        assert_no_exception(at)
        assert not at.error, (name, [e.value for e in at.error])


def test_the_design_survives_moving_between_pages():
    at = pick_preset(run_page(), "resnext50_32x4d")
    at = at.sidebar.selectbox(key="ed_shortcut").set_value("C").run()
    for path in ALL_PAGES[1:]:
        at.switch_page(path)
        at = at.run()
        assert_no_exception(at)
        assert at.sidebar.selectbox(key="ed_shortcut").value == "C", path
        assert at.sidebar.selectbox(key="ed__start_from").value == "resnext50_32x4d", path


@pytest.mark.parametrize("path", ALL_PAGES)
def test_a_design_over_the_size_cap_gets_messages_not_tracebacks(path):
    from resnet_explorer import Design

    huge = Design(stages=[{"blocks": 300, "width": 2048}] * 3, block="bottleneck")
    at = run_page(path, query={"d": huge.to_url()})
    assert_no_exception(at)
    assert any("the cap is 1,000,000,000" in w.value for w in at.sidebar.warning)
    for error in at.error:
        assert "the cap is" in error.value


@pytest.mark.parametrize("path", ALL_PAGES)
def test_an_engine_refusal_no_panel_caught_is_a_message_not_a_traceback(path, monkeypatch):
    """`page.guard`, the one place the UI catches the engine's error root: a refusal raised
    anywhere in a page's body is shown as its message at the top of the main area."""
    import streamlit as st

    from resnet_explorer.analysis import AnalysisError

    def refuse(*_args, **_kwargs):
        raise AnalysisError("batch 9,999 is absurd; at most 4,096 is accepted")

    monkeypatch.setattr(st, "title", refuse)
    at = run_page(path)
    assert_no_exception(at)
    assert [e.value for e in at.main.error] == [
        "This page could not be drawn: batch 9,999 is absurd; at most 4,096 is accepted"
    ]
    assert at.sidebar.selectbox(key="ed__start_from").value == "resnet18"  # the editor stays
