"""The app's layout and Timeline in a real browser, on the shipped runs in weights/ (26 saved epochs each):
a 30-step keyboard scrub (its timings printed, not asserted), Play, the phone layout (picture and moved control
both in view), a touch swipe on a slider, and screenshots of every tab at laptop and phone width.

Screenshots go under the test's tmp dir, to artifacts/ (git-ignored) and, when SCREENSHOT_DIR is set, there too.
"""

import os
import statistics
from pathlib import Path

import pytest
from conftest import launched, save_screenshot

from demo.runs import load_specs, split_specs
from demo.ui import build_demo

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
WAIT_MS = 60_000  # generous: the machine is shared and loaded; nothing here depends on its speed
LONGTASKS = """window.longTasks = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
  .observe({type: 'longtask', buffered: true});"""
# (tab, the control a person moves, the picture it changes); each tab's first picture
PICTURE_TABS = [
    ("generate", "#tab-generate input[type=range] >> nth=0", "#tab-generate .pixels img >> nth=0"),
    ("timeline", "#timeline-step input[type=range]", "#tab-timeline .pixels img >> nth=0"),
    ("interpolate", "#interp-t input[type=range]", "#interp-image img"),
    ("edit", "#tab-edit input[type=range] >> nth=1", "#tab-edit .pixels img >> nth=0"),  # Direction 1
]


# Every tab's main picture and the control that moves it: both in view when the tab opens (issue: "the page fits").
MAIN = {
    "Generate": ("#generate-picture", "#tab-generate .main-control input[type=range]"),
    "Timeline": ("#timeline-picture", "#timeline-step input[type=range]"),
    "Interpolate": ("#interp-image", "#interp-t input[type=range]"),
    "Edit": ("#edit-digit", "#tab-edit .main-control input[type=range] >> nth=0"),
    "Compare": ("#compare-b", "#compare-epoch input[type=range]"),
    "Discriminator": ("#verdict-picture", "#tab-discriminator .main-control input[type=range]"),
    "Your digit": ("#own-preview", "#own-pad"),
    "Train": ("#live-grid", "#live-start"),
    "Digits": ("#digit-sheet", "#tab-digits .main-control input[type=range]"),
    "Tour": ("#tour-1", "#tab-tour button >> nth=0"),
}
HEADER_MAX = 120  # px: the title, one line, the strip; the folders go into the fold


@pytest.fixture(scope="module")
def shipped(sync_playwright, tmp_path_factory):
    """The app on the shipped runs (weights/), with its Train tab, and the default run's saved epochs."""
    from demo.live import LiveOptions, LiveTrainer

    runs = load_specs(split_specs(str(ROOT / "weights")))
    live = LiveTrainer(LiveOptions(root=tmp_path_factory.mktemp("live"), threads=1))
    with launched(build_demo(runs, live).queue(default_concurrency_limit=8)) as url:
        yield url, runs.engines[runs.default].epochs


