"""End-to-end: Compare 3 designs with their differences highlighted; links that reopen what
the sender saw (the base preset, the Compare picks and baseline)."""

from __future__ import annotations

import pytest

from e2e.browser import (
    add_to_compare,
    remove_from_compare,
    rerun,
    screenshot,
    wait_for_app,
    wait_for_text,
    wait_until,
)
from resnet_explorer import presets

pytestmark = pytest.mark.e2e

CHARTS = '[data-testid="stGraphVizChart"]'


def _choose(page, box, option: str) -> None:
    """Pick ``option`` in the selectbox ``box`` (typing filters the list first)."""
    box.click()
    page.keyboard.type(option.split(" ")[0])
    with rerun(page):
        page.locator('[role="option"]').filter(has_text=option).first.click()


def _red_outlines(page, index: int) -> int:
    """How many shapes of the ``index``-th diagram are outlined in red (drawn by viz.js)."""
    return page.locator(CHARTS).nth(index).locator('svg [stroke="#cc0000"]').count()


def test_compare_three_designs_highlights_their_differences(page, app_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{app_server}/Compare")
    wait_for_app(page)
    remove_from_compare(page, "The editor's current design")
    add_to_compare(page, "resnext50_32x4d")
    add_to_compare(page, "wide_resnet50_2")
    wait_until(
        page,
        f"() => document.querySelectorAll('{CHARTS} svg').length === 3",
        "three network diagrams",
    )
    titles = [page.locator(CHARTS).nth(i).inner_text() for i in range(3)]
    assert "ResNet-34" in titles[0] and "ResNeXt-50 (32x4d)" in titles[1]
    assert "Wide ResNet-50-2" in titles[2]
    assert _red_outlines(page, 0) == 0  # the baseline
    assert _red_outlines(page, 1) >= 4 and _red_outlines(page, 2) >= 4  # every stage
    body = page.inner_text("body")
    assert "resnext50_32x4d vs resnet34 (outlined in red):" in body
    assert "block basic -> bottleneck" in body
    page.locator(CHARTS).nth(1).scroll_into_view_if_needed()
    screenshot(page, "compare-three-highlighted")

    # the link reopens this comparison, with the same baseline, in a new browser context
    _choose(
        page,
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Baseline"),
        "wide_resnet50_2",
    )
    wait_for_text(page, "resnet34 vs wide_resnet50_2 (outlined in red):")
    link = page.url
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 720})
    fresh = other.new_page()
    fresh.goto(link)
    wait_for_app(fresh)
    wait_for_text(fresh, "resnet34 vs wide_resnet50_2 (outlined in red):")
    assert "Deltas in brackets are against wide_resnet50_2" in fresh.inner_text("body")
    for name in ("resnet34", "resnext50_32x4d", "wide_resnet50_2"):
        fresh.get_by_role("button", name=f"Remove {name} (preset)", exact=True).wait_for()
    other.close()


def test_a_link_carries_the_base_preset(page, app_server):
    modified = presets.get("resnet50").replace(shortcut="C")
    page.goto(f"{app_server}/?d={presets.get('resnet50').to_url()}")
    wait_for_app(page)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
    _choose(page, box.filter(has_text="Shortcut option"), "C: projection in every block")
    wait_until(
        page,
        "(t) => location.search.includes(t)",
        "the modified design in the URL",
        arg=modified.to_url(),
    )
    assert "from=resnet50" in page.url
    other = page.context.browser.new_context()
    fresh = other.new_page()
    fresh.goto(page.url)
    wait_for_app(fresh)
    assert fresh.inner_text("h1") == "ResNet-50 (modified)"
    assert "Modified from the preset ResNet-50" in fresh.inner_text("body")
    assert "Custom design" not in fresh.inner_text("body")
    other.close()
