"""The Train tab in a real browser: Start, two epochs drawn on the page, Stop; the live run in the Generate tab.

Generated digits by default (quick). LIVE_DATA_DIR=../shared/data trains the default preset (fast start) on MNIST
instead: that is how docs/app-train.png is made (SCREENSHOT_DIR=docs, then keep the 1280 px picture).
Screenshots go under the test's tmp dir, to artifacts/ (git-ignored) and to SCREENSHOT_DIR when it is set.
"""

import os
import re

import pytest
from conftest import free_port, launched, save_screenshot

from demo.live import LiveOptions, LiveTrainer
from demo.runs import load_specs
from demo.ui import build_demo, launch_options

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # trains in a child process
FAKE = ("--dataset", "fake", "--fake-size", "2000", "--batch-size", "100")
# Wide hidden layers make each epoch of the 2,000 generated digits last seconds, as an MNIST epoch does, so the
# pictures counted are the trainer's mid-epoch previews, not only the epochs' grids.
LONG_EPOCHS = (*FAKE, "--hidden-dim", "2048", "--classifier", "")


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LiveTrainer:
    data = os.environ.get("LIVE_DATA_DIR")
    # Epochs of seconds (LONG_EPOCHS), so a 12-epoch run is still training when the test presses Stop: with the
    # quick FAKE settings a quiet machine finished it first, and the status said "finished", not "stopped".
    options = LiveOptions(root=tmp_path_factory.mktemp("live"), threads=1, trainer_args=() if data else LONG_EPOCHS)
    if data:
        options.data_dir = data
    trainer = LiveTrainer(options)
    yield trainer
    trainer.close()


@pytest.fixture(scope="module")
def app_url(two_runs, live, sync_playwright):
    with launched(build_demo(load_specs([str(two_runs)]), live).queue(default_concurrency_limit=8)) as url:
        yield url


def epochs_shown(page) -> int:
    """The finished epochs the page's Epoch card shows ('3 / 12' -> 3)."""
    match = re.search(r"Epoch\s+(\d+) / \d+", page.locator("#live-status").inner_text())
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("width", [1280, 390])
def test_train_tab_draws_each_epoch_then_stops(app_url, browser, live, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(app_url, wait_until="domcontentloaded")
    page.get_by_role("tab", name="Train").click()  # on a phone too: the tabs wrap onto two rows
    page.locator("#live-start").click()
    page.wait_for_function(
        "() => /Epoch\\s+[2-9]\\d* \\/|Epoch\\s+\\d{2,} \\//.test(document.querySelector('#live-status').innerText)",
        timeout=180_000,
    )
    # The status card and the grid are separate updates: the grid of the last epoch may land a moment later.
    page.locator("#live-grid img").first.wait_for(timeout=60_000)
    assert page.locator("#live-grid img").count() == 1  # the bank drawn by the last epoch
    page.get_by_text("The same 100 z after epoch").wait_for(timeout=60_000)
    for legend in ("D loss", "G loss", "D(x) on real", "D(G(z)) on fake"):
        page.locator("#tab-train").get_by_text(legend, exact=True).first.wait_for(timeout=60_000)  # curves drawn
    page.wait_for_timeout(1200)  # let the plots settle before the picture is taken
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than a {width} px screen"
    assert page.locator("text=Traceback").count() == 0
    shot = save_screenshot(page, tmp_path, f"app-train-{width}px.png")
    assert shot.stat().st_size > 20_000

    page.locator("#live-stop").click()
    page.locator("#live-status").get_by_text("stopped").first.wait_for(timeout=60_000)
    kept = epochs_shown(page)
    assert kept >= 2 and f"epochs 1-{kept} are kept" in page.locator("#live-status").inner_text()
    name = live.status(watched=False).name
    page.get_by_role("tab", name="Generate").click()  # the run is now one of the runs to draw from
    page.locator("#tab-generate").get_by_label("Run", exact=True).first.click()
    page.get_by_role("option", name=re.compile(rf"^{name} \(fast, \d+ epochs\)$")).wait_for(timeout=30_000)


@pytest.fixture
def slow_epochs_url(two_runs, tmp_path, sync_playwright):
    """An app whose live runs have epochs of several seconds."""
    trainer = LiveTrainer(LiveOptions(root=tmp_path / "live", threads=1, max_epochs=50, trainer_args=LONG_EPOCHS))
    port = free_port()
    demo = build_demo(load_specs([str(two_runs)]), trainer).queue(default_concurrency_limit=8)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options()
    )
    yield url, trainer
    demo.close()
    trainer.close()


@pytest.mark.browser
@pytest.mark.slow
def test_train_tab_shows_a_new_picture_every_two_seconds(slow_epochs_url, browser, tmp_path):
    """Over 10 s of a live run the grid changes at least 5 times, mid-epoch drawings among them."""
    url, trainer = slow_epochs_url
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("tab", name="Train").click()
    page.locator("#live-start").click()
    during = re.compile(r"epoch \d+, step \d+ of \d+")
    page.locator("#live-grid").get_by_text(during).first.wait_for(timeout=180_000)  # set up, drawing
    seen = page.evaluate(
        """async () => {
            const pictures = new Set(), labels = new Set(), end = Date.now() + 10000;
            while (Date.now() < end) {
                const grid = document.querySelector('#live-grid');
                const img = grid && grid.querySelector('img');
                if (img) { pictures.add(img.src); labels.add(grid.innerText); }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            return {pictures: [...pictures], labels: [...labels]};
        }"""
    )
    assert trainer.status(watched=False).running  # the 10 s were all training
    shot = save_screenshot(page, tmp_path, "app-train-preview.png", full_page=False)
    trainer.stop()
    assert len(seen["pictures"]) >= 5, seen["labels"]
    previews = [label for label in seen["labels"] if during.search(label)]
    assert len(previews) >= 3, seen["labels"]
    assert shot.stat().st_size > 10_000
