"""End-to-end: sample a design space on the Explore page and send samples to Compare."""

from __future__ import annotations

import pytest

from e2e.browser import rerun, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_explore_samples_a_space_and_sends_designs_to_compare(page, app_server):
    page.goto(app_server + "/Explore")
    wait_for_app(page)
    page.get_by_text("Explore a design space").first.wait_for()
    samples = page.get_by_label("Samples", exact=True)
    samples.fill("30")
    with rerun(page):
        samples.press("Enter")
    page.get_by_role("button", name="Start", exact=True).click()
    # the run goes on in the background; the page polls it and shows the results
    page.get_by_text("Done in").wait_for(timeout=90_000)
    screenshot(page, "explore")
    page.get_by_role("tab", name="Top-k").click()
    with rerun(page):
        page.get_by_role("button", name="Send to Compare").click()
    with rerun(page):
        page.get_by_role("link", name="Compare").click()
    page.get_by_text("(from Explore)").first.wait_for()
    page.locator('[data-testid="stTable"]').first.wait_for()
    assert "explore #" in page.locator('[data-testid="stTable"]').first.inner_text()
    screenshot(page, "compare-from-explore")


def test_start_is_enabled_again_when_an_exploration_ends(page, app_server):
    page.goto(app_server + "/Explore")
    wait_for_app(page)
    # one seed: what is tested is the page's redraw when the run ends, not the seeds
    settings = [("Samples", "3"), ("Probe steps (0 = none)", "1"), ("Probe seeds per sample", "1")]
    for label, value in settings:
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        with rerun(page):
            box.press("Enter")
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Evaluating").first.wait_for(timeout=60_000)  # drawn while busy
    page.get_by_text("Done in").wait_for(timeout=240_000)  # a busy 2-core box
    # Only the polling fragment redraws itself; the page must redraw too, without a click.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.trim() === 'Start' && !b.disabled)",
        timeout=15_000,
    )
