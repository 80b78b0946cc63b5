"""App speed against Gradio's own ceiling: the app and a trivial Gradio app with the same outputs, side by side.

    python -m benchmarks.bench_app                       # full: 2 rounds of 4 s per measurement (about 7 minutes)
    python -m benchmarks.bench_app --quick               # 1 round of 2 s each, for development
    python -m benchmarks.bench_app --endpoints generate --clients 20 --rounds 2

In one run it starts two servers: `python app.py` over weights/, and a trivial Gradio app (this file with
--trivial) whose /generate, /timeline and /interpolate have the same output components as the app's, return fixed
values (one answer of the app to each: the same PNG file, the same HTML or Markdown text) and run with the app's
queue and launch settings. Then, for each endpoint and each number of closed-loop clients (1, 20, 100), it loads
the two servers in turn (the app first in odd rounds, the trivial app first in even ones), each client sending
requests back to back through the plain HTTP API (POST /gradio_api/call/NAME, then GET the event's result stream),
first with a new Gradio session per request (no session_hash: what a script gets), then with one session per client
(a session_hash of its own in every POST: what a browser page does). Gradio builds a session's copy of every
component's config when it first sees the session, which costs in proportion to the app's size (both counts are
printed). Every request to the app asks for a picture not drawn before in the run (seed, epoch or t from
a counter), so no cache of the app answers it. It prints throughput, p50 and p95 of both, the ratios, each server's
CPU milliseconds per request and the load generator's own CPU use; a last measurement at the trivial app with twice
the most clients shows whether the generator was the limit.
Also: start-up time and the compute of a 10x10 grid (DESIGN.md: ready within 10 s, a grid under 50 ms).

Goal (issue 17): the app at >= 0.9x the trivial app's throughput and <= 1.2x its p95 at every client count.
What it prints also goes to benchmarks/results/bench_app.txt.
"""

import argparse
import contextlib
import functools
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

# Request i of a mix like people clicking around: the tab modules' valid examples with these values changed.
MIXED = {
    "generate": lambda i, facts: {"seed": i, "grid_size": 10},
    "compare": lambda i, facts: {"seed": i, "grid": 6},
    "timeline": lambda i, facts: {"epoch": facts.first + i % max(facts.last - facts.first + 1, 1), "seed": i},
    "interpolate": lambda i, facts: {"seed_a": i, "seed_b": i + 1, "t": (i % 11) / 10},
    "edit": lambda i, facts: {"seed": i, "grid_size": 5, "direction_1": (i % 9) - 4, "direction_2": 1.5},
}


def mixed_call(i: int, facts) -> tuple[str, list]:
    """The i-th request of the mix: (API name, arguments)."""
    from demo.ui import examples

    name = list(MIXED)[i % len(MIXED)]
    return f"/{name}", list({**examples(facts)[name], **MIXED[name](i, facts)}.values())


class Tee:
    """A text stream writing to several others (the terminal and a results file)."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def results_file(name: str):
    """Everything printed inside the block also goes to benchmarks/results/<name>.txt, which it replaces when the
    block ends or is interrupted (Ctrl-C); `--help`, a usage error or a crash leave the saved results as they were."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{name}.txt"
    partial = target.with_suffix(".txt.partial")
    keep = False
    try:
        with partial.open("w") as handle, contextlib.redirect_stdout(Tee(sys.stdout, handle)):
            try:
                yield
                keep = True
            except KeyboardInterrupt:
                keep = True
                print("(interrupted)")
                raise
    finally:
        if keep:
            partial.replace(target)
        else:
            partial.unlink(missing_ok=True)


def synthetic_weights(folder: Path) -> Path:
    """Two runs of randomly initialised Generators in the shipped layout (epochs 1-10, 15, ..., 200):
    realistic load cost."""
    import torch

    from gan.models import Generator

    for run in ("tutorial", "stable"):
        for epoch in [*range(1, 11), *range(15, 201, 5)]:
            torch.manual_seed(epoch)
            Generator().save_pretrained(folder / run / f"epoch-{epoch:03d}")
    return folder


