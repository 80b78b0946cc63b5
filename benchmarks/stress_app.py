"""Full-size stress of the app: >=1000 hostile calls, 20 clients x 50 mixed requests, then 100 clients for 10 s.

    python -m benchmarks.stress_app                    # starts python app.py on weights/ (synthetic runs if none)
    python -m benchmarks.stress_app --url http://127.0.0.1:7860/   # an app that is already running

The fuzz and the 20-client phase use gradio_client; the 100-client phase speaks Gradio's REST protocol
(POST /gradio_api/call/NAME, then read the result stream) with one httpx connection per client, which is
what a browser does and keeps the load generator light. The valid arguments come from the tab modules
(demo.ui.examples). Exit status 1 if any valid request failed or the server stopped answering. What it
prints also goes to benchmarks/results/stress_app.txt.
"""

import argparse
import json
import re
import sys
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.bench_app import (
    client_load,
    free_port,
    mixed_call,
    results_file,
    run_clients,
    start_app,
    weights_or_synthetic,
)
from demo.context import Facts
from demo.endpoints import rest_failure, valid_calls
from demo.tabs.compare import default_pair
from demo.ui import examples

HOSTILE = [
    -1,
    -(10**18),
    10**18,
    2**31,
    "abc",
    "",
    None,
    2.5,
    1e-9,
    True,
    False,
    "7" * 100_000,
    [],
    [1, 2, 3],
    {"path": "/etc/passwd"},
    "../../etc/passwd",
    "slerp",
    0,
]


