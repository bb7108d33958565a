"""End-to-end: Compare 3 and 4 designs with their differences highlighted, one line a stage;
designs with other inputs; links that reopen what the sender saw (the base preset, the Compare
picks and baseline, the Share popover's link) and damaged links that say so, in view."""

from __future__ import annotations

import pytest

from e2e.browser import (
    add_to_compare,
    assert_nothing_clipped,
    edit_stage_cell,
    in_viewport,
    remove_from_compare,
    rerun,
    screenshot,
    wait_for_app,
    wait_for_text,
    wait_until,
)
from e2e.conftest import serve
from resnet_explorer import presets

pytestmark = pytest.mark.e2e

CHARTS = '[data-testid="stGraphVizChart"]'


def _choose(page, box, option: str) -> None:
    """Pick ``option`` in the selectbox ``box`` (typing filters the list first)."""
    box.click()
    page.keyboard.type(option.split(" ")[0])
    with rerun(page):
        page.locator('[role="option"]').filter(has_text=option).first.click()


def _text(page) -> str:
    """The page's text, Streamlit's markdown arrows ('→') written back as '->'."""
    return page.inner_text("body").replace("\u2192", "->")


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
    body = _text(page)
    assert "resnext50_32x4d vs resnet34 (outlined in red):" in body
    assert "layer1: block basic -> bottleneck; channels 64->64 vs 64->256 (every block)" in body
    assert "layer2.1" not in body  # a stage's blocks are counted in its line, not listed
    page.locator(CHARTS).nth(1).scroll_into_view_if_needed()
    assert_nothing_clipped(page, "Compare with three designs at 1280x720")
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


def _diagrams(page, count: int) -> None:
    wait_until(
        page,
        f"() => document.querySelectorAll('{CHARTS} svg').length === {count}",
        f"{count} network diagrams",
    )


def _four_resnet50s(page, url: str) -> None:
    """ResNet-50 (the baseline), ResNeXt-50, Wide ResNet-50-2 and ResNet-101 on Compare."""
    page.goto(f"{url}/Compare?cmp=preset:resnet50&cmp=preset:resnext50_32x4d")
    wait_for_app(page)
    add_to_compare(page, "wide_resnet50_2")
    add_to_compare(page, "resnet101")
    _diagrams(page, 4)


def test_four_designs_each_named_with_one_reason_a_stage(page, app_server):
    """Every diagram titled by its design, the stage boxes saying what tells them apart, one
    line a stage that differs (ResNeXt-50 gave 20 lines of conv labels), nothing cut off."""
    page.set_viewport_size({"width": 1280, "height": 720})
    _four_resnet50s(page, app_server)
    titles = [page.locator(CHARTS).nth(i).inner_text() for i in range(4)]
    names = ["ResNet-50", "ResNeXt-50 (32x4d)", "Wide ResNet-50-2"]
    for title, name in zip(titles[:3], names, strict=True):
        assert name in title, (name, title)
    assert "ResNet-101" in titles[3] and "Bottleneck x 23" in titles[3]
    assert "32 groups x 4 = 128 ch" in titles[1] and "width x2" in titles[2]
    body = _text(page)
    for line in (
        "layer1: 3x3 conv: 64 ch -> 32 groups x 4 = 128 ch (every block)",
        "layer4: 3x3 conv: 512 ch -> 1024 ch, width x2 (every block)",
        "layer3: blocks 6 -> 23",
    ):
        assert line in body, line
    assert "not in the baseline" not in body and "layer3.6" not in body
    assert _red_outlines(page, 0) == 0 and _red_outlines(page, 3) >= 1
    page.locator(CHARTS).nth(3).scroll_into_view_if_needed()
    assert_nothing_clipped(page, "Compare with four designs at 1280x720")
    screenshot(page, "compare-four-highlighted")


def test_switching_baseline_and_picks_twice_fast_ends_where_the_last_click_said(page, app_server):
    """Two baseline switches and a remove and re-add, each clicked before the last run ended:
    the page ends on the last choice, the URL with it."""
    _four_resnet50s(page, app_server)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Baseline")
    for option in ("wide_resnet50_2", "resnet101"):
        box.click()
        page.keyboard.type(option)
        page.locator('[role="option"]').filter(has_text=option).first.click()
    wait_for_text(page, "Deltas in brackets are against resnet101")
    wait_for_app(page)
    assert "cbase=3" in page.url
    for _ in range(2):  # remove and add back, twice, fast
        page.get_by_role("button", name="Remove resnext50_32x4d (preset)", exact=True).click()
        add_to_compare(page, "resnext50_32x4d")
    wait_for_app(page)
    _diagrams(page, 4)
    assert "Deltas in brackets are against resnet101" in page.inner_text("body")
    assert not page.locator('[data-testid="stException"]').count()