def weights_or_synthetic(spec: str) -> tuple[Path, str]:
    """`spec` when it is a run folder or a folder of runs; else two synthetic runs in a temp folder."""
    from demo.runs import find_runs

    folder = Path(spec)
    if folder.is_dir() and find_runs(folder):
        return folder, str(folder)
    temp = Path(tempfile.mkdtemp(prefix="bench-app-weights-"))
    return synthetic_weights(temp), f"synthetic (two runs of 46 random-init epochs; {spec} holds no run)"


def facts_of(weights: Path):
    """The example arguments' facts for the runs in `weights`: the default run, its epochs, a second run."""
    from demo.context import Facts
    from demo.runs import find_runs
    from demo.tabs.compare import default_pair
    from gan.layout import epoch_folders

    runs = find_runs(weights)
    run, other = default_pair(list(runs))  # tutorial and stable when both are there
    epochs = list(epoch_folders(runs[run]))
    return Facts(run=run, first=epochs[0], last=epochs[-1], other=other)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(weights: Path | list[str] | None, port: int) -> tuple[subprocess.Popen, float]:
    """Run `python app.py` (with --weights when given) and return it with the seconds until its page answers."""
    specs = [str(weights)] if isinstance(weights, Path) else list(weights or [])
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py", *(["--weights", *specs] if specs else []), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_page(process, port, "app.py")
    return process, time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def grid_compute_ms(weights: Path, repeats: int = 50) -> dict[str, float]:
    """Median / p95 ms of the app's work for one 10x10 grid (forward, grid, upscale) and of its PNG encoding."""
    import numpy as np
    import torch

    from demo.engine import Engine, load_run, png_bytes
    from demo.runs import find_runs

    torch.set_num_threads(1)  # as app.py runs it
    engine = Engine(load_run(next(iter(find_runs(weights).values()))))
    last = engine.epochs[-1]
    engine.seed_grid(last, 0, 10)  # warm-up
    compute, encode = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        image = engine.seed_grid(last, seed, 10)
        compute.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        png_bytes(np.asarray(image))  # how Gradio saves it in the app (demo.gradio_fixes.encode_pil_to_bytes)
        encode.append((time.perf_counter() - start) * 1000)
    return {
        "grid_p50": statistics.median(compute),
        "grid_p95": percentile(compute, 0.95),
        "png_p50": statistics.median(encode),
        "size": image.size[0],
    }


def session_cost_ms(weights: Path, repeats: int = 30) -> dict[str, float]:
    """Median ms to set up a new Gradio session of the app, Gradio's way (a config copy of every block) and the
    app's (demo.gradio_fixes.LazySessionState: built on demand), alternating; the second with every entry built after
    (what the deep-link route asks for), which should cost what Gradio's way does."""
    from demo.gradio_fixes import GRADIO_SESSION_STATE, LazySessionState
    from demo.runs import load_specs
    from demo.ui import build_demo

    demo = build_demo(load_specs([str(weights)]))
    times: dict[str, list[float]] = {"gradio": [], "lazy": [], "lazy, all built": []}
    for _ in range(repeats):
        for label in times:
            start = time.perf_counter()
            state = (GRADIO_SESSION_STATE if label == "gradio" else LazySessionState)(demo)
            if label == "lazy, all built":
                state.config_values.complete()
            times[label].append((time.perf_counter() - start) * 1000)
    return {label: statistics.median(values) for label, values in times.items()} | {"blocks": len(demo.blocks)}


def client_load(url: str, clients: int, requests: int, facts) -> dict:
    """`clients` gradio_client Clients at once, each sending `requests` mixed calls one after another."""
    from gradio_client import Client

    def user(index: int) -> tuple[list[float], int]:
        client = Client(url, verbose=False, download_files=False)
        latencies, errors = [], 0
        for step in range(requests):
            name, args = mixed_call(index * requests + step, facts)
            start = time.perf_counter()
            try:
                client.predict(*args, api_name=name)
            except Exception:  # counted, not raised: the figure is how many failed
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)
        return latencies, errors

    return run_clients(user, clients)


