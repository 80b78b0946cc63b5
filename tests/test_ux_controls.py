"""Controls and pictures never disagree, in a real browser: a typed value applies when committed (Enter or leaving
the box), clamped into range, and the picture shows exactly what the box shows; keystrokes send nothing; an empty box
is no error; derived pictures (the directions sheet, the interpolation strip) follow the epoch; a picture whose update
failed is dimmed until the next good value; downloads are named run-epoch-N-seed-S.png.

Written for the tiny test runs (tutorial: epochs 1-3, stable: 1-2). Screenshots go to artifacts/ (and SCREENSHOT_DIR
when set), as tests/conftest.py's save_screenshot puts them.
"""

import os
import re

import pytest
from conftest import save_screenshot

pytestmark = pytest.mark.browser
WAIT_MS = 60_000  # generous: the machine is shared and loaded; every wait is for a condition


@pytest.fixture(autouse=True)
def tiny_runs_only():
    if os.environ.get("APP_WEIGHTS"):
        pytest.skip("written for the test runs (tutorial: epochs 1-3, stable: 1-2)")


def open_tab(browser, two_runs_url, name: str, width: int = 1280, height: int = 800):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(two_runs_url, wait_until="domcontentloaded")
    page.get_by_role("tab", name=name, exact=True).click()
    return page


def track_calls(page) -> list[str]:
    """The body of every event the page sends to the server (Gradio's queue), in order."""
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.post_data or "") if "queue/join" in request.url else None)
    return calls


def commit(page, box, text: str) -> None:
    """Type `text` into a number box key by key, then press Enter."""
    box.click()
    box.press("Control+a")
    box.press("Backspace")
    if text:
        box.type(text, delay=30)
    box.press("Enter")


