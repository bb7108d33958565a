"""Browser helpers for the end-to-end tests (Debian's Chromium driven by Playwright).

Every wait is keyed to the app's own state, never to the clock: each script run of a page
draws ``<span id="app-state" data-run=N data-design=HASH ...>`` (see `ui.page`) and Streamlit
sets ``data-test-script-state`` on the app. `rerun` waits for a run that started after an
action to finish; a timeout fails with a message naming what was awaited.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("RESNET_EXPLORER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: How long one script run may take on a busy 2-core machine (ms).
RUN_TIMEOUT_MS = 90_000
_MARKER = "document.getElementById('app-state')"
# Idle: no script run in progress, no part of the page waiting for the server's warm-up
# (the home page's block note, `ui.home_block`, reruns the page when PyTorch is ready), and no
# visible element still a placeholder (the browser draws a run's last elements up to ~1 s after the
# server says the run has ended, on a busy machine).
_IDLE = (
    "(() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
    " return a && a.dataset.testScriptState === 'notRunning'"
    " && !document.querySelector('.st-key-block_wait')"
    " && ![...document.querySelectorAll('[data-testid=\"stSkeleton\"]')]"
    ".some(e => e.getClientRects().length); })()"
)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact (artifacts/screenshots/NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(page, expression: str, what: str, *, arg=None, timeout: float = RUN_TIMEOUT_MS):
    """Wait until the JS ``expression`` is truthy; on timeout fail saying ``what`` was awaited."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_function(expression, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        raise AssertionError(f"timed out after {timeout / 1000:g} s waiting for {what}") from None


def run_count(page) -> int:
    """The number of the page's last script run that reached its marker (0: none yet)."""
    return int(
        page.evaluate(f"(() => {{ const m = {_MARKER}; return m ? +m.dataset.run : 0; }})()")
    )


def app_state(page) -> dict[str, str]:
    """The marker's data: run, page, design (hash), invalid ('1' when the editor's is)."""
    return page.evaluate(
        f"(() => {{ const m = {_MARKER}; return m ? {{...m.dataset}} : {{}}; }})()"
    )


def wait_for_app(page, after: int | None = None, *, timeout: float = RUN_TIMEOUT_MS) -> None:
    """Wait until a script run (one numbered above ``after``, when given) has finished."""
    floor = -1 if after is None else after
    wait_until(
        page,
        f"(floor) => {{ const m = {_MARKER}; return m && +m.dataset.run > floor && {_IDLE}; }}",
        f"the page to finish a script run (after run {after})" if after is not None else
        "the page to finish its script run",
        arg=floor,
        timeout=timeout,
    )  # fmt: skip


@contextlib.contextmanager
def rerun(page, *, timeout: float = RUN_TIMEOUT_MS) -> Iterator[None]:
    """``with rerun(page): click()``: wait for the run the action starts to finish."""
    before = run_count(page)
    yield
    wait_for_app(page, after=before, timeout=timeout)


def wait_for_text(page, text: str, *, timeout: float = RUN_TIMEOUT_MS) -> None:
    """Wait until ``text`` is on the page (fails naming the text)."""
    wait_until(
        page,
        "(t) => document.body.innerText.includes(t)",
        f"the text {text!r}",
        arg=text,
        timeout=timeout,
    )


# --- the Compare page's picks ----------------------------------------------------------------


def add_to_compare(page, name: str) -> None:
    """Add the preset ``name`` to the designs compared (typing filters the list first)."""
    page.get_by_role("combobox", name="Designs to compare", exact=False).click()
    page.keyboard.type(name)
    with rerun(page):
        page.locator('[role="option"]').filter(has_text=f"{name} (preset)").first.click()
    page.keyboard.press("Escape")


def remove_from_compare(page, label: str) -> None:
    """Remove the design shown as ``label`` from the designs compared."""
    with rerun(page):
        page.get_by_role("button", name=f"Remove {label}", exact=True).click()


# --- the sidebar's stage table (a canvas grid) ---------------------------------------------------

GRID = '[data-testid="stSidebar"] [data-testid="stDataFrame"]'
CELL_EDITOR = "#portal input, #portal textarea"


def stage_cells(page) -> list[list[str]]:
    """The stage table's cells as text, row by row (from the grid's accessible mirror)."""
    page.locator(f"{GRID} [role='gridcell']").first.wait_for(state="attached")
    rows = page.locator(f"{GRID} [role='row']").all()
    cells = [r.locator("[role='gridcell']").all_inner_texts() for r in rows]
    return [c for c in cells if c]


