"""End-to-end: the Library and Compare pages and the review report, in headless Chromium."""

from __future__ import annotations

import uuid

import pytest

from e2e.browser import add_to_compare, remove_from_compare, rerun, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def _text_input(page, label: str):
    return page.get_by_role("textbox", name=label, exact=True)


def test_save_a_design_reload_and_find_it(page, app_server):
    name = f"e2e net {uuid.uuid4().hex[:6]}"
    page.goto(f"{app_server}/Library")
    wait_for_app(page)
    page.get_by_text("Save the current design", exact=True).wait_for()
    box = _text_input(page, "Name")
    box.fill(name)
    _text_input(page, "Tags").fill("e2e, review")
    page.get_by_role("textbox", name="Notes", exact=True).fill("saved from the browser")
    with rerun(page):
        page.get_by_role("button", name="Save to library").click()
    page.get_by_text(f"Saved {name}").wait_for()
    screenshot(page, "library-saved")

    page.reload()
    wait_for_app(page)
    search = _text_input(page, "Search names")
    search.fill(name[-6:])
    with rerun(page):
        search.press("Enter")
    picked = page.get_by_role("combobox", name="Saved design", exact=True)
    page.wait_for_function("([el, name]) => el.value === name", arg=[picked.element_handle(), name])
    page.get_by_role("paragraph").filter(has_text="saved from the browser").wait_for()
    # the table row (the grid is a canvas; its cells are mirrored in the DOM)
    page.locator('[role="gridcell"]', has_text=name).first.wait_for(state="attached")
    assert "1 of" in page.inner_text("body")
    screenshot(page, "library-found")


def test_compare_two_presets_and_open_the_report(page, app_server, tmp_path):
    page.goto(f"{app_server}/Compare")
    wait_for_app(page)
    page.get_by_text("Deltas in brackets are against").wait_for()
    remove_from_compare(page, "The editor's current design")
    add_to_compare(page, "resnet50")
    page.get_by_text("Deltas in brackets are against resnet34").wait_for()
    body = page.inner_text("body")
    assert "25.56 M  [+3.76 M (+17.2%)]" in body or "+3.76 M (+17.2%)" in body
    # the diff diagram is an SVG in the page, titled with both names
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
    assert "resnet34 vs resnet50" in page.inner_text('[data-testid="stGraphVizChart"]')
    screenshot(page, "compare-two-presets")

    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download review report (HTML)").click()
    path = tmp_path / "review.html"
    info.value.save_as(path)
    assert info.value.suggested_filename == "review-resnet34-vs-resnet50.html"

    report = page.context.new_page()
    report.goto(path.as_uri())
    report.locator(".diagram svg").first.wait_for()
    report.locator("#fig-cost .main-svg").first.wait_for()  # plotly drew the chart offline
    assert report.locator(".plotly-graph-div").count() >= 2
    assert "resnet34 vs resnet50" in report.inner_text("h1")
    screenshot(report, "report")
    report.close()
