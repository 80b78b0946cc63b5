"""Sliders as a visitor feels them: Interpolate's t and Edit's direction 1 swept across their tracks in 2 s (60
values) and the Timeline stepped 30 saved epochs in 2 s (25 on, 5 back, as arrow keys step), in Chromium at 0 and
150 ms of network latency (CDP Network.emulateNetworkConditions; 150 ms is a Space's distance), with the server
drawing every picture (the page's fallback: the browser's weights route blocked, which is the app as it was) and
with the browser drawing them (demo/browser_gen.py), side by side in one run. It prints the distinct pictures
shown per second while the slider moves and the time from release to the final picture; then Interpolate's t
dragged by a real mouse and by a real finger on a 390 px touch screen, at 150 ms. The sweeps are driven from
inside the page (a value set and announced as a dragged range input announces it): the driver's round trip per
mouse move would otherwise set the pace on a loaded machine.

    python -m benchmarks.bench_sliders             # one run
    python -m benchmarks.bench_sliders --runs 3    # three, one table each

What it prints also goes to benchmarks/results/bench_sliders.txt.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_app import free_port, results_file, wait_for_page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
MOVES, DRAG_S, KEYS = 60, 2.0, ["ArrowRight"] * 25 + ["ArrowLeft"] * 5
SETTLE_MS = 2500  # after release: a picture that comes later than this is not waited for
# (name, tab, slider, server picture, browser piece); the Timeline is driven by keys, the others by a drag.
WHO = ("server", "browser")
CONTROLS = [
    ("Interpolate, t", "Interpolate", "#interp-t input[type=range]", "#interp-image img", "interp-live"),
    ("Edit, direction 1", "Edit", "#tab-edit input[type=range] >> nth=1", "#edit-digit img", "edit-digit-live"),
    (
        "Timeline, 30 arrow keys",
        "Timeline",
        "#timeline-step input[type=range]",
        "#timeline-picture img",
        "timeline-live",
    ),
]
# Every picture the page shows, with its time: a new src of the server's <img>, a new frame of the canvas.
WATCH = """([img, live]) => {
  window.shown = {server: [], browser: []};
  const image = document.querySelector(img);
  new MutationObserver(() => window.shown.server.push([performance.now(), image.src]))
    .observe(image, {attributes: true, attributeFilter: ['src']});
  const canvas = document.querySelector(`#${live} canvas`);
  if (canvas) new MutationObserver(() => window.shown.browser.push([performance.now(), canvas.dataset.pos]))
    .observe(canvas, {attributes: true, attributeFilter: ['data-frame']});
  window.marks = window.marks || {};
  for (const kind of ['pointerdown', 'pointerup', 'touchstart', 'touchend', 'keydown', 'keyup'])
    window.addEventListener(kind, () => (window.marks[kind] ??= []).push(performance.now()), true);
}"""


def start(port: int) -> subprocess.Popen:
    """`python app.py` on weights/ (no Train tab), once its page answers (a loaded machine may take minutes)."""
    process = subprocess.Popen(
        [sys.executable, "app.py", "--weights", str(ROOT / "weights"), "--no-live", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_page(process, port, "app.py", limit_s=600)
    return process


def new_page(browser, url: str, latency: int, drawn_by: str, phone: bool = False):
    """The app's page with `latency` ms added to every request; drawn_by 'server' blocks the browser's weights, so
    the page works as it did before the Generator came to the browser."""
    options = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True} if phone else {}
    context = browser.new_context(**(options or {"viewport": {"width": 1280, "height": 900}}))
    page = context.new_page()
    if drawn_by == "server":
        page.route(lambda address: "gan-browser-weights" in address, lambda route: route.abort())
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": latency, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", conditions)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#tab-generate img").first.wait_for(timeout=300_000)
    return context, page


def open_tab(page, control: tuple, drawn_by: str) -> dict | None:
    """The control's tab, ready: its picture shown and, for the browser, its canvas (on the Timeline, once every
    saved epoch's weights are in: what they weigh and how long the background fetch took)."""
    name, tab, slider, img, live = control
    page.get_by_role("tab", name=tab).click()
    page.locator(img).wait_for(timeout=300_000)
    fetched = None
    if drawn_by == "browser":
        start = page.evaluate("performance.now()")
        try:
            page.locator(f"#{live} canvas.on").wait_for(state="attached", timeout=300_000)
        except Exception as err:  # noted, and the row measures what the page did instead
            print(f"({name}: the browser's canvas never showed in 300 s: {type(err).__name__})")
        if tab == "Timeline":  # every saved epoch's weights, fetched once the page is idle
            page.wait_for_function(
                "id => Number(document.querySelector(`#${id} [data-live]`).dataset.fetched) >= 26",
                arg=live,
                timeout=300_000,
            )
            piece = page.locator(f"#{live} [data-live]")
            fetched = {
                "sets": int(piece.get_attribute("data-fetched")),
                "mb": int(piece.get_attribute("data-bytes")) / 1e6,
                "s": (page.evaluate("performance.now()") - start) / 1000,
            }
    else:
        page.locator(f"#{live} [data-live=off]").wait_for(state="attached", timeout=300_000)
    page.wait_for_timeout(1000)
    page.locator(slider).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.evaluate(WATCH, [img, live])
    return fetched