def run_clients(user, clients: int) -> dict:
    """Run `user(index) -> (latencies_ms, errors)` for `clients` users at once; the summary figures."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(user, range(clients)))
    seconds = time.perf_counter() - start
    latencies = [ms for result, _ in results for ms in result]
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "rps": len(latencies) / seconds,
        "seconds": seconds,
        "latencies": latencies,
    }


# ---- side by side with a trivial Gradio app --------------------------------------------------

ENDPOINTS = ("generate", "timeline", "interpolate")
CLIENTS = (1, 20, 100)
SESSIONS = ("call", "client")  # a new Gradio session per request, or one per client (as a browser page keeps)
SESSION_TEXT = {
    "call": "a new Gradio session per request (POST without a session_hash, as a script sends it)",
    "client": "one Gradio session per client (the same session_hash in every POST, as a browser page does)",
}
GOALS = {"throughput": 0.9, "p95": 1.2}  # issue 17: app / trivial, at every client count


def request_args(name: str, i: int, facts, repeat: int = 0) -> list:
    """Request i to `name`: a picture not asked for before in this run (the seed, epoch or t from i); with `repeat`
    K, picture i mod K (K pictures asked for in turn, as a slider moved back and forth over K positions)."""
    i = i % repeat if repeat else i
    if name == "generate":  # the Generate tab's 10x10 grid, unlabelled (the tab's default)
        return [facts.run, facts.last, i, 10, False]
    if name == "timeline":  # the grid through the epochs, as a slider drag asks for it
        return [facts.run, facts.first + i % (facts.last - facts.first + 1), i, 10, False]
    if name == "interpolate":  # the t slider between two seeds
        return [facts.run, facts.last, i // 101, i // 101 + 1, (i % 101) / 100, "slerp"]
    raise ValueError(f"no requests for {name}")


def sse_result(text: str) -> list:
    """The data of an event's result stream (GET /gradio_api/call/NAME/ID) once it completed."""
    lines = text.splitlines()
    index = lines.index("event: complete")
    return json.loads(lines[index + 1].removeprefix("data:"))


def sample_outputs(url: str, facts, folder: Path) -> dict:
    """One answer of the app to each endpoint, saved for the trivial app: {name: {png, text, kind, inputs}}."""
    outputs = {}
    with httpx.Client(timeout=120) as http:
        for name in ENDPOINTS:
            args = request_args(name, 0, facts)
            event = http.post(f"{url}gradio_api/call/{name}", json={"data": args}).json()
            image, text = sse_result(http.get(f"{url}gradio_api/call/{name}/{event['event_id']}").text)
            png = folder / f"{name}.png"
            png.write_bytes(http.get(image["url"]).content)
            kind = "markdown" if name == "interpolate" else "html"  # the app's second output component
            outputs[name] = {"png": str(png), "text": text, "kind": kind, "inputs": len(args)}
    return outputs


def trivial_demo(outputs: dict):
    """A Gradio app whose endpoints return fixed values with the app's output components, event settings and
    queue (its options, and its monitoring summary rebuilt as rarely: demo.gradio_fixes.summarise_queue_rarely);
    Gradio's own sessions (a copy of each block's config per new session, 28 blocks here). gradio is imported here
    only."""
    import gradio as gr

    from demo import widgets
    from demo.gradio_fixes import summarise_queue_rarely
    from demo.ui import CACHE_MAX_AGE_S, CACHE_SWEEP_S

    with gr.Blocks(title="trivial", delete_cache=(CACHE_SWEEP_S, CACHE_MAX_AGE_S)) as demo:
        for name, spec in outputs.items():
            inputs = [gr.Textbox(label=f"input {k}") for k in range(spec["inputs"])]
            image = widgets.image(name)
            text = gr.HTML() if spec["kind"] == "html" else gr.Markdown()
            fixed = (spec["png"], spec["text"])  # a file: the cheapest image value Gradio takes (no encoding)
            button = gr.Button(name)
            button.click(lambda *_, fixed=fixed: fixed, inputs, [image, text], api_name=name, **widgets.LIVE)
    summarise_queue_rarely()  # read by Gradio when the queue is made
    demo.queue(**widgets.queue_options())
    return demo


