"""Seconds from starting `python app.py` to its page answering (DESIGN.md: within 10 s), with every run loaded.

    python -m benchmarks.ready_app                                  # python app.py as shipped: every run in weights/
    python -m benchmarks.ready_app --weights weights/tutorial runs/stable --repeats 5

Each start is timed from Popen to the first HTTP 200 of the page. Beside the wall time it prints the app's own
CPU seconds until then, which other work on the machine disturbs much less, and the load average. What it
prints also goes to benchmarks/results/ready_app.txt; exit status 1 when the median is over the budget.
"""

import argparse
import os
import re
import statistics
import sys

import httpx

from benchmarks.bench_app import cpu_seconds, free_port, results_file, start_app

BUDGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", nargs="*", help="passed to app.py's --weights (default: none, as shipped)")
    parser.add_argument("--repeats", type=int, default=3, help="starts to time (default 3)")
    args = parser.parse_args(argv)
    walls = []
    for attempt in range(1, args.repeats + 1):
        port = free_port()
        process, seconds = start_app(args.weights, port)
        try:
            cpu, load = cpu_seconds(process.pid), os.getloadavg()[0]
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).text
        finally:
            process.terminate()
            process.wait(timeout=30)
        loaded = re.search(r"Loaded \d+ runs?", page)
        walls.append(seconds)
        print(
            f"start {attempt}: ready after {seconds:.2f} s (the app's CPU time {cpu:.2f} s; load average {load:.1f} "
            f"on {os.cpu_count()} cores; {loaded.group(0) if loaded else 'runs: see the page'})"
        )
    median = statistics.median(walls)
    weights = " ".join(args.weights) if args.weights else "the default, weights/"
    print(
        f"python app.py (weights: {weights}) ready after {median:.2f} s, median of {len(walls)} (budget {BUDGET_S:g} s)"
    )
    return 0 if median <= BUDGET_S else 1


if __name__ == "__main__":
    with results_file("ready_app"):
        status = main()
    sys.exit(status)