# The drag itself, driven from inside the page at its own pace (a value every DRAG_S / MOVES seconds, set and
# announced as a dragged range input announces it): the test driver's round trip per mouse move would otherwise
# set the pace on a loaded machine. keys: 25 steps right and 5 back, one saved epoch each, as the arrow keys do.
# Each value is due at begin + k * pause, as a hand's: a page busy drawing delays the next value (it is handled
# late) but does not stretch the drag, where a pause after each value added the page's work to the drag's length
# (so even a page that drew every value stayed under MOVES / DRAG_S a second).
SWEEP = """async (el, [moves, pause, keys]) => {
  const low = Number(el.min), high = Number(el.max);
  const begin = performance.now();
  window.marks = {begin: [begin]};
  const until = (k) => new Promise(done => setTimeout(done, Math.max(0, begin + k * pause - performance.now())));
  for (let k = 1; k <= moves; k++) {
    await until(k - 1);
    el.value = keys ? Math.min(k, 25) - Math.max(0, k - 25) : low + (high - low) * k / moves;
    el.dispatchEvent(new Event('input', {bubbles: true}));
  }
  await until(moves);
  el.dispatchEvent(new Event('change', {bubbles: true}));
  window.marks.release = [performance.now()];
}"""


def sweep(page, slider: str, keys: bool) -> None:
    moves = len(KEYS) if keys else MOVES
    page.locator(slider).evaluate(SWEEP, [moves, DRAG_S * 1000 / moves, keys])


def drag(page, slider: str, phone: bool) -> None:
    """Across the slider's track, left to right, in MOVES steps over DRAG_S seconds."""
    box = page.locator(slider).bounding_box()
    y, left, width = box["y"] + box["height"] / 2, box["x"] + 2, box["width"] - 4
    pause = DRAG_S * 1000 / MOVES
    if phone:
        cdp = page.context.new_cdp_session(page)
        touch = lambda kind, x: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})  # noqa: E731
        touch("touchStart", left)
        for k in range(1, MOVES + 1):
            touch("touchMove", left + width * k / MOVES)
            page.wait_for_timeout(pause)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        return
    page.mouse.move(left, y)
    page.mouse.down()
    for k in range(1, MOVES + 1):
        page.mouse.move(left + width * k / MOVES, y)
        page.wait_for_timeout(pause)
    page.mouse.up()


