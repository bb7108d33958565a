"""End-to-end: start a 20-step probe on the offline digits, watch it, stop it, find it in the
run history; in headless Chromium against the real server."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from e2e.browser import rerun, screenshot, wait_for_app, wait_for_text, wait_until
from e2e.conftest import serve
from resnet_explorer.store import Store

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


def test_start_watch_stop_and_find_a_probe(page, app_server):
    page.goto(f"{app_server}/Probe")
    wait_for_app(page)
    page.get_by_text("Pick designs or an experiment and start a run.").wait_for()
    # 20 steps each of plain20 and resnet20 at 16 px (the default), batch 512: long enough to stop.
    _number(page, "Steps per design", 20)
    _number(page, "Batch size", 512)
    page.get_by_role("button", name="Start training").click()

    # progress advances and the chart grows while the run goes on
    page.get_by_text("plain20 · running · step", exact=False).first.wait_for(timeout=90_000)
    page.wait_for_function(f"({CURVE_POINTS})() > 0", timeout=90_000)
    first = page.evaluate(CURVE_POINTS)
    page.wait_for_function(f"({CURVE_POINTS})() > {first}", timeout=60_000)
    # one atomic scroll: the polling fragment may redraw the chart between a locate and a scroll
    page.evaluate("document.querySelector('.st-key-probe_curves')?.scrollIntoView()")
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
    seeds = page.locator(".st-key-probe_seeds input")  # the one-click experiments have their own
    seeds.fill("1")  # what is tested is the page's redraw, not the seeds
    with rerun(page):
        seeds.press("Enter")
    start = page.get_by_role("button", name="Start training")
    start.click()
    wait_for_text(page, "Done in", timeout=180_000)
    # Only the polling fragment redraws itself; the page must redraw too, without a click.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Start training') && !b.disabled)",
        timeout=15_000,
    )
    assert page.get_by_role("button", name="Run this experiment").is_enabled()


def _new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def _start_long_probe(page, url: str, owner: str) -> None:
    page.goto(f"{url}/Probe")
    wait_for_app(page)
    page.get_by_text("Pick designs or an experiment and start a run.").wait_for()
    name = page.get_by_role("textbox", name="Your name on the jobs you start")
    name.fill(owner)
    name.press("Enter")
    page.get_by_text("Jobs on this server").first.wait_for()
    _number(page, "Steps per design", 5000)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("plain20 · running · step", exact=False).first.wait_for(timeout=90_000)


def test_a_job_started_in_one_browser_is_listed_and_stopped_from_another(browser, app_server):
    ada_context, ada = _new_page(browser)
    grace_context, grace = _new_page(browser)
    try:
        _start_long_probe(ada, app_server, "Ada")
        assert "probe=p1." in ada.url
        grace.goto(ada.url)  # Ada's link: her picks and settings
        wait_for_app(grace)
        steps = grace.get_by_role("spinbutton", name="Steps per design", exact=True)
        wait_until(
            grace,
            "(box) => box.value === '5000'",
            "the link's 5000 steps in the second browser's 'Steps per design'",
            arg=steps.element_handle(),
            timeout=15_000,
        )
        row = grace.locator('[data-testid="stHorizontalBlock"]').filter(has_text="started by Ada")
        row.first.wait_for(timeout=60_000)
        assert "plain20, resnet20" in row.first.inner_text()
        screenshot(grace, "probe-jobs-of-every-session")
        row.first.locator("button").click()
        wait_for_text(ada, "Stopped:", timeout=60_000)
        wait_for_text(ada, "plain20 · cancelled", timeout=30_000)  # its bar redrawn too
        body = ada.inner_text("body")
        assert "stopped from another session, by session " in body and "· cancelled ·" in body
        # stopped during its first seed: no seed is done, and the bar says how far it got
        (line,) = [t for t in body.splitlines() if t.startswith("plain20 · cancelled")]
        assert "· seed 0 (0 of 3 seeds done)" in line, line  # not "seed 2 (3 of 3 ...)"
        bar = ada.locator('[data-testid="stProgress"] [role="progressbar"]').first
        assert float(bar.get_attribute("aria-valuenow")) < 50
        grace.get_by_text("Jobs on this server: none is running.").wait_for(timeout=30_000)
    finally:
        ada_context.close()
        grace_context.close()


def test_sigterm_to_the_server_stops_its_jobs_and_keeps_every_step(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with serve(home, tmp_path / "streamlit.log") as (url, proc):
        context, page = _new_page(browser)
        try:
            _start_long_probe(page, url, "Ada")
            library = home / "library.sqlite3"
            deadline = time.monotonic() + 240  # a busy 2-core CI box trains slowly
            committed = 0
            while committed < 3:  # the run history holds some steps of the running design
                assert time.monotonic() < deadline, "no steps committed to the run history"
                runs = Store(library).runs() if library.exists() else []
                committed = max((run.steps for run in runs), default=0)
                time.sleep(0.2)
        finally:
            context.close()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    (run,) = Store(home / "library.sqlite3").runs()
    assert run.status == "cancelled" and run.error == "stopped: the server shut down"
    assert run.steps >= committed and run.last_step == run.steps
