"""Memory soak of the app: many mixed valid requests over every endpoint, RSS and cache size as it goes.

    python -m benchmarks.soak_app                        # 20,000 requests, a report every 2,000
    python -m benchmarks.soak_app --requests 6000 --every 1000

Starts `python app.py` on weights/ with its own Gradio cache folder (GRADIO_TEMP_DIR), sends requests
from 8 REST clients (POST /gradio_api/call/NAME, then the result stream) over every endpoint the app lists
(gradio_api/info, public and undocumented; not live_start, live_stop and live_push), each request one endpoint's valid
example arguments from the tab modules with its seeds, epochs and t varied, so caches see many keys.
Every `--every` requests it prints the server's RSS and the size and file count of the cache folder.
Goal (after the first report): RSS grows by at most 50 MB in all, the cache folder stays bounded.
What it prints also goes to benchmarks/results/soak_app.txt. Exit status 1 on any failed request.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.bench_app import ROOT, free_port, results_file, start_app, wait_for_page
from benchmarks.stress_app import probe_facts, rss_mb
from demo.context import Facts
from demo.endpoints import rest_failure, valid_calls
from demo.ui import CACHE_MAX_AGE_S, CACHE_SWEEP_S, examples
from demo.widgets import SESSIONS

# Endpoints left out: they start a live training run (one per server, minutes of CPU), stop or upload one (with
# no live run both are refused, as they should be).
SKIPPED = {"live_start", "live_stop", "live_push"}
CLIENTS = 8


def varied(args: dict, i: int, facts: Facts) -> list:
    """An endpoint's example arguments with request i's seeds, epoch and t."""
    out = dict(args)
    for key, value in args.items():
        if "seed" in key and isinstance(value, int) and not isinstance(value, bool):
            out[key] = (i * 7919 + len(key)) % 100_000
        elif key == "epoch":
            out[key] = facts.first + (i * 37) % max(facts.last - facts.first + 1, 1)
        elif key == "t":
            out[key] = (i % 21) / 20
    return list(out.values())


def folder_size(folder: Path) -> tuple[float, int]:
    """(MB, file count) of everything under `folder`."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    total = 0
    for path in files:
        try:
            total += path.stat().st_size
        except OSError:  # deleted by Gradio's cache cleaner while we counted
            pass
    return total / 1e6, len(files)


def start_probed(port: int, probe: Path, trace: bool) -> tuple[subprocess.Popen, float]:
    """benchmarks.soak_server (the app as app.py serves it, with a memory probe) on `port`, once it answers."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "benchmarks.soak_server", "--probe", str(probe), *(["--trace"] * trace)]
    process = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_for_page(process, port, "benchmarks.soak_server", limit_s=300)
    return process, time.perf_counter() - start


def ask_probe(process: subprocess.Popen, probe: Path, trim: bool = False) -> str:
    """Have the probed server append a report to `probe` (`trim`: with RSS after malloc_trim) and return it."""
    before = probe.read_text() if probe.exists() else ""
    process.send_signal(signal.SIGUSR2 if trim else signal.SIGUSR1)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = probe.read_text() if probe.exists() else ""
        if text.count("--- done") > before.count("--- done"):
            return text[len(before) :].replace("--- done\n", "")
        time.sleep(0.5)
    return "(no probe report within 600 s)\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights", default="weights", help="runs to serve (default weights/; with --probe, app.py's default)"
    )
    parser.add_argument("--requests", type=int, default=20_000, help="valid requests in all")
    parser.add_argument("--every", type=int, default=2_000, help="report RSS and cache size every N requests")
    parser.add_argument("--minutes", type=float, help="stop after the report in which this many minutes have passed")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these endpoints (API names without /)")
    parser.add_argument(
        "--probe", type=Path, help="serve with benchmarks.soak_server and print its memory report at every report"
    )
    parser.add_argument("--trace", action="store_true", help="with --probe: tracemalloc on in the server")
    args = parser.parse_args(argv)
    cache = Path(tempfile.mkdtemp(prefix="gan-soak-cache-"))
    # Inherited by the app: Gradio's cache folder and the app's own temp files (GIFs) are ours to measure.
    os.environ["GRADIO_TEMP_DIR"] = os.environ["TMPDIR"] = str(cache)
    port = free_port()
    if args.probe:
        process, ready = start_probed(port, args.probe, args.trace)
    else:
        process, ready = start_app(Path(args.weights), port)
    url = f"http://127.0.0.1:{port}/"
    print(
        f"python -m benchmarks.soak_app {' '.join(argv if argv is not None else sys.argv[1:])}; Gradio's cache "
        f"sweep every {CACHE_SWEEP_S} s (files older than {CACHE_MAX_AGE_S} s), {SESSIONS} sessions kept; "
        f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}; {os.cpu_count()} CPUs"
    )
    print(f"app ready after {ready:.1f} s; cache folder {cache}")
    failures = 0
    try:
        facts = probe_facts(url)
        declared = examples(facts)
        listed = [name.lstrip("/") for name in valid_calls(url, facts)]  # the app's API list (its examples checked)
        calls = [(n, declared.get(n, {})) for n in listed if n not in SKIPPED and (not args.only or n in args.only)]
        print(f"endpoints: {', '.join('/' + name for name, _ in calls)}")
        reports = []
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            clients = [httpx.Client(timeout=120) for _ in range(CLIENTS)]
            for block_start in range(0, args.requests, args.every):
                block = range(block_start, min(block_start + args.every, args.requests))

                def send(i: int) -> str | None:
                    name, ex = calls[i % len(calls)]
                    args = varied(ex, i, facts)
                    try:
                        problem = rest_failure(clients[i % CLIENTS], url, f"/{name}", args)
                    except httpx.HTTPError as err:
                        problem = f"{type(err).__name__}: {err}"
                    return None if problem is None else f"/{name} {args}: {problem[:200]}"

                problems = [p for p in pool.map(send, block) if p is not None]
                for problem in problems[:10]:
                    print(f"  failed: {problem}")
                failures += len(problems)
                mb, files = folder_size(cache)
                rss = rss_mb(process)
                reports.append(rss)
                print(
                    f"{block.stop:6d} requests  {time.perf_counter() - start:7.0f} s  RSS {rss:7.1f} MB  "
                    f"cache {mb:7.1f} MB in {files} files  failed so far {failures}  "
                    f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
                    flush=True,
                )
                if args.probe:
                    print(ask_probe(process, args.probe), end="", flush=True)
                if args.minutes and time.perf_counter() - start > args.minutes * 60 and block.stop < args.requests:
                    print(f"stopped after {block.stop} of {args.requests} requests: --minutes {args.minutes:g} passed")
                    break
            for client in clients:
                client.close()
        if args.probe:  # last, as trimming changes what RSS shows from then on
            print("after the last request, how much of RSS is memory freed but kept by malloc:")
            print(ask_probe(process, args.probe, trim=True), end="", flush=True)
        if len(reports) > 1:
            growth = reports[-1] - reports[0]
            print(
                f"RSS after the first {args.every}: {reports[0]:.1f} MB; at the end {reports[-1]:.1f} MB "
                f"({growth:+.1f} MB; peak {max(reports):.1f} MB); goal: at most +50 MB"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(cache, ignore_errors=True)  # measured above; the app's copies of its pictures, GBs after a soak
    return 1 if failures else 0


if __name__ == "__main__":
    with results_file("soak_app"):
        status = main()
    raise SystemExit(status)