def serve_trivial(spec_file: str, port: int) -> None:
    """Run the trivial app (in its own process, as app.py runs) until terminated."""
    import signal

    from demo.widgets import launch_options

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    demo = trivial_demo(json.loads(Path(spec_file).read_text()))
    demo.launch(server_name="127.0.0.1", server_port=port, share=False, quiet=True, **launch_options())


def start_trivial(spec_file: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_app", "--trivial", str(spec_file), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_page(process, port, "the trivial app")
    return process


def wait_for_page(process: subprocess.Popen, port: int, what: str, limit_s: float = 120) -> float:
    """Seconds until http://127.0.0.1:PORT/ answers 200; exits with the server's error if it ended first."""
    start = time.perf_counter()
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - start < limit_s:
        if process.poll() is not None:
            detail = process.stderr.read().strip() if process.stderr else f"exit status {process.returncode}"
            raise SystemExit(f"{what} exited: {detail}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{what} did not answer within {limit_s:.0f} s")


def rest_request(http: httpx.Client, url: str, name: str, args: list, session: str | None) -> str | None:
    """One request through the plain HTTP API (POST /gradio_api/call/NAME, then GET its result stream), in the
    given Gradio session (None: Gradio opens one for the call); None when it completed, else what came back."""
    body = {"data": args} if session is None else {"data": args, "session_hash": session}
    event = http.post(f"{url}gradio_api/call/{name}", json=body)
    if event.status_code != 200:
        return f"HTTP {event.status_code}: {event.text}"
    text = http.get(f"{url}gradio_api/call/{name}/{event.json()['event_id']}").text
    return None if "event: complete" in text else text.replace("\n", " ")


def rest_load(url: str, name: str, args_of, clients: int, seconds: float, first: int, sessions: str) -> dict:
    """`clients` closed-loop clients, each with its own connection, sending requests to `name` back to back for
    `seconds` (request i's arguments: args_of(first + i)); sessions "call": a new Gradio session per request (what
    a script that sends no session_hash gets), "client": one per client (what a browser page does). Figures over
    the requests that completed."""
    counter = itertools.count(first)  # next() on it is atomic under the GIL
    failures: list[str] = []
    times: dict[str, float] = {}
    ready = threading.Barrier(clients, action=lambda: times.update(start=time.perf_counter()))

    def user(_: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        session = uuid.uuid4().hex if sessions == "client" else None
        with httpx.Client(timeout=300) as http:
            ready.wait()  # every client's connection set up before the clock starts
            while time.perf_counter() < times["start"] + seconds:
                args = args_of(next(counter))
                start = time.perf_counter()
                try:
                    failure = rest_request(http, url, name, args, session)
                except httpx.HTTPError as err:
                    failure = f"{type(err).__name__}: {err}"
                latencies.append((time.perf_counter() - start) * 1000)
                if failure is not None:
                    errors += 1
                    failures.append(failure[:200])
        times[f"end {_}"] = time.perf_counter()
        return latencies, errors

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(user, range(clients)))
    seconds = max(v for k, v in times.items() if k.startswith("end")) - times["start"]
    latencies = [ms for result, _ in results for ms in result]
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "seconds": seconds,
        "latencies": latencies,
        "failures": failures,
    }


class Server:
    """A server under load and the figures gathered from it (pooled over rounds)."""

    def __init__(self, label: str, process: subprocess.Popen, port: int):
        self.label, self.process, self.url = label, process, f"http://127.0.0.1:{port}/"
        self.args_of = None  # request index -> arguments, set per endpoint
        self.served = 0  # requests sent so far: the next request index, so the app never sees one twice

    def measure(self, name: str, clients: int, seconds: float, sessions: str) -> dict:
        cpu_before, client_before = cpu_seconds(self.process.pid), time.process_time()
        result = rest_load(self.url, name, self.args_of, clients, seconds, self.served, sessions)
        result["server_cpu_ms"] = (cpu_seconds(self.process.pid) - cpu_before) * 1000 / max(result["requests"], 1)
        result["client_cpu"] = (time.process_time() - client_before) / result["seconds"]  # cores
        self.served += result["requests"] + clients
        return result


