"""A 30-step keyboard scrub of the Timeline in Chromium: time from key press to the new epoch's picture and card,
and the main thread's long tasks (PerformanceObserver 'longtask'), optionally beside another revision's app.

    python -m benchmarks.bench_timeline
    git archive main | tar -x -C /tmp/main && python -m benchmarks.bench_timeline --baseline /tmp/main

With --baseline the two apps (both on this checkout's weights/) are scrubbed in turn, round after round, so
they share the machine's load; the ratios are the figures to quote. What it prints also goes to
benchmarks/results/bench_timeline.txt.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_app import free_port, results_file, wait_for_page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
LONGTASKS = """window.longTasks = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
  .observe({type: 'longtask', buffered: true});"""
STEPS = 30
# The step is done when the Timeline's first card shows the epoch that the slider now points at.
ARRIVED = """(epoch) => { const card = document.querySelector('#tab-timeline .stat b');
  return card && card.textContent === String(epoch) && performance.now() - window.stepStart; }"""


def start(source: Path, port: int) -> subprocess.Popen:
    """`python app.py` from `source` on this checkout's weights, once its page answers."""
    process = subprocess.Popen(
        [sys.executable, "app.py", "--weights", str(ROOT / "weights"), "--no-live", "--port", str(port)],
        cwd=source,
        env={**os.environ, "PYTHONPATH": str(source)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_page(process, port, f"the app in {source}", limit_s=180)
    return process


def scrub(browser, url: str, epochs: list[int]) -> dict:
    """Open the Timeline, then 30 ArrowRight presses on its slider, each waited for."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(LONGTASKS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#tab-generate img").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    page.evaluate("window.longTasks = []")
    page.get_by_role("tab", name="Timeline").click()
    page.locator("#tab-timeline .vega-embed svg").first.wait_for(timeout=120_000)
    page.wait_for_timeout(2000)
    switching = page.evaluate("window.longTasks")
    by_index = page.locator("#timeline-step input[type=range]").count() == 1  # steps over saved epochs
    slider = page.locator("#timeline-step input[type=range]" if by_index else "#tab-timeline input[type=range]")
    slider.first.focus()
    page.evaluate("window.longTasks = []")
    times = []
    for _ in range(STEPS):
        value = int(float(slider.first.input_value())) + 1
        epoch = epochs[min(value, len(epochs) - 1)] if by_index else min(epochs, key=lambda e: (abs(e - value), -e))
        page.evaluate("window.stepStart = performance.now()")
        page.keyboard.press("ArrowRight")
        handle = page.wait_for_function(ARRIVED, arg=epoch, timeout=120_000, polling="raf")
        times.append(handle.json_value())
    page.wait_for_timeout(1500)  # the plots' marker follows once the scrub settles: its cost counts too
    blocks = page.evaluate("window.longTasks")
    page.close()
    return {"times": times, "blocks": blocks, "switch": switching, "by_index": by_index}


def summary(name: str, rounds: list[dict]) -> dict:
    times = [t for r in rounds for t in r["times"]]
    blocks = [b for r in rounds for b in r["blocks"]]
    switch = [max(r["switch"], default=0) for r in rounds]
    figures = {
        "median": statistics.median(times),
        "mean": statistics.mean(times),
        "longest": max(blocks, default=0),
        "blocked": sum(blocks) / len(rounds),
        "switch": statistics.median(switch),
    }
    kind = "saved epochs" if rounds[0]["by_index"] else "epoch units"
    print(
        f"{name} ({kind}): per step median {figures['median']:.0f} ms, mean {figures['mean']:.0f} ms, max "
        f"{max(times):.0f} ms; long tasks per scrub {len(blocks) / len(rounds):.0f}, blocked "
        f"{figures['blocked']:.0f} ms per scrub, longest {figures['longest']:.0f} ms; tab switch longest block "
        f"{figures['switch']:.0f} ms"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another revision's checkout to scrub in turn with this one")
    parser.add_argument("--rounds", type=int, default=2, help="scrubs per app (default 2)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from demo.runs import load_specs, split_specs

    runs = load_specs(split_specs(str(ROOT / "weights")))
    epochs = runs.engines[runs.default].epochs  # the Timeline opens on the default run
    apps = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    processes, urls = {}, {}
    try:
        for name, source in apps.items():
            port = free_port()
            processes[name], urls[name] = start(source, port), f"http://127.0.0.1:{port}/"
        rounds = {name: [] for name in apps}
        with results_file("bench_timeline"), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            loads = [os.getloadavg()[0]]
            for _ in range(args.rounds):
                for name in reversed(apps):  # the baseline first in each round
                    rounds[name].append(scrub(browser, urls[name], epochs))
                    loads.append(os.getloadavg()[0])
            browser.close()
            print(f"{STEPS}-step keyboard scrub of the Timeline, {args.rounds} rounds per app, 1280x800 Chromium")
            figures = {name: summary(name, rounds[name]) for name in reversed(apps)}
            if args.baseline:
                this, base = figures["this"], figures["baseline"]
                print(
                    f"ratio this/baseline: step median {this['median'] / base['median']:.2f}, main thread blocked "
                    f"{this['blocked'] / max(base['blocked'], 1):.2f}, longest block "
                    f"{this['longest'] / max(base['longest'], 1):.2f}"
                )
            print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
