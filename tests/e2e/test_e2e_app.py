"""End-to-end: the real app in headless Chromium, driven as a person would."""

from __future__ import annotations

import re

import pytest

from e2e.browser import (
    GRID,
    app_state,
    commit_cell_editor,
    edit_stage_cell,
    in_viewport,
    rerun,
    screenshot,
    stage_cells,
    wait_for_app,
    wait_for_stage_rows,
    wait_for_text,
)
from e2e.conftest import serve
from resnet_explorer import Design, presets
from resnet_explorer.analysis.analytic import totals

pytestmark = pytest.mark.e2e


def select(page, label: str, option_text: str) -> None:
    """Choose ``option_text`` in the sidebar selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text=label
    )
    box.click()
    page.keyboard.type(option_text.split(" ")[0])  # filter: long option lists are virtualised
    with rerun(page):
        page.locator('[role="option"]').filter(has_text=option_text).first.click()


def caption_text(page) -> str:
    return " ".join(page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())


def counted_params(page) -> int:
    return int(
        re.search(r"Exact counts: ([\d,]+) parameters", caption_text(page))[1].replace(",", "")
    )


def test_pick_a_preset_edit_it_and_share_it(page, app_server):
    page.goto(app_server)
    wait_for_app(page)
    wait_for_text(page, "11,689,512 parameters")
    screenshot(page, "design-default")

    select(page, "Start from", "resnet50 - ResNet-50")
    wait_for_text(page, "25,557,032 parameters")
    assert "matches the published figures" in page.inner_text("body")

    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').filter(
        has_text="Shortcut and activation"
    ).first.wait_for()
    select(page, "Shortcut option", "C: projection in every block")
    page.get_by_text("ResNet-50 (modified)").wait_for()
    counted = int(
        re.search(r"Exact counts: ([\d,]+) parameters", caption_text(page))[1].replace(",", "")
    )
    assert counted > 25_557_032
    screenshot(page, "design-modified")

    shared = page.url
    assert "?d=v1." in shared
    fresh = page.context.new_page()
    fresh.goto(shared)
    wait_for_app(fresh)
    wait_for_text(fresh, f"{counted:,} parameters")
    fresh.close()


def test_stage_table_add_row_changes_the_design(page, app_server):
    page.goto(app_server)
    wait_for_app(page)
    select(page, "Start from", "resnet20 - ResNet-20")
    wait_for_text(page, "269,722 parameters")
    with rerun(page):
        edit_stage_cell(page, 0, 0, "5")
    page.get_by_text("ResNet-20 (CIFAR) (modified)").wait_for()
    assert "269,722 parameters" not in caption_text(page)
    with rerun(page):
        page.locator(GRID).hover()
        page.get_by_role("button", name="Add row").click()
    # the new row is a copy of the last stage: a valid design at once, never an error
    assert wait_for_stage_rows(page, 4)[-1][:3] == ["3", "64", "2"]
    assert app_state(page)["invalid"] == "0", page.inner_text("body")
    grown = Design(
        **{**presets.get("resnet20").to_dict(), "stages": [
            {"blocks": 5, "width": 16, "stride": 1}, {"blocks": 3, "width": 32, "stride": 2},
            {"blocks": 3, "width": 64, "stride": 2}, {"blocks": 3, "width": 64, "stride": 2},
        ]}
    )  # fmt: skip
    assert counted_params(page) == totals(grown).params
    screenshot(page, "design-stage-edited")


def _expected(stages: list[tuple[int, int, int]]) -> int:
    return totals(
        Design(stages=[{"blocks": b, "width": w, "stride": s} for b, w, s in stages])
    ).params


def test_four_consecutive_stage_edits_all_land(page, app_server):
    """Every edit lands: waiting for the app after each, and typed one after another."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_server)
    wait_for_app(page)
    for row, value in enumerate("3456"):
        with rerun(page):
            edit_stage_cell(page, row, 0, value)
        assert [r[0] for r in stage_cells(page)][: row + 1] == list("3456")[: row + 1]
    stages = [(3, 64, 1), (4, 128, 2), (5, 256, 2), (6, 512, 2)]
    assert counted_params(page) == _expected(stages)
    # fast: type, Enter (the grid moves down a row), type, Enter ... without waiting
    with rerun(page):
        edit_stage_cell(page, 0, 1, "32")
        for value in ("96", "192", "384"):  # Enter moved the selection one row down
            page.keyboard.type(value)
            commit_cell_editor(page, value)
    wait_for_text(
        page, f"{_expected([(3, 32, 1), (4, 96, 2), (5, 192, 2), (6, 384, 2)]):,} parameters"
    )
    assert [r[1] for r in stage_cells(page)] == ["32", "96", "192", "384"]
    # with Tab: blocks, then (Tab moved right) width of the same stage
    with rerun(page):
        edit_stage_cell(page, 3, 0, "2")
    with rerun(page):
        edit_stage_cell(page, 0, 0, "7", key="Tab")
        page.keyboard.type("48")
        commit_cell_editor(page, "48")
    final = [(7, 48, 1), (4, 96, 2), (5, 192, 2), (2, 384, 2)]
    wait_for_text(page, f"{_expected(final):,} parameters")
    screenshot(page, "design-four-edits")