def measure(page, control: tuple, drawn_by: str, phone: bool = False, hand: bool = False) -> dict:
    """Pictures per second while the slider moves, and ms from release to the final picture. hand: a real
    pointer (with phone, a finger) drags it; else the page sweeps it (SWEEP)."""
    keys = control[1] == "Timeline"
    if hand:
        drag(page, control[2], phone)
    else:
        sweep(page, control[2], keys)
    page.wait_for_timeout(SETTLE_MS)
    shown, marks = page.evaluate("window.shown"), page.evaluate("window.marks")
    kinds = (("touchstart", "touchend") if phone else ("pointerdown", "pointerup")) if hand else ("begin", "release")
    begin, release = marks[kinds[0]][0], marks[kinds[1]][-1]
    pictures = shown[drawn_by]
    during = {value for when, value in pictures if begin <= when <= release}
    # The final picture came when the last value shown first showed (the same picture shown again later, as a
    # redundant redraw or src reset would, does not make it later).
    final = release
    if pictures:
        last = len(pictures) - 1
        while last > 0 and pictures[last - 1][1] == pictures[-1][1]:
            last -= 1
        final = pictures[last][0]
    return {
        "per_s": len(during) / ((release - begin) / 1000),
        "drawn": len(during),
        "moves": len(KEYS) if keys else MOVES,
        "drag_s": (release - begin) / 1000,
        "release_ms": max(0.0, final - release),
    }


def row(figures: dict) -> str:
    return (
        f"{figures['per_s']:>6.1f}/s {figures['release_ms']:>6.0f} ms "
        f"({figures['drawn']:>2} of {figures['moves']} in {figures['drag_s']:>4.1f} s)"
    )


def one_run(browser, url: str) -> None:
    """Every control at both latencies, server and browser, then the real mouse and finger at 150 ms."""
    results, fetched = {}, []
    for latency in (0, 150):
        for who in WHO:
            context, page = new_page(browser, url, latency, who)
            try:
                for control in CONTROLS:
                    got = open_tab(page, control, who)
                    if got:
                        fetched.append((latency, got))
                    results[control[0], latency, who] = measure(page, control, who)
                if latency == 150:
                    open_tab(page, CONTROLS[0], who)
                    results["Interpolate t, mouse", latency, who] = measure(page, CONTROLS[0], who, hand=True)
            finally:
                context.close()
    for who in WHO:
        context, page = new_page(browser, url, 150, who, phone=True)
        try:
            open_tab(page, CONTROLS[0], who)
            results["Interpolate t, finger 390px", 150, who] = measure(page, CONTROLS[0], who, True, True)
        finally:
            context.close()
    print(f"{'control':<28}{'latency':>8} | {'server: pictures, release->final':<42} | browser: the same")
    for name, latency, who in results:
        if who == "server":
            server, here = results[name, latency, "server"], results[name, latency, "browser"]
            print(f"{name:<28}{latency:>5} ms | {row(server):<42} | {row(here)}")
    for latency, got in fetched:
        print(
            f"Timeline weights fetched in the background at {latency} ms: {got['sets']} epochs, "
            f"{got['mb']:.1f} MB (half precision) in {got['s']:.1f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="how many times to measure everything (default 1)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    process = start(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        with results_file("bench_sliders"), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(
                f"Chromium against python app.py (weights/): each slider swept from inside the page, {MOVES} values "
                f"in {DRAG_S:g} s ({len(KEYS)} saved epochs on the Timeline: 25 on, 5 back, as arrow keys step), "
                f"then Interpolate's t dragged by a real mouse and a real finger; distinct pictures shown while the "
                f"slider moves (of the values it took, in the time it took); {os.cpu_count()} cores"
            )
            for run in range(1, args.runs + 1):
                loads = [os.getloadavg()[0]]
                print(f"\nrun {run} of {args.runs}")
                one_run(browser, url)
                loads.append(os.getloadavg()[0])
                print(f"load average (1 min) at the start and the end: {loads[0]:.1f}, {loads[1]:.1f}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