def pooled(results: list[dict]) -> dict:
    """Several measurements as one: requests over total seconds, percentiles over all latencies."""
    latencies = [ms for result in results for ms in result["latencies"]]
    seconds = sum(result["seconds"] for result in results)
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "errors": sum(result["errors"] for result in results),
        "server_cpu_ms": statistics.median(result["server_cpu_ms"] for result in results),
        "client_cpu": max(result["client_cpu"] for result in results),
        "failures": [f for result in results for f in result["failures"]],
    }


def side_by_side(
    app: Server, trivial: Server, endpoints, clients_list, rounds: int, seconds: float, sessions: str
) -> bool:
    """Each (endpoint, clients) measured `rounds` times on both servers in turn; prints a line each; True when every
    ratio meets the goal."""
    met = True
    print(
        f"{'endpoint':<13}{'clients':>7}  {'app req/s':>9} {'trivial':>8} {'ratio':>6}   "
        f"{'app p50/p95 ms':>15} {'trivial p50/p95':>16} {'p95 ratio':>9}   server CPU ms/req app/trivial  load"
    )
    for name in endpoints:
        for clients in clients_list:
            runs = {app.label: [], trivial.label: []}
            for round_ in range(rounds):
                order = (app, trivial) if round_ % 2 == 0 else (trivial, app)
                for server in order:
                    runs[server.label].append(server.measure(name, clients, seconds, sessions))
            a, t = pooled(runs[app.label]), pooled(runs[trivial.label])
            throughput, p95 = a["rps"] / t["rps"], a["p95"] / t["p95"]
            ok = throughput >= GOALS["throughput"] and p95 <= GOALS["p95"] and not a["errors"] and not t["errors"]
            met &= ok
            print(
                f"/{name:<12}{clients:>7}  {a['rps']:>9.1f} {t['rps']:>8.1f} {throughput:>5.2f}x   "
                f"{a['p50']:>7.0f}/{a['p95']:<7.0f} {t['p50']:>8.0f}/{t['p95']:<7.0f} {p95:>8.2f}x   "
                f"{a['server_cpu_ms']:>6.1f} / {t['server_cpu_ms']:<6.1f}"
                f"{'':>16}{os.getloadavg()[0]:.1f}{'' if ok else '  (goal missed)'}"
                + (f"  errors {a['errors']} / {t['errors']}" if a["errors"] or t["errors"] else "")
            )
            for failure in (a["failures"] + t["failures"])[:3]:
                print(f"    failed: {failure}")
            sys.stdout.flush()
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights", default="weights", help="run folder or folder of runs (default weights/; synthetic if no run)"
    )
    parser.add_argument("--endpoints", nargs="+", default=list(ENDPOINTS), choices=ENDPOINTS)
    parser.add_argument("--clients", nargs="+", type=int, default=list(CLIENTS), help="client counts (1 20 100)")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each server per line (default 2)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one measurement (default 4)")
    parser.add_argument(
        "--sessions",
        nargs="+",
        default=list(SESSIONS),
        choices=SESSIONS,
        help="call: a new Gradio session per request (no session_hash sent); client: one per client, as a page",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        metavar="K",
        help="each endpoint's requests ask for K pictures in turn, as a slider moved back and forth (default 0: "
        "every request new, so no cache answers it)",
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s per line: for development")
    parser.add_argument("--trivial", metavar="SPEC", help=argparse.SUPPRESS)  # run the trivial app (internal)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trivial:
        serve_trivial(args.trivial, args.port)
        return 0
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    weights, label = weights_or_synthetic(args.weights)
    facts = facts_of(weights)
    print(f"weights: {label}; {os.cpu_count()} CPU cores; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    app_port = free_port()
    app_process, ready = start_app(weights, app_port)
    print(
        f"start-up: python app.py answered after {ready:.2f} s (budget 10 s); its own CPU time until then "
        f"{cpu_seconds(app_process.pid):.2f} s"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-app-trivial-"))
    trivial_process = None
    try:
        grid = grid_compute_ms(weights)
        print(
            f"10x10 grid: {grid['grid_p50']:.1f} ms median, {grid['grid_p95']:.1f} ms p95 of compute "
            f"(budget 50 ms); PNG encoding of the {grid['size']} px image {grid['png_p50']:.1f} ms more"
        )
        session = session_cost_ms(weights)
        print(
            f"a new Gradio session of the app ({session['blocks']} blocks), median of 30, in-process: "
            f"{session['gradio']:.2f} ms Gradio's way (a config copy of every block), {session['lazy']:.2f} ms the "
            f"app's (built on demand: demo.gradio_fixes), {session['lazy, all built']:.2f} ms with every entry built"
        )
        app_url = f"http://127.0.0.1:{app_port}/"
        outputs = sample_outputs(app_url, facts, folder)
        spec = folder / "outputs.json"
        spec.write_text(json.dumps(outputs))
        trivial_port = free_port()
        trivial_process = start_trivial(spec, trivial_port)
        print(
            "trivial app: fixed answers of the app's size: "
            + "; ".join(
                f"/{name} a {Image.open(o['png']).size[0]} px PNG of {Path(o['png']).stat().st_size // 1024} KB "
                f"and {len(o['text'])} characters of {o['kind']}"
                for name, o in outputs.items()
            )
        )
        app, trivial = Server("app", app_process, app_port), Server("trivial", trivial_process, trivial_port)
        blocks = {s.label: len(httpx.get(f"{s.url}config", timeout=60).json()["components"]) for s in (app, trivial)}
        print(f"blocks in the page config (Gradio copies each one's config for a new session): {blocks}")
        for name in args.endpoints:  # warm-up: first calls of each endpoint (imports, caches of Gradio's)
            for server in (app, trivial):
                server.args_of = functools.partial(request_args, name, facts=facts)
                server.measure(name, 4, 1.0, "call")
        print(
            f"{args.rounds} round(s) of {args.seconds:g} s per server and line, alternating; "
            f"{f'requests cycle over {args.repeat} pictures' if args.repeat else 'every app request new'}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        met = True
        for sessions in args.sessions:
            print(f"sessions: {SESSION_TEXT[sessions]}")
            for name in args.endpoints:
                app.args_of = trivial.args_of = functools.partial(request_args, name, facts=facts, repeat=args.repeat)
                met &= side_by_side(app, trivial, [name], args.clients, args.rounds, args.seconds, sessions)
        most = 2 * max(args.clients)
        trivial.args_of = functools.partial(request_args, args.endpoints[0], facts=facts)
        check = {
            clients: pooled([trivial.measure(args.endpoints[0], clients, args.seconds, args.sessions[-1])])
            for clients in (max(args.clients), most)
        }
        print(
            f"load generator check (trivial app, /{args.endpoints[0]}): {check[max(args.clients)]['rps']:.1f} req/s "
            f"at {max(args.clients)} clients, {check[most]['rps']:.1f} at {most}; the generator used at most "
            f"{max(c['client_cpu'] for c in check.values()):.2f} of a core; load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the sample outputs the trivial app served
        for process in (app_process, trivial_process):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    verdict = "met" if met else "missed"
    print(f"goal (>= {GOALS['throughput']}x throughput, <= {GOALS['p95']}x p95 at every line): {verdict}")
    return 0 if met else 1


if __name__ == "__main__":
    if "--trivial" in sys.argv or "--quick" in sys.argv:  # the results file holds full runs only
        sys.exit(main())
    with results_file("bench_app_repeat" if "--repeat" in sys.argv else "bench_app"):  # a repeat run: its own file
        status = main()
    sys.exit(status)
