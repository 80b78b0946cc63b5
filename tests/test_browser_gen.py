"""The Generator in the browser (demo/browser_gen.py): the canvas a slider draws matches the server's PNG pixel for
pixel (within 1 grey level at full precision, 2 at half), and a page that cannot fetch the weights falls back to
the server's pictures.

Runs on the shipped runs in weights/ (both of them). Screenshots go under the test's tmp dir and artifacts/.
"""

import base64
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port, save_screenshot
from PIL import Image

from demo import browser_gen
from demo.runs import load_specs, split_specs
from demo.ui import build_demo, launch_options

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
WAIT_MS = 60_000  # generous: the machine is shared; nothing here depends on its speed
EPOCHS = (1, 30, 200)  # noise, half-way, the end: every grey level from black to white is met
CANVAS = """id => {
    const canvas = document.querySelector(`#${id} canvas`);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const grey = new Uint8Array(data.length / 4);
    for (let k = 0; k < grey.length; k++) grey[k] = data[4 * k];
    let text = '';
    for (let k = 0; k < grey.length; k += 8192) text += String.fromCharCode(...grey.subarray(k, k + 8192));
    return {width: canvas.width, height: canvas.height, grey: btoa(text), shown: canvas.classList.contains('on'),
            opaque: data.every((v, k) => k % 4 !== 3 || v === 255), source: canvas.dataset.source};
}"""


@pytest.fixture(scope="module")
def shipped(sync_playwright):
    """The app on weights/ (tutorial and stable, 26 saved epochs each) and its loaded runs."""
    runs = load_specs(split_specs(str(ROOT / "weights")))
    demo = build_demo(runs).queue(default_concurrency_limit=8)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **launch_options()
    )
    yield url, runs
    demo.close()


@pytest.fixture(scope="module")
def client(shipped, tmp_path_factory):
    from gradio_client import Client

    return Client(shipped[0], verbose=False, download_files=str(tmp_path_factory.mktemp("pngs")))


def canvas_pixels(page, live_id: str) -> np.ndarray:
    """The grey levels of the canvas in the piece `live_id`, shown over its picture."""
    seen = page.evaluate(CANVAS, live_id)
    assert seen["shown"], f"the canvas of #{live_id} is not shown"
    assert seen["opaque"], "the canvas lets the picture under it show through"
    grey = np.frombuffer(base64.b64decode(seen["grey"]), np.uint8)
    return grey.reshape(seen["height"], seen["width"])


def server_pixels(path: str) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "L"
        return np.asarray(image).copy()


def assert_close(browser_drawn: np.ndarray, server_drawn: np.ndarray, tolerance: int, what: str) -> int:
    assert browser_drawn.shape == server_drawn.shape, f"{what}: {browser_drawn.shape} != {server_drawn.shape}"
    worst = int(np.abs(browser_drawn.astype(int) - server_drawn.astype(int)).max())
    assert worst <= tolerance, f"{what}: a pixel {worst} grey levels off the server's PNG"
    assert server_drawn.std() > 10, f"{what}: the server's picture is flat, nothing was compared"
    return worst


def wait_drawn(page, live_id: str, source: str, method: str = "", **pos) -> None:
    """Until the canvas of `live_id` shows the weights at `source` (and `method`) at the slider positions `pos`."""
    try:
        wait_for_canvas(page, live_id, source, method, pos)
    except Exception:
        seen = page.evaluate(
            "id => [...document.querySelectorAll(`#${id} canvas, #${id} [data-live]`)].map(e => ({...e.dataset}))",
            live_id,
        )
        raise AssertionError(f"#{live_id} never drew {source} {method} {pos}; it shows {seen}") from None


def wait_for_canvas(page, live_id: str, source: str, method: str, pos: dict) -> None:
    page.wait_for_function(
        """([id, source, method, pos]) => {
            const c = document.querySelector(`#${id} canvas.on`);
            if (!c || c.dataset.source !== source || c.dataset.method !== method) return false;
            const drawn = JSON.parse(c.dataset.pos);
            return Object.entries(pos).every(([k, v]) => JSON.stringify(drawn[k]) === JSON.stringify(v));
        }""",
        arg=[live_id, source, method, pos],
        timeout=WAIT_MS,
    )


