"""Links that reopen a view, in a real browser: a link opens its tab with its settings and the very picture the same
call through the API draws; "Copy link" writes such a link; a link with settings it cannot use says so in one line.
"""

import io
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from conftest import save_screenshot
from gradio_client import Client
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def shown_picture(page, selector: str) -> np.ndarray:
    """The pixels of the picture the page shows in `selector` (fetched from the URL it shows)."""
    src = page.locator(f"{selector} img").first.get_attribute("src")
    return np.asarray(Image.open(io.BytesIO(httpx.get(src, timeout=30).content)).convert("L"))


def shows(page, selector: str, expected: np.ndarray, timeout_s: float = 60) -> bool:
    """Whether the picture in `selector` becomes `expected` within `timeout_s` (the page draws it after loading)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        picture = shown_picture(page, selector)
        if picture.shape == expected.shape and np.array_equal(picture, expected):
            return True
        page.wait_for_timeout(250)
    return False


def api_picture(url: str, *args, api_name: str, index: int = 0) -> np.ndarray:
    result = Client(url, verbose=False).predict(*args, api_name=api_name)
    return np.asarray(Image.open(result[index]).convert("L"))


def opened(browser, url: str, query: str, wait_for: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url.rstrip('/')}/?{query}")
    page.get_by_text(wait_for).first.wait_for(timeout=60_000)
    return page


def test_a_link_opens_generate_on_the_same_picture_as_the_api(two_runs_url, browser, tmp_path):
    query = "tab=generate&run=tutorial&epoch=2&seed=7&grid_size=3&labels=false"
    page = opened(browser, two_runs_url, query, "tutorial, epoch 2, seed 7, 3x3 grid")
    assert page.locator("#tab-generate").is_visible()
    assert page.locator("#link-note").is_hidden()  # every setting was usable
    expected = api_picture(two_runs_url, "tutorial", 2, 7, 3, False, api_name="/generate")
    assert np.array_equal(shown_picture(page, "#generate-picture"), expected)
    assert page.locator("#tab-generate input[type=number]").first.input_value() == "2"  # the epoch slider's box
    # drawn by the tab's own handler: the download keeps its name (an update to the picture would lose it)
    assert "tutorial-epoch-2-seed-7.png" in page.locator("#generate-picture img").first.get_attribute("src")
    save_screenshot(page, tmp_path, "link-generate.png", full_page=False)


def test_copy_link_writes_a_link_that_reopens_the_view(two_runs_url, browser, tmp_path):
    page = opened(
        browser, two_runs_url, "tab=compare&run_a=tutorial&run_b=stable&epoch=1&seed=3&grid=2&labels=false", ""
    )
    page.locator("#compare-a img").first.wait_for(timeout=60_000)
    page.locator("#copy-link-compare").click()
    box = page.locator("#link-compare textarea, #link-compare input").first
    page.wait_for_function("(el) => el.value.includes('tab=compare')", arg=box.element_handle(), timeout=30_000)
    link = box.input_value()
    settings = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert settings == {
        "tab": "compare", "run_a": "tutorial", "run_b": "stable", "epoch": "1", "seed": "3", "grid": "2",
        "labels": "false",
    }  # fmt: skip
    again = browser.new_page(viewport={"width": 1280, "height": 1000})
    again.goto(link)
    again.locator("#compare-a img").first.wait_for(timeout=60_000)
    expected_a = api_picture(two_runs_url, "tutorial", "stable", 1, 3, 2, False, api_name="/compare")
    expected_b = api_picture(two_runs_url, "tutorial", "stable", 1, 3, 2, False, api_name="/compare", index=1)
    assert shows(again, "#compare-a", expected_a) and shows(again, "#compare-b", expected_b)
    save_screenshot(again, tmp_path, "link-compare.png", full_page=False)


def test_a_link_with_bad_settings_falls_back_and_says_so(two_runs_url, browser, tmp_path):
    page = opened(browser, two_runs_url, "tab=generate&run=nope&epoch=999&seed=7&colour=red", "From this link")
    line = page.locator("#link-note").inner_text()
    assert "run=nope (run must be one of 'stable', 'tutorial'" in line
    assert "epoch=999 (epoch must be a whole number from 1 to 3" in line  # the default run, tutorial: epochs 1-3
    assert "not in the link: grid_size, labels" in line and "ignored (not settings of Generate): colour" in line
    page.get_by_text("tutorial, epoch 3, seed 7, 6x6 grid").first.wait_for(timeout=60_000)
    expected = api_picture(two_runs_url, "tutorial", 3, 7, 6, False, api_name="/generate")
    assert np.array_equal(shown_picture(page, "#generate-picture"), expected)
    save_screenshot(page, tmp_path, "link-bad.png", full_page=False)
