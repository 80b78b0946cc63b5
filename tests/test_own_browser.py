"""Your digit in a real browser: a 7 drawn with the mouse on the pad gets the classifier's label, D's curve over the
epochs and the inversion G(z*), at desktop and phone width; "Use this z" hands z* to Interpolate.

APP_WEIGHTS=weights (any --weights value) runs it on real runs instead of the tiny test runs. Screenshots as in
test_app_browser.py (the test's tmp dir, artifacts/, and SCREENSHOT_DIR when set).
"""

import pytest
from conftest import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT_MS = 90_000  # the chain (D's curve, then the inversion) on a busy 2-core machine


def draw_seven(page, canvas) -> None:
    """A 7 with the mouse: the top bar left to right, then the stroke down to the bottom left."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 100, box

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*at(0.3, 0.25))
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(*at(0.3 + 0.04 * k, 0.25))
    for k in range(1, 16):
        page.mouse.move(*at(0.7 - 0.018 * k, 0.25 + 0.037 * k))
    page.mouse.up()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_drawn_seven_gets_a_label_a_d_curve_and_an_inversion(two_runs_url, browser, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(two_runs_url, wait_until="domcontentloaded")
    page.get_by_role("tab", name="Your digit").click()
    canvas = page.locator("#own-pad canvas").first
    canvas.wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the pad sets itself up after it is shown
    page.locator("#own-pad button[aria-label=Brush]").click()  # as its placeholder says: the draw tool first
    draw_seven(page, canvas)
    page.locator("#own-preview img").wait_for(timeout=WAIT_MS)  # the 28x28 the models see
    page.locator("#own-label", has_text="The classifier reads").wait_for(timeout=WAIT_MS)
    page.locator("#own-label", has_text="D took it").or_(page.locator("#own-label", has_text="D never")).wait_for(
        timeout=WAIT_MS
    )
    page.locator("#own-curve canvas, #own-curve svg").first.wait_for(timeout=WAIT_MS)  # the plot is drawn
    page.locator("#own-inverted-caption", has_text="Distance").wait_for(timeout=WAIT_MS)
    page.locator("#own-inverted").scroll_into_view_if_needed()  # its picture loads lazily, once on screen
    page.locator("#own-inverted img").wait_for(timeout=WAIT_MS)
    page.locator("#own-epochs").scroll_into_view_if_needed()  # its picture loads lazily: bring it into view
    page.locator("#own-epochs img").wait_for(timeout=WAIT_MS)
    assert page.locator("text=Traceback").count() == 0
    assert page.locator(".toast-body").count() == 0  # no error shown
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than a {width} px screen"
    shot = save_screenshot(page, tmp_path, f"app-own-digit-{width}px.png")
    assert shot.stat().st_size > 20_000

    page.get_by_role("button", name="Use this z in Interpolate").click()
    page.get_by_text("Handed on").wait_for(timeout=WAIT_MS)
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#interp-own").wait_for(state="visible", timeout=WAIT_MS)
    norm = page.locator("#own-inverted-caption").inner_text().split("|z*| = ")[1].split(" ")[0]
    page.get_by_text(f"(A: {norm}").wait_for(timeout=WAIT_MS)  # the walk starts at z*: its length is A's
    save_screenshot(page, tmp_path, f"app-own-digit-handed-{width}px.png")