def open_tab(page, url: str, tab: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#tab-generate .pixels img").first.wait_for(timeout=WAIT_MS)
    if tab != "generate":
        page.get_by_role("tab", name=tab.capitalize()).click()
    page.locator(f"#tab-{tab} .pixels img").first.wait_for(timeout=WAIT_MS)


def shown_epoch(page) -> str:
    return page.locator("#tab-timeline .stat b").first.inner_text()


def test_timeline_keyboard_scrub_shows_every_saved_epoch(shipped, browser):
    url, epochs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(LONGTASKS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#tab-generate .pixels img").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)  # let the first page's work finish, so the tab switch is measured alone
    page.evaluate("window.longTasks = []")
    page.get_by_role("tab", name="Timeline").click()
    page.locator("#tab-timeline .vega-embed svg").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    switching = page.evaluate("window.longTasks")
    plot = page.locator("#tab-timeline .vega-embed svg").first
    marked = plot.inner_html()
    slider = page.locator("#timeline-step input[type=range]")
    slider.focus()
    page.evaluate("window.longTasks = []")
    keys = ["ArrowRight"] * 25 + ["ArrowLeft"] * 5  # to the last saved epoch and back: 30 steps
    index, times = 0, []
    for key in keys:
        index = min(max(index + (1 if key == "ArrowRight" else -1), 0), len(epochs) - 1)
        before = page.locator("#tab-timeline .pixels img").first.get_attribute("src")
        page.evaluate("window.stepStart = performance.now()")
        page.keyboard.press(key)
        took = page.wait_for_function(
            """([epoch, before]) => {
                const card = document.querySelector('#tab-timeline .stat b');
                const img = document.querySelector('#tab-timeline .pixels img');
                return card && card.textContent === String(epoch) && img.src !== before
                    && performance.now() - window.stepStart;
            }""",
            arg=[epochs[index], before],
            timeout=WAIT_MS,
            polling="raf",
        ).json_value()
        times.append(took)
        assert page.locator("#timeline-readout b").inner_text() == str(epochs[index])
    # Every step was a new saved epoch, its picture arrived with its own epoch's card; the plots follow once the
    # scrub settles (their epoch marker moves).
    assert shown_epoch(page) == str(epochs[20]) and slider.input_value() == "20"
    page.wait_for_function(
        "html => document.querySelector('#tab-timeline .vega-embed svg').innerHTML !== html",
        arg=marked,
        timeout=WAIT_MS,
    )
    blocks = page.evaluate("window.longTasks")
    print(
        f"\nTimeline keyboard scrub, {len(times)} steps: per step mean {statistics.mean(times):.0f} ms, "
        f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms; main-thread blocks (longtask) "
        f"{len(blocks)}, longest {max(blocks, default=0):.0f} ms, total {sum(blocks):.0f} ms; tab switch: longest "
        f"block {max(switching, default=0):.0f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    assert page.locator("text=Traceback").count() == 0


def test_timeline_play_runs_to_the_last_saved_epoch(shipped, browser):
    url, epochs = shipped
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_tab(page, url, "timeline")
    assert shown_epoch(page) == str(epochs[0])  # the Timeline opens on the first epoch: learning, not the end
    page.locator("#tab-timeline").get_by_text("fast", exact=True).click()
    page.locator("#timeline-play").click()
    page.locator("#timeline-play").get_by_text("Pause").wait_for(timeout=WAIT_MS)
    page.wait_for_function(  # stepping on its own, one saved epoch at a time
        "() => document.querySelector('#timeline-readout b').textContent !== '1'", timeout=WAIT_MS
    )
    page.locator("#timeline-play").get_by_text("Play").wait_for(timeout=WAIT_MS * 3)  # stops at the end
    page.wait_for_function(
        "e => document.querySelector('#tab-timeline .stat b').textContent === e", arg=str(epochs[-1]), timeout=WAIT_MS
    )
    assert page.locator("#timeline-step input[type=range]").input_value() == str(len(epochs) - 1)


def in_view(page, selector: str) -> dict:
    """Where an element is on screen, and whether the point at its centre belongs to it (nothing covers it)."""
    return page.locator(selector).first.evaluate(
        """el => { const r = el.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2;
                   const hit = document.elementFromPoint(x, y);
                   return {top: r.top, bottom: r.bottom, height: r.height, height_seen: innerHeight,
                           uncovered: !!hit && (el.contains(hit) || hit.contains(el))}; }"""
    )


@pytest.mark.parametrize(("tab", "control", "picture"), PICTURE_TABS, ids=[t[0] for t in PICTURE_TABS])
def test_phone_keeps_the_picture_in_view_while_its_control_moves(shipped, browser, tmp_path, tab, control, picture):
    url, _ = shipped
    page = browser.new_page(viewport={"width": 390, "height": 844})
    open_tab(page, url, tab)
    page.locator(control).evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)  # let the scroll land before reading positions
    before = page.locator(picture).get_attribute("src")
    slider = in_view(page, control)
    box = page.locator(control).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)  # a drag along the slider
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    image = page.locator(picture).element_handle()
    page.wait_for_function("([img, before]) => img.src !== before", arg=[image, before], timeout=WAIT_MS)
    shown = in_view(page, picture)
    for name, where in (("control", slider), ("picture", shown)):
        assert 0 <= where["top"] and where["bottom"] <= where["height_seen"], (
            f"{tab}: the {name} is out of view {where}"
        )
        assert where["uncovered"], f"{tab}: something covers the {name}"
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    save_screenshot(page, tmp_path, f"layout-{tab}-390px-moving.png", full_page=False)  # what the screen shows


def test_touch_swipe_on_a_slider_does_not_scroll_the_page(shipped, browser):
    url, _ = shipped
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    open_tab(page, url, "timeline")
    slider = page.locator("#timeline-step input[type=range]")
    slider.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    assert slider.evaluate("el => getComputedStyle(el).touchAction") == "none"
    scrolled = page.evaluate("window.scrollY")
    box = slider.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, 11):  # a vertical swipe of 300 px that starts on the slider
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - 30 * k}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(500)  # a scroll, had it started, would have moved by now (this only gives it time)
    assert page.evaluate("window.scrollY") == scrolled
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_every_tab(shipped, browser, tmp_path, width):
    url, _ = shipped
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 640 else 800})
    open_tab(page, url, "generate")
    assert page.locator("#learning-strip img").is_visible()  # the first thing on the page: noise to digits
    assert page.locator("#learning-strip .icon-button-wrapper").count() == 0  # a plain picture: no empty button frame
    for tab in ("generate", "timeline", "interpolate", "edit", "compare", "digits"):
        if tab != "generate":
            page.get_by_role("tab", name=tab.capitalize()).click()
        panel = page.locator(f"#tab-{tab}")
        panel.locator("img").first.wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(1500)  # let plots and lazy images draw before the picture is taken
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{tab}: the page is {overflow} px wider than a {width} px screen"
        assert page.locator("text=Traceback").count() == 0
        shot = save_screenshot(page, tmp_path, f"layout-{tab}-{width}px.png")
        assert shot.stat().st_size > 10_000


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["1280x800", "390x844"])
def test_every_tab_opens_with_its_picture_and_control_in_view(shipped, browser, tmp_path, width, height):
    url, _ = shipped
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#generate-picture img").wait_for(timeout=WAIT_MS)
    header = in_view(page, "#app-header")
    assert header["height"] <= HEADER_MAX, f"the header is {header['height']:.0f} px high at {width} px"
    about = page.locator("#about")
    assert about.evaluate("el => el.open") is False  # the folders the runs came from are in the closed fold
    assert "weights/" in about.inner_html() and not page.get_by_text("weights/tutorial").is_visible()
    assert page.locator("#learning-strip img").is_visible()  # noise to digits, beside the title
    tabs = [name for name in page.get_by_role("tab").all_inner_texts() if name]
    assert sorted(tabs) == sorted(MAIN), "every tab has its main picture and control named here"
    for tab, (picture, control) in MAIN.items():
        page.get_by_role("tab", name=tab, exact=True).click()
        page.locator(picture).first.wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(800)  # let the tab's pictures and plots take their place
        for name, selector in (("picture", picture), ("control", control)):
            where = in_view(page, selector)
            assert where["height"] > 0 and 0 <= where["top"] and where["bottom"] <= height, (
                f"{tab} at {width}x{height}: its {name} ({selector}) is at {where['top']:.0f}-{where['bottom']:.0f} px"
            )
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{tab}: the page is {overflow} px wider than a {width} px screen"
        save_screenshot(page, tmp_path, f"opened-{tab.lower().replace(' ', '-')}-{width}px.png", full_page=False)


