"""End-to-end: every page as a presenter shows it, at 1280x720, for the family presets."""

from __future__ import annotations

import pytest

from e2e.browser import assert_nothing_clipped, rerun, screenshot, wait_for_app, wait_for_text
from resnet_explorer import presets

pytestmark = pytest.mark.e2e

PAGES = ["", "Profile", "Diagrams", "Compare", "Library", "Explore"]
FAMILY = ["regnety_040", "seresnext50_32x4d", "resnet50_os8", "resnet14t"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_the_family_presets_whole_at_1280x720(page, app_server, path):
    """Each page, for each new family preset: no exception, the preset's title shown, and
    nothing a user reads cut off (metric labels and values, select values, captions)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    for name in FAMILY:
        page.goto(f"{app_server}/{path}?d={presets.get(name).to_url()}&from={name}")
        wait_for_app(page)
        if path not in ("Library", "Explore"):
            wait_for_text(page, presets.info(name).title)
        assert not page.locator('[data-testid="stException"]').count(), (path, name)
        assert_nothing_clipped(page, f"/{path} with {name}")
    screenshot(page, f"walk-1280-{path.lower() or 'design'}")


def test_library_actions_fit_at_1280x720(page, app_server):
    """A saved design with a long name and its copy: the buttons read whole ("Open in
    edi..." before) and so does the copy's suggested name ("... (c" before)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    name = "regnety_040"
    page.goto(f"{app_server}/Library?d={presets.get(name).to_url()}&from={name}")
    wait_for_app(page)
    with rerun(page):
        page.get_by_role("button", name="Save to library").click()
    with rerun(page):
        page.get_by_role("button", name="Duplicate").click()
    wait_for_text(page, f"{presets.info(name).title} (copy)")
    page.get_by_role("button", name="Open in editor").scroll_into_view_if_needed()
    assert_nothing_clipped(page, "the Library's actions")
    screenshot(page, "walk-1280-library-actions")
