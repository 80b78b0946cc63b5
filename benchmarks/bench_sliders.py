"""Sliders as a visitor feels them: Chromium drags Interpolate's t and Edit's direction 1 across their tracks in
about 2 s (60 mouse moves) and presses 30 arrow keys on the Timeline, at 0 and 150 ms of network latency (CDP
Network.emulateNetworkConditions; 150 ms is a Space's distance), with the server drawing every picture (the
page's fallback: the browser's weights route blocked, as today's app) and with the browser drawing them
(demo/browser_gen.py), side by side in one run. It prints the distinct pictures shown per second during the drag
and the time from release (the last key) to the final picture, and the same Interpolate drag with a finger on a
390 px touch screen.

    python -m benchmarks.bench_sliders             # one run
    python -m benchmarks.bench_sliders --runs 3    # three, one table each

What it prints also goes to benchmarks/results/bench_sliders.txt.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.bench_app import free_port, results_file

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
MOVES, DRAG_S, KEYS = 60, 2.0, ["ArrowRight"] * 25 + ["ArrowLeft"] * 5
SETTLE_MS = 2500  # after release: a picture that comes later than this is not waited for
# (name, tab, slider, server picture, browser piece); the Timeline is driven by keys, the others by a drag.
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
  window.marks = {};
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
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(1)
    process.kill()
    raise SystemExit("app.py did not answer within 600 s")


def open_page(browser, url: str, control: tuple, latency: int, drawn_by: str, phone: bool = False):
    """A page on the control's tab with `latency` ms added to every request; drawn_by 'server' blocks the
    browser's weights, so the page works as it did before the Generator came to the browser."""
    name, tab, slider, img, live = control
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
    page.locator("#tab-generate img").first.wait_for(timeout=120_000)
    page.get_by_role("tab", name=tab).click()
    page.locator(img).wait_for(timeout=120_000)
    fetched = None
    if drawn_by == "browser":
        page.locator(f"#{live} canvas.on").wait_for(timeout=120_000)
        if tab == "Timeline":  # every saved epoch's weights, fetched once the page is idle
            start = page.evaluate("performance.now()")
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
        page.locator(f"#{live} [data-live=off]").wait_for(state="attached", timeout=120_000)
    page.wait_for_timeout(1000)
    page.locator(slider).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.evaluate(WATCH, [img, live])
    return context, page, fetched


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


def press_keys(page, slider: str) -> None:
    page.locator(slider).focus()
    for key in KEYS:
        page.keyboard.press(key)
        page.wait_for_timeout(DRAG_S * 1000 / len(KEYS))


def measure(browser, url: str, control: tuple, latency: int, drawn_by: str, phone: bool = False) -> dict:
    """Pictures per second while the hand moves, and ms from release to the final picture."""
    context, page, fetched = open_page(browser, url, control, latency, drawn_by, phone)
    try:
        keys = control[1] == "Timeline"
        press_keys(page, control[2]) if keys else drag(page, control[2], phone)
        page.wait_for_timeout(SETTLE_MS)
        shown, marks = page.evaluate("window.shown"), page.evaluate("window.marks")
    finally:
        context.close()
    start_kind, end_kind = (
        ("keydown", "keyup") if keys else (("touchstart", "touchend") if phone else ("pointerdown", "pointerup"))
    )
    begin, release = marks[start_kind][0], marks[end_kind][-1]
    pictures = shown[drawn_by]
    during = {value for when, value in pictures if begin <= when <= release}
    final = max((when for when, _ in pictures), default=release)
    return {
        "per_s": len(during) / ((release - begin) / 1000),
        "release_ms": max(0.0, final - release),
        "pictures": len(pictures),
        "fetched": fetched,
    }


def row(figures: dict, width: int) -> str:
    return f"{figures['per_s']:>{width}.1f}{figures['release_ms']:>13.0f} ms"


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
                f"Chromium against python app.py (weights/), {MOVES} mouse moves in {DRAG_S:g} s per drag, "
                f"{len(KEYS)} keys in {DRAG_S:g} s on the Timeline; distinct pictures shown; {os.cpu_count()} cores"
            )
            for run in range(1, args.runs + 1):
                loads = [os.getloadavg()[0]]
                print(f"\nrun {run} of {args.runs}")
                print(
                    f"{'control':<26}{'latency':>8} | {'server: pictures/s':>18}{'release->final':>16} | "
                    f"{'browser: pictures/s':>19}{'release->final':>16}"
                )
                fetched = []
                for control in CONTROLS:
                    for latency in (0, 150):
                        before = measure(browser, url, control, latency, "server")
                        after = measure(browser, url, control, latency, "browser")
                        loads.append(os.getloadavg()[0])
                        if after["fetched"]:
                            fetched.append((latency, after["fetched"]))
                        print(f"{control[0]:<26}{latency:>6} ms | {row(before, 18)} | {row(after, 19)}")
                phone = [measure(browser, url, CONTROLS[0], 150, who, phone=True) for who in ("server", "browser")]
                print(f"{'Interpolate, t, touch 390px':<26}{150:>6} ms | {row(phone[0], 18)} | {row(phone[1], 19)}")
                for latency, got in fetched:
                    print(
                        f"Timeline weights fetched in the background at {latency} ms: {got['sets']} epochs, "
                        f"{got['mb']:.1f} MB (half precision) in {got['s']:.1f} s"
                    )
                print(f"load average (1 min): {min(loads):.1f}-{max(loads):.1f}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
