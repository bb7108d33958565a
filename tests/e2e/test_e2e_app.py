"""End-to-end: the real app in headless Chromium, driven as a person would."""

from __future__ import annotations

import re

import pytest

from e2e.browser import screenshot, wait_for_app
from resnet_explorer import presets

pytestmark = pytest.mark.e2e


def select(page, label: str, option_text: str) -> None:
    """Choose ``option_text`` in the sidebar selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text=label
    )
    box.click()
    page.keyboard.type(option_text.split(" ")[0])  # filter: long option lists are virtualised
    page.locator('[role="option"]').filter(has_text=option_text).first.click()
    wait_for_app(page)


def caption_text(page) -> str:
    return " ".join(page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())


def wait_for_text(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for()


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
    select(page, "Shortcut option", "C: 1x1 projection in every block")
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
    # Edit the first stage's block count in the sidebar's data editor (a canvas grid).
    grid = page.locator('[data-testid="stSidebar"] [data-testid="stDataFrame"]')
    grid.wait_for()
    page.wait_for_timeout(1000)  # the grid re-mounts after a preset is loaded
    box = grid.bounding_box()
    # first data row, "blocks" column: header ~35px high, rows ~35px; first column is the row
    # marker of dynamic tables
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for key in ["ArrowUp"] * 6 + ["ArrowLeft"] * 6:  # to the first stage's "blocks" cell
        page.keyboard.press(key)
    page.keyboard.press("Enter")  # open the cell editor (an input in the grid's portal)
    editor = page.locator("#portal input, #portal textarea").first
    editor.wait_for()
    editor.fill("5")
    editor.press("Enter")
    page.mouse.click(box["x"] + 700, box["y"] - 200)  # click outside: the grid commits the edit
    wait_for_app(page)
    page.get_by_text("ResNet-20 (CIFAR) (modified)").wait_for()
    assert "269,722 parameters" not in caption_text(page)
    screenshot(page, "design-stage-edited")


def test_profile_and_diagrams_pages_render(page, app_server):
    page.goto(app_server + "/?d=" + presets.get("resnet50").to_url())
    wait_for_app(page)
    wait_for_text(page, "25,557,032 parameters")
    page.get_by_role("link", name="Profile").click()
    wait_for_app(page)
    page.get_by_text("FLOPs: three conventions").wait_for()
    wait_for_text(page, "4.089 GMACs")
    screenshot(page, "profile")
    page.get_by_role("link", name="Diagrams").click()
    wait_for_app(page)
    chart = page.locator('[data-testid="stGraphVizChart"]').first
    chart.locator("svg g.node").first.wait_for()  # rendered in the browser (viz.js)
    assert "layer3: Bottleneck x 6" in chart.text_content()
    screenshot(page, "diagrams")
    # the design survived the page changes
    assert "Diagrams · ResNet-50" in page.inner_text("h1")


def test_json_upload_loads_a_design_and_refuses_a_bad_file(page, app_server, tmp_path):
    page.goto(app_server)
    wait_for_app(page)
    page.get_by_role("tab", name="JSON file").click()
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    bad = tmp_path / "bad.json"
    bad.write_text('{"stages": [{"blocks": 0, "width": 64}]}')
    upload.set_input_files(str(bad))
    wait_for_app(page)
    page.get_by_text("That file is not a valid design").wait_for()
    assert "stages[0].blocks" in page.inner_text("body")
    good = tmp_path / "good.json"
    good.write_text(presets.get("wrn28_10").to_json())
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    wait_for_app(page)
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
    wait_for_app(first)
    wait_for_text(first, "25,557,032 parameters")  # restored from its own URL
    assert "269,722 parameters" not in caption_text(first)
    first.context.close()
    second.context.close()