def open_tab(page, url: str, name: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#tab-generate .pixels img").first.wait_for(timeout=WAIT_MS)
    page.get_by_role("tab", name=name).click()


def choose_run(page, tab: str, run: str) -> None:
    box = page.locator(f"#tab-{tab}").get_by_label("Run", exact=True).first
    if box.input_value() == run:
        return
    box.click()
    page.get_by_role("option", name=run, exact=True).click()


def type_into(page, box, value: object) -> None:
    """Type a value into a slider's number box and commit it with Enter (as a person does)."""
    box.fill(str(value))
    box.press("Enter")


def test_exported_weights_stay_out_of_weights_folder_and_are_exact(shipped):
    _, runs = shipped
    generator = runs.engines["tutorial"].run.generators[200]
    full, half = browser_gen.files().url(generator, "f32"), browser_gen.files().url(generator, "f16")
    folder = browser_gen.files().folder
    assert not folder.resolve().is_relative_to(ROOT), "weights for the browser must not be written into the project"
    full_path, half_path = Path(full.split("file=", 1)[1]), Path(half.split("file=", 1)[1])
    assert full_path.parent == folder and half_path.parent == folder
    values, halves = np.fromfile(full_path, "<f4"), np.fromfile(half_path, "<f2")
    assert len(values) == len(halves) == sum(p.numel() for p in generator.parameters())
    assert full_path.stat().st_size == 2 * half_path.stat().st_size
    first = generator.linear1.weight.detach().numpy().reshape(-1)
    assert np.array_equal(values[: len(first)], first)  # W1 first, row-major, exact
    assert browser_gen.files().url(generator, "f32") == full  # written once, then remembered


def test_edit_canvas_matches_the_servers_png_at_full_precision(shipped, client, browser, tmp_path):
    """Edit's digit and its 5x5 grid (25 latents) at three epochs of both runs, each with another push along
    direction 1: every canvas pixel within 1 grey level of the PNG the /edit endpoint returns."""
    url, runs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_tab(page, url, "Edit")
    page.locator("#edit-grid img").wait_for(timeout=WAIT_MS)
    numbers = page.locator("#tab-edit input[type=number]")  # epoch, seed, direction 1..5, steer, grid size
    worst = []
    for run in ("tutorial", "stable"):
        choose_run(page, "edit", run)
        for epoch, strength in zip(EPOCHS, (1.5, -2.0, 0.7), strict=True):
            type_into(page, numbers.nth(0), epoch)
            type_into(page, numbers.nth(2), strength)
            generator = runs.engines[run].run.generators[epoch]
            source = browser_gen.files().url(generator, "f32")
            wait_drawn(page, "edit-grid-live", source, s=[strength, 0, 0, 0, 0])
            wait_drawn(page, "edit-digit-live", source, s=[strength, 0, 0, 0, 0])
            digit_png, grid_png, _ = client.predict(run, epoch, 0, 5, strength, 0, 0, 0, 0, False, api_name="/edit")
            what = f"{run} epoch {epoch} direction 1 = {strength}"
            worst.append(assert_close(canvas_pixels(page, "edit-grid-live"), server_pixels(grid_png), 1, what))
            worst.append(assert_close(canvas_pixels(page, "edit-digit-live"), server_pixels(digit_png), 1, what))
    save_screenshot(page, tmp_path, "browser-gen-edit.png", full_page=False)
    print(f"\nEdit, full precision: worst pixel {max(worst)} grey level(s) off over {len(worst)} pictures")


def test_timeline_canvas_matches_the_servers_png_at_half_precision(shipped, client, browser, tmp_path):
    """The Timeline's 8x8 grid (64 latents) at three saved epochs of both runs, from the half-precision weights
    the page fetches in the background: every canvas pixel within 2 grey levels of the /timeline PNG."""
    url, runs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_tab(page, url, "Timeline")
    slider = page.locator("#timeline-step input[type=range]")
    slider.wait_for(timeout=WAIT_MS)
    worst = []
    for run in ("tutorial", "stable"):
        choose_run(page, "timeline", run)
        epochs = runs.engines[run].epochs
        for epoch in EPOCHS:
            slider.focus()
            page.keyboard.press("Home")
            for _ in range(epochs.index(epoch)):
                page.keyboard.press("ArrowRight")
            source = browser_gen.files().url(runs.engines[run].run.generators[epoch], "f16")
            wait_drawn(page, "timeline-live", source, epoch=epoch)
            png, _ = client.predict(run, epoch, 0, 8, False, api_name="/timeline")
            what = f"{run} epoch {epoch}"
            worst.append(assert_close(canvas_pixels(page, "timeline-live"), server_pixels(png), 2, what))
    save_screenshot(page, tmp_path, "browser-gen-timeline.png", full_page=False)
    print(f"\nTimeline, half precision: worst pixel {max(worst)} grey level(s) off over {len(worst)} pictures")


def test_interpolate_canvas_matches_the_servers_png(shipped, client, browser):
    """The digit between seeds 1 and 2 at three values of t, by slerp and by lerp."""
    url, runs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_tab(page, url, "Interpolate")
    page.locator("#interp-image img").wait_for(timeout=WAIT_MS)
    t_box = page.locator("#interp-t input[type=number]")
    source = browser_gen.files().url(runs.engines[runs.default].run.generators[200], "f32")
    for method in ("slerp", "lerp"):
        page.locator("#tab-interpolate").get_by_role("radio", name=method, exact=True).check()
        for t in (0.13, 0.5, 0.91):
            type_into(page, t_box, t)
            wait_drawn(page, "interp-live", source, method, t=t)
            png, _ = client.predict(runs.default, 200, 1, 2, t, method, api_name="/interpolate")
            assert_close(canvas_pixels(page, "interp-live"), server_pixels(png), 1, f"{method} t = {t}")


def interpolate_drawn_at(shipped, browser, t: float):
    """A page on Interpolate with t typed in and drawn by the browser; returns (page, the weights' address)."""
    url, runs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_tab(page, url, "Interpolate")
    page.locator("#interp-image img").wait_for(timeout=WAIT_MS)
    source = browser_gen.files().url(runs.engines[runs.default].run.generators[200], "f32")
    type_into(page, page.locator("#interp-t input[type=number]"), t)
    wait_drawn(page, "interp-live", source, "slerp", t=t)
    return page, source


def test_the_canvas_comes_back_over_its_picture_when_the_tab_is_shown_again(shipped, browser):
    """Leave the tab and come back: the drawn canvas is over its picture again with no new input."""
    page, _ = interpolate_drawn_at(shipped, browser, 0.3)
    shown = "document.querySelector('#interp-live canvas').classList.contains('on')"
    assert page.evaluate(f"() => {shown}")
    for away in ("Generate", "Timeline"):
        page.get_by_role("tab", name=away, exact=True).click()
        page.wait_for_function(f"() => !{shown}", timeout=WAIT_MS)  # hidden with its tab
        page.get_by_role("tab", name="Interpolate", exact=True).click()
        page.wait_for_function(f"() => {shown}", timeout=WAIT_MS)  # back, untouched
        assert page.evaluate("() => JSON.parse(document.querySelector('#interp-live canvas').dataset.pos).t") == 0.3


def test_page_falls_back_to_the_server_when_weights_cannot_be_fetched(shipped, browser, tmp_path):
    url, _ = shipped
    page = browser.new_page(viewport={"width": 390, "height": 844})
    blocked = []

    def block_weights(route) -> None:
        if "gan-browser-weights" in route.request.url:
            blocked.append(route.request.url)
            route.abort()
        else:
            route.fallback()

    page.route("**/gradio_api/file=**", block_weights)
    open_tab(page, url, "Interpolate")
    image = page.locator("#interp-image img")
    image.wait_for(timeout=WAIT_MS)
    page.locator("#interp-live [data-live=off]").wait_for(state="attached", timeout=WAIT_MS)
    assert blocked, "the page never asked for the weights"
    before = image.get_attribute("src")
    slider = page.locator("#interp-t input[type=range]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([s, b]) => document.querySelector(s).src !== b", arg=["#interp-image img", before])
    page.get_by_text("t = 0.55").wait_for(timeout=WAIT_MS)  # the server's picture and caption, as before
    assert page.locator("#interp-live canvas.on").count() == 0
    assert "weights not fetched" in page.locator("#interp-live [data-live]").get_attribute("data-why")
    save_screenshot(page, tmp_path, "browser-gen-fallback-390px.png", full_page=False)


def test_a_drag_drawn_by_the_browser_asks_the_server_once_the_hand_rests(shipped, browser):
    """While the canvas draws every value of a drag, the page sends the server nothing per value; once the slider
    rests, the server draws the final value too (its picture is what a download saves) and the caption says so."""
    page, source = interpolate_drawn_at(shipped, browser, 0.3)
    page.get_by_text("t = 0.30 with slerp").wait_for(timeout=WAIT_MS)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/queue/join" in request.url else None)
    before = page.locator("#interp-image img").get_attribute("src")
    # 20 values, one every 20 ms (a quick drag): the slider set and announced as a dragged range input is.
    page.locator("#interp-t input[type=range]").evaluate(
        """async (el) => {
          for (let k = 1; k <= 20; k++) {
            el.value = (0.3 + k * 0.02).toFixed(2);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            await new Promise(done => setTimeout(done, 20));
          }
        }"""
    )
    during = len(asked)
    wait_drawn(page, "interp-live", source, "slerp", t=0.7)  # the browser drew the last value
    page.get_by_text("t = 0.70 with slerp").wait_for(timeout=WAIT_MS)  # then the server, once at rest
    assert page.locator("#interp-image img").get_attribute("src") != before
    assert during <= 1, f"{during} server requests during a 20-value drag the browser drew"
    assert 1 <= len(asked) <= 2, asked


def test_edit_asks_the_server_at_rest_and_at_every_input_for_a_grid_it_does_not_draw(shipped, browser):
    """Edit's digit and grid are drawn by the browser during a drag, and one request follows at rest; with labels
    on, the server draws the grid (the browser does not write labels), so it asks at every input, as before."""
    url, _ = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_tab(page, url, "Edit")
    page.locator("#edit-grid img").wait_for(timeout=WAIT_MS)
    page.locator("#edit-grid-live canvas.on").wait_for(state="attached", timeout=WAIT_MS)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/queue/join" in request.url else None)
    slider = page.locator("#tab-edit input[type=range] >> nth=1")  # direction 1
    drag = """async (el, start) => {
      for (let k = 1; k <= 10; k++) {
        el.value = (start + k * 0.1).toFixed(1);
        el.dispatchEvent(new Event('input', {bubbles: true}));
        await new Promise(done => setTimeout(done, 40));
      }
    }"""
    slider.evaluate(drag, 0)
    page.wait_for_function(
        "() => JSON.parse(document.querySelector('#edit-grid-live canvas').dataset.pos).s[0] === 1", timeout=WAIT_MS
    )
    assert len(asked) <= 1, f"{len(asked)} server requests during a drag the browser drew"
    page.wait_for_timeout(1500)  # at rest: the one request for both pictures
    assert len(asked) == 1, asked
    page.locator("#tab-edit").get_by_label("Show labels").check()
    page.locator("#edit-grid-live canvas").first.wait_for(state="hidden", timeout=WAIT_MS)  # the server's grid shows
    asked.clear()
    slider.evaluate(drag, 1)
    page.wait_for_timeout(1500)
    assert len(asked) >= 2, f"only {len(asked)} server requests for a grid the browser does not draw"