def wait_for_stage_rows(page, count: int) -> list[list[str]]:
    """Wait until the stage table shows ``count`` rows; returns its cells."""
    wait_until(
        page,
        "([sel, n]) => [...document.querySelectorAll(sel + \" [role='row']\")]"
        ".filter(r => r.querySelector(\"[role='gridcell']\")).length === n",
        f"the stage table to show {count} rows",
        arg=[GRID, count],
    )
    return stage_cells(page)


def edit_stage_cell(page, row: int, column: int, value: str, *, key: str = "Enter") -> None:
    """Type ``value`` into the stage table's cell (``row``, ``column``, from 0) and commit it
    with ``key`` (Enter or Tab), as a person does: click the cell, type (which replaces its
    value), Enter.
    Escape first: clicking a cell that is already selected would edit its old value instead.
    Does not wait for the app."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    grid = page.locator(GRID)
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")  # wholly in view, every row
    x, y = _cell_centre(grid.bounding_box(), row, column)
    page.keyboard.press("Escape")
    # The pointer moves over the grid before it clicks, as a person's does: the grid opened
    # no editor for keys after a click that came straight from elsewhere (a sidebar select).
    page.mouse.move(x - 3, y)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.keyboard.type(value)
    try:
        page.locator(CELL_EDITOR).first.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        # Should the keys still reach no editor, a double click opens it, as a person would.
        page.keyboard.press("Escape")
        page.mouse.dblclick(x, y)
    commit_cell_editor(page, value, key)


def commit_cell_editor(page, value: str, key: str = "Enter") -> None:
    """Commit the grid's cell editor (opened by typing) once it holds ``value``: Enter (or
    Tab) pressed in the editor itself. The grid sometimes leaves the keyboard focus on its
    accessible mirror table after opening the editor, where Enter would only move down."""
    editor = page.locator(CELL_EDITOR).first
    editor.wait_for()
    if editor.input_value() != value:
        editor.fill(value)
    editor.press(key)
    editor.wait_for(state="detached")


# Column widths of the stage table (ui.editor._column_config) and the grid's row metrics (px).
_ROW_MARKER, _HEADER, _ROW = 33, 35, 35
_WIDTHS = (74, 68, 68, 92)


def _cell_centre(frame: dict, row: int, column: int) -> tuple[float, float]:
    x = frame["x"] + _ROW_MARKER + sum(_WIDTHS[:column]) + _WIDTHS[column] / 2
    y = frame["y"] + _HEADER + _ROW * row + _ROW / 2
    return x, y


def in_viewport(page, locator) -> bool:
    """Whether ``locator``'s element is wholly inside the window, without scrolling."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


_CLIPPED = """() => {
  const cut = [];
  const ctx = document.createElement('canvas').getContext('2d');
  const skip = '[data-testid="stDataFrame"], .js-plotly-plot, [data-testid="stCode"], pre, '
    + '[data-testid="stSkipLink"], a[href="#main-content"], [data-testid="stTooltipContent"]';
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const e of document.querySelectorAll('[data-testid="stApp"] *')) {
    if (e.closest(skip) || !shown(e)) continue;
    if (e.tagName === 'INPUT') {
      if (['checkbox', 'radio', 'file', 'hidden'].includes(e.type)) continue;
      const label = (e.getAttribute('aria-label') || 'input') + ': ';
      if (e.value && e.scrollWidth > e.clientWidth + 1) cut.push(label + e.value);
      if (!e.value && e.placeholder) {  // a placeholder is not in scrollWidth: measure it
        const cs = getComputedStyle(e);
        ctx.font = cs.font;
        const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        if (ctx.measureText(e.placeholder).width > room + 1) cut.push(label + e.placeholder);
      }
      continue;
    }
    const text = (e.innerText || '').trim();
    if (!text || text === 'Skip to main content') continue;
    const cs = getComputedStyle(e);
    const hides = cs.textOverflow === 'ellipsis' || cs.overflowX === 'hidden';
    if (hides && e.scrollWidth > e.clientWidth + 1) cut.push(text.slice(0, 120));
  }
  return [...new Set(cut)];
}"""


def clipped_texts(page) -> list[str]:
    """Texts on screen that are cut off: an element that hides its overflow (or ends it in
    "...") whose text is wider than the element, and inputs (select values) wider than their
    box. Tables, charts and code blocks scroll, and are left out."""
    return page.evaluate(_CLIPPED)


def assert_nothing_clipped(page, what: str, *, timeout: float = 15_000) -> None:
    """Fail, naming the texts, unless nothing is cut off once the layout settles (the sidebar
    slides in and web fonts load after a run ends: a text is cut only while that lasts)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"(() => ({_CLIPPED})().length === 0)", timeout=timeout)
    except PlaywrightTimeout:
        raise AssertionError(f"{what}: cut off: {clipped_texts(page)}") from None