def picture_line(page) -> tuple[int, int]:
    """The epoch and grid size the Generate picture was drawn with, read from the line above its cards."""
    text = page.locator("#tab-generate .picture-line").inner_text()
    found = re.search(r"epoch (\d+), seed \d+, (\d+)x\2 grid", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def wait_for_line(page, epoch: int, size: int) -> None:
    page.wait_for_function(
        "([e, n]) => (document.querySelector('#tab-generate .picture-line')?.innerText || '')"
        ".includes(`epoch ${e}, seed 0, ${n}x${n} grid`)",
        arg=[epoch, size],
        timeout=WAIT_MS,
    )


def no_error_shown(page) -> None:
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    assert page.locator("text=None").count() == 0


@pytest.mark.parametrize(
    ("slider", "typed"),
    [
        ("Epoch", [("1e9", 3), ("150", 3), ("-1", 1), ("", 1), ("2", 2), ("2.4", 2)]),
        ("Grid size", [("1e9", 10), ("150", 10), ("-1", 1), ("", 1), ("4", 4)]),
    ],
)
def test_generate_box_and_picture_agree_after_typing(two_runs_url, browser, slider, typed):
    page = open_tab(browser, two_runs_url, "Generate")
    panel = page.locator("#tab-generate")
    page.locator("#generate-picture img").wait_for(timeout=WAIT_MS)
    box = panel.get_by_label(f"number input for {slider}", exact=False)
    calls = track_calls(page)
    for text, expected in typed:
        box.click()
        box.press("Control+a")
        box.press("Backspace")
        sent_before = len(calls)
        if text:
            box.type(text, delay=30)
        page.wait_for_timeout(300)  # give any per-keystroke event the chance to leave (none should)
        assert len(calls) == sent_before, f"typing {text!r} sent {len(calls) - sent_before} event(s) before Enter"
        box.press("Enter")
        page.wait_for_function(
            "([box, want]) => box.value === want", arg=[box.element_handle(), str(expected)], timeout=WAIT_MS
        )
        epoch = int(panel.get_by_label("number input for Epoch").input_value())
        size = int(panel.get_by_label("number input for Grid size", exact=False).input_value())
        assert (epoch if slider == "Epoch" else size) == expected, f"{text!r} left the box at the wrong value"
        wait_for_line(page, epoch, size)  # the picture was drawn with exactly what the boxes show
        assert picture_line(page) == (epoch, size)
        src = page.locator("#generate-picture img").get_attribute("src")
        assert f"tutorial-epoch-{epoch}-seed-0.png" in src
        no_error_shown(page)


def test_interpolate_t_box_clamps_and_the_caption_follows(two_runs_url, browser):
    page = open_tab(browser, two_runs_url, "Interpolate")
    page.locator("#interp-image img").wait_for(timeout=WAIT_MS)
    box = page.locator("#interp-t input[type=number]")
    for text, shown in [("2", "1"), ("-1", "0"), ("", "0"), ("0.257", "0.26")]:
        commit(page, box, text)
        page.get_by_text(f"t = {float(shown):.2f} with slerp").wait_for(timeout=WAIT_MS)
        assert box.input_value() == shown
        assert page.locator("#interp-t input[type=range]").input_value() == shown
        no_error_shown(page)


def test_seed_box_commits_on_leaving_it_and_clamps(two_runs_url, browser):
    page = open_tab(browser, two_runs_url, "Generate")
    page.locator("#generate-picture img").wait_for(timeout=WAIT_MS)
    seed = page.locator("#tab-generate").get_by_label("Seed", exact=True)
    seed.click()
    seed.press("Control+a")
    seed.type("1e12", delay=30)
    page.locator("#tab-generate").get_by_label("number input for Grid size", exact=False).click()  # leave the box
    page.wait_for_function(
        "() => (document.querySelector('#tab-generate .picture-line')?.innerText || '').includes('seed 2147483647,')",
        timeout=WAIT_MS,
    )
    assert seed.input_value() == "2147483647"
    seed.click()
    seed.press("Control+a")
    seed.press("Backspace")  # an empty seed box goes back to the seed it held
    page.locator("#tab-generate").get_by_label("number input for Epoch").click()
    page.wait_for_function("el => el.value === '2147483647'", arg=seed.element_handle(), timeout=WAIT_MS)
    no_error_shown(page)


def test_a_refused_value_dims_the_picture_until_the_next_good_one(two_runs_url, browser, tmp_path):
    page = open_tab(browser, two_runs_url, "Generate")
    page.locator("#generate-picture img").wait_for(timeout=WAIT_MS)
    # What no typing can send any more (the box clamps): an out-of-range value through a raw input event, as a
    # script or an older page would.
    page.evaluate(
        "() => { const box = document.querySelector(\"#tab-generate input[aria-label='number input for Epoch']\");"
        " box.value = '99'; box.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.wait_for_selector("#generate-picture.stale", timeout=WAIT_MS)
    assert "Not updated" in page.locator("#generate-picture").get_attribute("data-stale")
    page.locator(".toast-body").first.wait_for(timeout=WAIT_MS)
    assert "epoch must be a whole number from 1 to 3" in page.locator(".toast-body").first.inner_text()
    save_screenshot(page, tmp_path, "ux-generate-stale.png")
    commit(page, page.locator("#tab-generate").get_by_label("number input for Epoch"), "2")
    page.wait_for_selector("#generate-picture:not(.stale)", timeout=WAIT_MS)
    wait_for_line(page, 2, 6)


def test_edit_sheet_and_interpolate_strip_follow_the_epoch(two_runs_url, browser, tmp_path):
    page = open_tab(browser, two_runs_url, "Edit")
    sheet = page.locator("#edit-sheet img")
    page.locator("#edit-sheet").scroll_into_view_if_needed()
    sheet.wait_for(timeout=WAIT_MS)
    page.wait_for_function(
        "() => (document.querySelector('#edit-sheet img')?.src || '').includes('epoch-3-seed-0-directions')",
        timeout=WAIT_MS,
    )
    slider = page.locator("#tab-edit input[type=range]").first
    slider.focus()
    page.keyboard.press("Home")  # epoch 1 by keyboard: no release event, the sheet must follow anyway
    for selector, name in [("#edit-sheet img", "epoch-1-seed-0-directions"), ("#edit-grid img", "epoch-1-seed-0")]:
        page.wait_for_function(
            "([s, n]) => (document.querySelector(s)?.src || '').includes(n)", arg=[selector, name], timeout=WAIT_MS
        )
    page.get_by_text("Epoch 1, seed 0, 5x5 grid").wait_for(timeout=WAIT_MS)
    save_screenshot(page, tmp_path, "ux-edit-after-epoch-1.png")

    page.get_by_role("tab", name="Interpolate", exact=True).click()
    page.locator("#interp-strip").scroll_into_view_if_needed()
    page.locator("#interp-strip img").wait_for(timeout=WAIT_MS)
    assert page.locator("#interp-gif-preview").is_hidden()  # no GIF yet, no empty frame for it
    page.get_by_role("button", name="Draw strip and GIF").click()
    page.locator("#interp-gif-preview").wait_for(timeout=WAIT_MS)
    page.locator("#interp-gif-preview").scroll_into_view_if_needed()
    page.locator("#interp-gif-preview img").wait_for(timeout=WAIT_MS)  # the GIF plays inline
    assert page.locator("#interp-gif a").first.get_attribute("download", timeout=WAIT_MS) is not None
    assert ".gif" in page.locator("#interp-gif-preview img").get_attribute("src")
    slider = page.locator("#tab-interpolate input[type=range]").first
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function(
        "() => (document.querySelector('#interp-strip img')?.src || '').includes('epoch-1-seed-1-2-slerp-strip')",
        timeout=WAIT_MS,
    )
    page.locator("#interp-gif-preview img").wait_for(state="hidden", timeout=WAIT_MS)  # no GIF of other settings
    page.get_by_text("with slerp, epoch 1").wait_for(timeout=WAIT_MS)
    save_screenshot(page, tmp_path, "ux-interpolate-after-epoch-1.png")


def test_download_is_named_after_run_epoch_and_seed(two_runs_url, browser):
    page = open_tab(browser, two_runs_url, "Generate")
    frame = page.locator("#generate-picture")
    frame.locator("img").wait_for(timeout=WAIT_MS)
    frame.hover()
    with page.expect_download(timeout=WAIT_MS) as download:
        frame.get_by_role("button", name=re.compile("download", re.I)).first.click()
    assert download.value.suggested_filename == "tutorial-epoch-3-seed-0.png"


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_screenshots_of_the_tabs(two_runs_url, browser, tmp_path, size):
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(two_runs_url, wait_until="domcontentloaded")
    for tab, picture in [
        ("Generate", "#generate-picture img"),
        ("Interpolate", "#interp-image img"),
        ("Edit", "#edit-grid img"),
        ("Compare", "#compare-a img"),
        ("Digits", "#digit-sheet img"),
    ]:
        page.get_by_role("tab", name=tab, exact=True).click()
        page.locator(picture).scroll_into_view_if_needed(timeout=WAIT_MS)
        page.locator(picture).wait_for(timeout=WAIT_MS)
        page.evaluate("() => window.scrollTo(0, 0)")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{tab}: the page is {overflow} px wider than a {width} px screen"
        # The label badge sits above the picture, not over its top-left digits.
        badge = page.locator(f"{picture.split()[0]} [data-testid=block-label]")
        if badge.count() and badge.first.is_visible():
            top_of_image = page.locator(picture).bounding_box()["y"]
            badge_box = badge.first.bounding_box()
            assert badge_box["y"] + badge_box["height"] <= top_of_image + 1, f"{tab}: the badge covers the picture"
        save_screenshot(page, tmp_path, f"ux-{tab.lower()}-{width}px.png")
