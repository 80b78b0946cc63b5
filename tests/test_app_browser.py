"""The app in a real browser: move the interpolation slider with the keyboard and see the digit change."""

import shutil
import socket
from pathlib import Path

import pytest

from demo.engine import Engine, load_run
from demo.ui import build_demo, launch_options

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"  # git-ignored; handy to look at after a run


@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    return sync_playwright


@pytest.fixture(scope="module")
def app_url(tiny_weights, sync_playwright):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo(Engine(load_run(tiny_weights))).queue(default_concurrency_limit=8)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options()
    )
    yield url
    demo.close()


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=path, full_page=True)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(path, ARTIFACTS / name)
    except OSError:
        pass  # a read-only checkout still passes; the copy under tmp_path is the record
    return path


@pytest.mark.parametrize("width", [1280, 390])
def test_interpolation_slider_moves_the_digit(app_url, sync_playwright, tmp_path, width):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(app_url, wait_until="domcontentloaded")
            page.get_by_role("tab", name="Interpolate").click()  # every tab is reachable, also on a phone
            image = page.locator("#interp-image img")
            image.wait_for(timeout=30_000)
            before = image.get_attribute("src")
            slider = page.locator("#interp-t input[type=range]")
            slider.focus()
            for _ in range(20):  # t from 0.50 to 0.70, one keyboard step at a time
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "before => { const img = document.querySelector('#interp-image img'); return img && img.src !== before; }",
                arg=before,
                timeout=30_000,
            )
            assert slider.input_value() == "0.7"
            page.get_by_text("t = 0.70").wait_for(timeout=30_000)  # the caption follows the slider
            assert page.locator("text=Traceback").count() == 0
            shot = save_screenshot(page, tmp_path, f"app-interpolate-{width}px.png")
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
