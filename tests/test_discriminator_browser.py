"""The Discriminator tab in a real browser at laptop and phone width: every view draws, the loss toggle changes the
push, D step and G step redraw the hand-stepped grid and piles, Reset goes back, an uploaded picture is judged.

Screenshots go under the test's tmp dir, to artifacts/ (git-ignored) and, when SCREENSHOT_DIR is set, there too.
APP_WEIGHTS=weights (any --weights value) runs the same test on real runs instead of the tiny test runs.
"""

import io
import re

import pytest
from conftest import save_screenshot, src_changes
from PIL import Image

from demo import critic

WAIT_MS = 60_000  # generous: the machine is shared and loaded; nothing here depends on its speed


def caption_has(page, selector: str, text: str) -> None:
    page.locator(selector).get_by_text(text).first.wait_for(timeout=WAIT_MS)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_discriminator_tab_views_steps_and_upload(two_runs_url, browser, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(two_runs_url, wait_until="domcontentloaded")
    page.get_by_role("tab", name="Discriminator").click()
    for view in ("#verdict-picture", "#piles-picture", "#push-picture"):  # drawn when the tab opens
        page.locator(view).scroll_into_view_if_needed()
        page.locator(f"{view} img").wait_for(timeout=WAIT_MS)
    caption_has(page, "#piles-caption", "Where the piles overlap, D cannot tell real from fake.")
    caption_has(page, "#verdict-caption", "Frame colour")

    push = page.locator("#push-picture img")
    before = push.get_attribute("src")
    page.get_by_role("radio", name=re.compile("minimax")).check()  # the loss toggle
    src_changes(page, "#push-picture img", before)
    caption_has(page, "#push-caption", "for G's loss log(1 − D(G(z)))")

    page.get_by_role("button", name="Show the arms race").click()
    page.locator("#arms-picture img").wait_for(timeout=WAIT_MS)
    caption_has(page, "#arms-caption", "mean D(G(z))")

    page.locator("#hand-d").click()
    page.locator("#hand-verdicts img").wait_for(timeout=WAIT_MS)
    page.locator("#hand-piles img").wait_for(timeout=WAIT_MS)
    caption_has(page, "#hand-caption", "After 1 step (D)")
    page.locator("#hand-g").click()
    caption_has(page, "#hand-caption", "After 2 steps (DG)")
    assert "under log(1 − D(G(z)))" in page.locator("#hand-caption").inner_text()
    page.locator("#hand-reset").click()
    caption_has(page, "#hand-caption", "Before any step")

    images, _ = critic.real_digits()
    buffer = io.BytesIO()
    Image.fromarray(255 - images[0], "L").resize((112, 112)).save(buffer, format="PNG")  # dark ink on paper
    upload = page.locator("#tab-discriminator input[type=file]")
    upload.set_input_files({"name": "my-seven.png", "mimeType": "image/png", "buffer": buffer.getvalue()})
    caption_has(page, "#upload-caption", "gives your picture")

    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than a {width} px screen"
    assert page.locator("text=Traceback").count() == 0
    assert page.locator(".toast-body.error").count() == 0  # no error popped up on the way
    shot = save_screenshot(page, tmp_path, f"app-discriminator-{width}px.png")
    assert shot.stat().st_size > 10_000
