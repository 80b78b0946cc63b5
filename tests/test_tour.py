"""The Tour: its steps point at views the tabs' links accept, and a step's button opens that view in place."""

import pytest
from conftest import save_screenshot

from demo.tabs import tour


def test_every_step_names_a_tab_and_only_that_tabs_link_settings():
    """Each step's query is a valid link: read() against the tabs' declared parameter names leaves nothing unused."""
    declared = {
        "generate": ["run", "epoch", "seed", "grid_size", "labels"],
        "timeline": ["run", "epoch", "seed", "grid_size", "labels"],
        "compare": ["run_a", "run_b", "epoch", "seed", "grid", "labels"],
        "discriminator": ["run", "epoch", "seed", "grid_size", "sample"],
        "own": ["run", "epoch", "seed", "index"],
        "train": ["recipe"],
    }
    assert 6 <= len(tour.STEPS) <= 8
    for step in tour.STEPS:
        query = dict(step.query)
        tab = query.pop("tab")
        assert tab in declared, step.title
        assert set(query) <= set(declared[tab]), step.title
        runs = {query[k] for k in ("run", "run_a", "run_b") if k in query}
        assert runs <= set(step.needs), step.title  # a step is left out when a run it shows is not loaded


@pytest.mark.browser
def test_a_step_opens_its_view_in_place(two_runs_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(two_runs_url)
    page.get_by_role("tab", name="Tour").click()
    number = next(k for k, step in enumerate(tour.STEPS, start=1) if step.title == "Mode collapse")
    page.locator(f"#tour-{number}").click()
    timeline = page.locator("#tab-timeline")
    timeline.wait_for(state="visible", timeout=60_000)
    labels = timeline.get_by_label("Show labels")
    page.wait_for_function("el => el.checked", arg=labels.element_handle(), timeout=60_000)
    assert page.locator("#link-note").is_hidden()  # no "not in the link" line for a tour step
    save_screenshot(page, tmp_path, "tour-mode-collapse.png", full_page=False)