def test_an_invalid_edit_is_explained_in_view(page, app_server):
    """At 1280x720 the message is inside the window, names the field and says that what is
    shown is the last valid design; width 0 is refused with a message, not reverted."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_server)
    wait_for_app(page)
    with rerun(page):
        edit_stage_cell(page, 1, 1, "0")
    assert app_state(page)["invalid"] == "1"
    banner = page.locator(".st-key-design_status")
    assert "stages[1].width" in banner.inner_text()
    assert "last valid design" in banner.inner_text()
    assert in_viewport(page, banner), banner.bounding_box()
    assert counted_params(page) == 11_689_512  # the last valid design stays on screen
    screenshot(page, "design-invalid-in-view")
    with rerun(page):
        edit_stage_cell(page, 1, 1, "128")
    assert app_state(page)["invalid"] == "0"
    assert not banner.count()
    # a design over the size cap: valid, counted, and said so at the top
    with rerun(page):
        edit_stage_cell(page, 3, 1, "8192")
    with rerun(page):
        edit_stage_cell(page, 3, 0, "900")  # at most 1,000 blocks a design
    banner = page.locator(".st-key-design_status")
    assert "the cap is" in banner.inner_text()
    assert in_viewport(page, banner)


def test_profile_and_diagrams_pages_render(page, app_server):
    page.goto(app_server + "/?d=" + presets.get("resnet50").to_url())
    wait_for_app(page)
    wait_for_text(page, "25,557,032 parameters")
    with rerun(page):
        page.get_by_role("link", name="Profile").click()
    page.get_by_text("FLOPs: four conventions").wait_for()
    wait_for_text(page, "4.089 GMACs")
    screenshot(page, "profile")
    with rerun(page):
        page.get_by_role("link", name="Diagrams").click()
    chart = page.locator('[data-testid="stGraphVizChart"]').first
    chart.locator("svg g.node").first.wait_for()  # rendered in the browser (viz.js)
    assert "layer3: Bottleneck x 6" in chart.text_content()
    screenshot(page, "diagrams")
    # the design survived the page changes
    assert "Diagrams · ResNet-50" in page.inner_text("h1")


def test_json_upload_loads_a_design_and_refuses_a_bad_file(page, app_server, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 720})  # a laptop: the message in view
    page.goto(app_server)
    wait_for_app(page)
    page.get_by_text("Design JSON file: download, or open one").click()
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    bad = tmp_path / "bad.json"
    bad.write_text('{"stages": [{"blocks": 0, "width": 64}]}')
    with rerun(page):
        upload.set_input_files(str(bad))
    message = page.get_by_text("That file is not a valid design")
    message.wait_for()
    assert in_viewport(page, message), message.bounding_box()  # said at the top, in view
    assert "stages[0].blocks" in page.inner_text("body")
    good = tmp_path / "good.json"
    good.write_text(presets.get("wrn28_10").to_json())
    with rerun(page):
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    wait_for_text(page, "36,479,194 parameters")


def test_two_browser_sessions_keep_their_own_designs(browser, app_server):
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    for pg in (first, second):
        pg.set_default_timeout(45_000)
        pg.goto(app_server)
        wait_for_app(pg)
    select(first, "Start from", "resnet50 - ResNet-50")
    select(second, "Start from", "resnet20 - ResNet-20")
    wait_for_text(first, "25,557,032 parameters")
    wait_for_text(second, "269,722 parameters")
    first.reload()
    wait_for_app(first)  # a new session: its marker starts again
    wait_for_text(first, "25,557,032 parameters")  # restored from its own URL
    assert "269,722 parameters" not in caption_text(first)
    first.context.close()
    second.context.close()


def test_a_plain_streamlit_run_draws_figures_then_the_block_by_itself(browser, tmp_path):
    """`streamlit run app.py` without the launcher: the first page's figures need no PyTorch;
    its block follows once the warm-up has imported it (the note goes away by itself)."""
    with serve(tmp_path / "home", tmp_path / "plain.log", plain=True) as (url, _proc):
        pg = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        pg.goto(url)
        wait_for_text(pg, "11,689,512 parameters")
        wait_for_app(pg)  # idle: the block's note is gone
        pg.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
        assert "Loading PyTorch" not in pg.inner_text("body")
        pg.context.close()
