"""End-to-end: start a 20-step probe on the offline digits, watch it, stop it, find it in the
run history; in headless Chromium against the real server."""

from __future__ import annotations

import re

import pytest

from e2e.browser import rerun, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

CURVE_POINTS = """() => {
  let most = 0;
  for (const plot of document.querySelectorAll('.st-key-probe_curves .js-plotly-plot')) {
    const n = (plot.data || []).reduce((k, t) => k + (t.x ? t.x.length : 0), 0);
    most = Math.max(most, n);
  }
  return most;
}"""


def _number(page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    with rerun(page):
        box.press("Enter")


def _select(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    with rerun(page):
        page.locator('[role="option"]').filter(has_text=option).first.click()


def test_start_watch_stop_and_find_a_probe(page, app_server):
    page.goto(f"{app_server}/Probe")
    wait_for_app(page)
    page.get_by_text("Pick designs or an experiment and start a run.").wait_for()
    # 20 steps each of plain20 and resnet20 at 16 px, batch 512: long enough to stop.
    _number(page, "Steps per design", 20)
    _number(page, "Batch size", 512)
    _select(page, "Input size (px)", "16")
    page.get_by_role("button", name="Start training").click()

    # progress advances and the chart grows while the run goes on
    page.get_by_text("plain20 · running · step", exact=False).first.wait_for(timeout=90_000)
    page.wait_for_function(f"({CURVE_POINTS})() > 0", timeout=90_000)
    first = page.evaluate(CURVE_POINTS)
    page.wait_for_function(f"({CURVE_POINTS})() > {first}", timeout=60_000)
    page.locator(".st-key-probe_curves").first.scroll_into_view_if_needed()
    screenshot(page, "probe-running")

    # touching another widget does not stop the run
    page.get_by_role("radio", name="wall time").click(force=True)
    now = page.evaluate(CURVE_POINTS)
    page.wait_for_function(f"({CURVE_POINTS})() > {now}", timeout=60_000)

    page.locator(".st-key-probe_stop button").first.click()
    page.get_by_text("Stopped:", exact=False).first.wait_for(timeout=60_000)
    body = page.inner_text("body")
    assert "· cancelled ·" in body
    saved = page.get_by_text("In the run history (Library page) as:").first
    saved.wait_for()
    run_ids = re.findall(r"[0-9a-f]{32}", saved.inner_text())
    assert run_ids
    screenshot(page, "probe-stopped")

    # the runs are in the library's run history
    page.goto(f"{app_server}/Library")
    wait_for_app(page)
    history = page.get_by_text("Run history", exact=True).first
    history.wait_for()
    history.scroll_into_view_if_needed()
    page.locator('[data-testid="stDataFrame"] [role="gridcell"]').last.wait_for(state="attached")
    screenshot(page, "probe-in-library")
    statuses = []
    for run_id in run_ids:
        row = page.locator('[data-testid="stDataFrame"] tr').filter(has_text=run_id).first
        row.wait_for(state="attached", timeout=30_000)  # the grid's accessible table
        statuses.append(row.inner_text())
    assert any("cancelled" in text for text in statuses), statuses


def test_start_is_enabled_again_when_a_probe_finishes(page, app_server):
    page.goto(f"{app_server}/Probe")
    wait_for_app(page)
    _number(page, "Steps per design", 3)
    start = page.get_by_role("button", name="Start training")
    start.click()
    page.get_by_text("Done in", exact=False).first.wait_for(timeout=90_000)
    # Only the polling fragment redraws itself; the page must redraw too, without a click.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Start training') && !b.disabled)",
        timeout=15_000,
    )
    assert page.get_by_role("button", name="Run this experiment").is_enabled()