@pytest.mark.parametrize("tab", ["Timeline", "Compare"])  # Train draws its plots once a run has epochs
def test_chart_titles_and_legends_are_not_clipped_on_a_phone(shipped, browser, tmp_path, tab):
    url, _ = shipped
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#generate-picture img").wait_for(timeout=WAIT_MS)
    page.get_by_role("tab", name=tab, exact=True).click()
    panel = page.locator(f"#tab-{tab.lower()}")
    panel.locator(".vega-embed svg").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)  # every plot drawn
    clipped = panel.locator(".vega-embed").evaluate_all(
        """embeds => embeds.flatMap(embed => {
            const frame = embed.getBoundingClientRect();
            return [...embed.querySelectorAll('svg text')].filter(t => t.textContent.trim()).map(t => {
                const r = t.getBoundingClientRect();
                return {text: t.textContent, left: r.left - frame.left, right: frame.right - r.right};
            }).filter(t => t.left < -1 || t.right < -1);
        })"""
    )
    assert panel.locator(".vega-embed svg text").count() > 0
    assert clipped == [], f"{tab}: text cut off at the plot's edge: {clipped[:5]}"
    panel.locator(".vega-embed").first.scroll_into_view_if_needed()
    save_screenshot(page, tmp_path, f"charts-{tab.lower()}-390px.png", full_page=False)