def rss_mb(process) -> float | None:
    """Resident memory of the app's process in MB (Linux /proc), or None for an app started elsewhere."""
    if process is None:
        return None
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def probe_facts(url: str) -> Facts:
    """The runs and epochs the app accepts, read from /generate's error messages for a wrong run and epoch."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(url, verbose=False, download_files=False)
    example = examples(Facts(run="", first=1, last=1, other=""))["generate"]
    messages = []
    for wrong in ({"run": "\x00"}, {"epoch": 10**9}):  # the run's wrong first, then the epoch of a good run
        try:
            client.predict(*{**example, **wrong}.values(), api_name="/generate")
            raise SystemExit(f"the app accepted {wrong}")
        except AppError as err:
            messages.append(str(err))
        if "run" in wrong:
            names = re.findall(r"'([^']*)'", messages[0].split("; got")[0])
            run, other = default_pair(names)
            example["run"] = run
    first, last = messages[1].split(" from ")[1].split(";")[0].split(" to ")
    return Facts(run=run, first=int(first), last=int(last), other=other)


def fuzz(url: str, facts: Facts, rounds: int) -> dict:
    """Every endpoint the app lists x every parameter x every hostile value, and each endpoint once with valid
    arguments, `rounds` times, 8 calls in flight at once."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(url, verbose=False, download_files=False)
    valid = valid_calls(url, facts)
    cases = [(name, None, None) for name in valid]  # position None: the valid arguments as they are
    cases += [
        (name, position, value) for name, args in valid.items() for position in range(len(args)) for value in HOSTILE
    ]
    cases *= rounds
    counts = {"answered": 0, "gr.Error": 0, "other error": 0}
    failures: list[str] = []  # what each "other error" was: the case and the message
    lock = threading.Lock()

    def call(case) -> None:
        name, position, value = case
        args = list(valid[name])
        if position is not None:
            args[position] = value
        message = ""
        try:
            for attempt in range(3):  # gradio_client cancels a job when its shared event stream closes under load
                try:
                    client.predict(*args, api_name=name)
                    break
                except CancelledError:
                    if attempt == 2:
                        raise
            kind = "answered"
        except AppError as err:  # a refusal says what is wrong (title "Not allowed"); anything else is a failure
            refused = err.title in ("Not allowed", "No digit labels") or "must" in str(err) or "may" in str(err)
            kind = "gr.Error" if refused else "other error"
            message = str(err)
        except Exception as err:  # counted and shown, the stress goes on
            kind, message = "other error", f"{type(err).__name__}: {err}"
        with lock:
            counts[kind] += 1
            if kind == "other error":
                case = "valid arguments" if position is None else f"argument {position} = {repr(value)[:40]}"
                failures.append(f"{name} {case}: {message[:160]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(call, cases))
    nan_cases = 0
    with httpx.Client(timeout=30) as http:  # NaN and Infinity cannot come through gradio_client's JSON
        for name, args in valid.items():
            number = next((i for i, v in enumerate(args) if isinstance(v, (int, float))), None)  # the first number
            if number is None:  # e.g. /live_stop (no arguments), /live_push (a repo name)
                continue
            for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
                body = "[" + ", ".join(bad if i == number else json.dumps(v) for i, v in enumerate(args)) + "]"
                event = http.post(
                    f"{url}gradio_api/call{name}",
                    content=f'{{"data": {body}}}',
                    headers={"content-type": "application/json"},
                ).json()
                text = http.get(f"{url}gradio_api/call{name}/{event['event_id']}").text
                kind = "gr.Error" if "must be" in text else "other error"
                counts[kind] += 1
                if kind == "other error":
                    failures.append(f"{name} argument {number} = {bad} (raw JSON): {text[:160]}")
                nan_cases += 1
    counts["calls"] = len(cases) + nan_cases
    counts["endpoints"] = [len(valid)]  # a list, so that passes add up to one entry each
    counts["failures"] = failures
    counts["seconds"] = time.perf_counter() - start
    return counts


def rest_call(http: httpx.Client, url: str, name: str, args: list) -> bool:
    return rest_failure(http, url, name, args) is None


def rest_clients(url: str, facts: Facts, clients: int, seconds: float) -> dict:
    """`clients` users each sending mixed requests back to back for `seconds`."""
    deadline = time.perf_counter() + seconds

    def user(index: int) -> tuple[list[float], int]:
        latencies, errors, step = [], 0, 0
        with httpx.Client(timeout=60) as http:
            while time.perf_counter() < deadline:
                name, args = mixed_call(index * 1000 + step, facts)
                start = time.perf_counter()
                try:
                    ok = rest_call(http, url, name, args)
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok
                step += 1
        return latencies, errors

    return run_clients(user, clients)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an app already running (default: start python app.py)")
    parser.add_argument(
        "--weights", default="weights", help="run folder or folder of runs when starting the app (synthetic if no run)"
    )
    parser.add_argument(
        "--fuzz-rounds",
        type=int,
        default=1,
        help="passes over every endpoint x parameter x hostile value, per fuzz phase (3 phases)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 100-client phase")
    args = parser.parse_args(argv)
    process = None
    url = args.url
    if url is None:
        weights, label = weights_or_synthetic(args.weights)
        process, ready = start_app(weights, free_port())
        url = f"http://127.0.0.1:{process.args[-1]}/"
        print(f"weights: {label}; app ready after {ready:.2f} s")
    url = url.rstrip("/") + "/"
    failed = False
    try:
        facts = probe_facts(url)
        memory = {"start": rss_mb(process)}
        counts = fuzz(url, facts, args.fuzz_rounds)
        memory["after fuzz 1"] = rss_mb(process)
        for again in (2, 3):  # the same again: memory should level off, not keep climbing
            more = fuzz(url, facts, args.fuzz_rounds)
            memory[f"after fuzz {again}"] = rss_mb(process)
            counts = {key: counts[key] + more[key] for key in counts}
        for failure in counts["failures"][:10]:
            print(f"  other error: {failure}")
        print(
            f"fuzz: {counts['calls']} calls over all {counts['endpoints'][0]} endpoints the app lists, in "
            f"{counts['seconds']:.1f} s: {counts['gr.Error']} gr.Error "
            f"with a message, {counts['answered']} answered (value was acceptable), "
            f"{counts['other error']} other errors"
        )
        load = client_load(url, 20, 50, facts)
        print(
            f"20 clients x 50 mixed requests (gradio_client): {load['requests']} answered, {load['errors']} errors, "
            f"p50 {load['p50']:.0f} ms, p95 {load['p95']:.0f} ms, {load['rps']:.1f} req/s"
        )
        burst = rest_clients(url, facts, 100, args.seconds)
        print(
            f"100 clients for {burst['seconds']:.0f} s (REST): {burst['requests']} requests, {burst['errors']} errors, "
            f"p50 {burst['p50']:.0f} ms, p95 {burst['p95']:.0f} ms, {burst['rps']:.1f} req/s"
        )
        memory["after load"] = rss_mb(process)
        if memory["start"] is not None:
            print("server memory (RSS): " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))
        alive = rest_call(httpx.Client(timeout=30), url, *mixed_call(0, facts))
        print(f"after the stress the app {'still answers' if alive else 'DOES NOT ANSWER'}")
        failed = counts["other error"] > 0 or load["errors"] > 0 or burst["errors"] > 0 or not alive
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    with results_file("stress_app"):
        status = main()
    sys.exit(status)