def test_designs_with_other_inputs_say_so_instead_of_a_delta(page, app_server):
    """A CIFAR ResNet-20 against an ImageNet ResNet-50: no '-99.0%' MACs delta."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{app_server}/Compare?cmp=preset:resnet50&cmp=preset:resnet20")
    wait_for_app(page)
    note = page.locator('[data-testid="stAlert"]').filter(has_text="take different inputs")
    note.wait_for()
    assert "3 x 32 x 32" in note.inner_text() and "3 x 224 x 224" in note.inner_text()
    table = page.locator('[data-testid="stTable"]').inner_text()
    assert "[other input]" in table and "-99" not in table
    assert_nothing_clipped(page, "Compare with different inputs")


def test_damaged_and_overfull_compare_links_say_so_in_view(page, app_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    token = presets.get("resnet50").replace(shortcut="C").to_url()
    page.goto(f"{app_server}/Compare?cmp=preset:resnet50&cmp=sent:mine~{token[:40]}")
    wait_for_app(page)
    note = page.locator('[data-testid="stAlert"]').filter(has_text="damaged or incomplete")
    note.wait_for()
    assert "mine" in note.inner_text() and "does not have" not in note.inner_text()
    assert in_viewport(page, note)
    many = "&".join(f"cmp=preset:{n}" for n in ("resnet18", "resnet34", "resnet50", "resnet101"))
    page.goto(f"{app_server}/Compare?{many}&cmp=preset:resnet152&cmp=preset:nosuchnet")
    wait_for_app(page)
    note = page.locator('[data-testid="stAlert"]').filter(has_text="left out")
    note.wait_for()
    assert "resnet152" in note.inner_text() and in_viewport(page, note)
    _diagrams(page, 4)
    page.goto(f"{app_server}/?d={token[:-20]}&from=resnet50")  # the home page, truncated
    wait_for_app(page)
    note = page.get_by_text("this design link is damaged or incomplete")
    note.wait_for()
    assert in_viewport(page, note)


def _share_popover(page, tab: str, shows: str):
    """Open the home page's Share popover on ``tab``; once its code box shows ``shows``, fails
    unless the popover is wholly in view with nothing to scroll. Returns that code box."""
    body = page.locator('[data-testid="stPopoverBody"]')
    if not body.is_visible():  # a click on the button while it is open closes it
        page.get_by_role("button", name="Share", exact=True).click()
    body.wait_for()
    page.get_by_role("tab", name=tab).click()
    code = body.locator("code").filter(has_text=shows)
    code.wait_for()  # the tab draws its code box after the click
    wait_until(
        page,
        "() => { const b = document.querySelector('[data-testid=\"stPopoverBody\"]');"
        " return b && b.scrollHeight <= b.clientHeight + 1"
        " && b.getBoundingClientRect().bottom <= innerHeight; }",
        f"the Share popover's {tab!r} tab wholly in view, nothing to scroll",
    )
    return code


@pytest.mark.parametrize("size", [(1280, 720), (1500, 1100)])
def test_the_share_link_reopens_the_modified_preset_and_its_popover_fits(page, app_server, size):
    """The popover's link, opened elsewhere, names the design from its base preset, with
    deltas (not "Custom design ... (scratch)"); its tabs are wholly in view, the code too."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{app_server}/?d={presets.get('resnet50').to_url()}")
    wait_for_app(page)
    with rerun(page):
        edit_stage_cell(page, 2, 0, "8")
    wait_for_text(page, "ResNet-50 (modified)")
    assert_nothing_clipped(page, "the home page's title row")
    _share_popover(page, "Copy as code", "Stage(blocks=8, width=256, stride=2)")
    screenshot(page, f"share-code-{size[0]}")
    link = _share_popover(page, "Link", "?d=v1.").inner_text().strip()
    assert "from=resnet50" in link
    other = page.context.browser.new_context(viewport={"width": size[0], "height": size[1]})
    fresh = other.new_page()
    fresh.goto(link)
    wait_for_app(fresh)
    assert fresh.inner_text("h1") == "ResNet-50 (modified)"
    assert "Modified from the preset ResNet-50" in fresh.inner_text("body")
    assert "Custom design" not in fresh.inner_text("body")
    other.close()


def test_compare_in_the_dark_theme_at_1500x1100(browser, tmp_path, monkeypatch):
    """The dark theme (forced as a user's setting would): four designs, nothing cut off."""
    monkeypatch.setenv("STREAMLIT_THEME_BASE", "dark")
    with serve(tmp_path / "home", tmp_path / "dark.log") as (url, _proc):
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        dark = context.new_page()
        dark.set_default_timeout(90_000)
        _four_resnet50s(dark, url)
        colour = dark.evaluate(
            "getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
        )
        assert colour != "rgb(255, 255, 255)", colour
        assert "layer3: blocks 6 -> 23" in _text(dark)
        assert_nothing_clipped(dark, "Compare, dark theme, 1500x1100")
        dark.locator(CHARTS).nth(1).scroll_into_view_if_needed()
        screenshot(dark, "compare-four-dark-1500")
        context.close()
