"""App speed: start-up of `python app.py`, compute time of a 10x10 grid, and 20 clients at once.

    python -m benchmarks.bench_app                     # every run in weights/ (synthetic runs if it holds none)
    python -m benchmarks.bench_app --weights runs/mnist --clients 20 --requests 10

What it prints also goes to benchmarks/results/bench_app.txt.

Budget (DESIGN.md): ready within 10 s, a 10x10 grid under 50 ms of compute, 20 clients with no error.
"""

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

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
    """Everything printed inside the block also goes to benchmarks/results/<name>.txt (replaced each run)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"{name}.txt").open("w") as handle, contextlib.redirect_stdout(Tee(sys.stdout, handle)):
        yield


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
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - start < 120:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited: {process.stderr.read().strip()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process, time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit("app.py did not answer within 120 s")


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
    import io

    import torch

    from demo.engine import Engine, load_run
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
        image.save(io.BytesIO(), format="PNG")
        encode.append((time.perf_counter() - start) * 1000)
    return {
        "grid_p50": statistics.median(compute),
        "grid_p95": percentile(compute, 0.95),
        "png_p50": statistics.median(encode),
        "size": image.size[0],
    }


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
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights", default="weights", help="run folder or folder of runs (default weights/; synthetic if no run)"
    )
    parser.add_argument("--clients", type=int, default=20, help="clients at once (default 20)")
    parser.add_argument("--requests", type=int, default=10, help="requests per client (default 10)")
    args = parser.parse_args(argv)
    weights, label = weights_or_synthetic(args.weights)
    print(f"weights: {label}; {os.cpu_count()} CPU cores")

    process, ready = start_app(weights, free_port())
    url = f"http://127.0.0.1:{process.args[-1]}/"
    print(
        f"start-up: python app.py answered after {ready:.2f} s (budget 10 s); its own CPU time until then "
        f"{cpu_seconds(process.pid):.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    try:
        grid = grid_compute_ms(weights)
        print(
            f"10x10 grid: {grid['grid_p50']:.1f} ms median, {grid['grid_p95']:.1f} ms p95 of compute "
            f"(budget 50 ms); PNG encoding of the {grid['size']} px image {grid['png_p50']:.1f} ms more"
        )
        load = client_load(url, args.clients, args.requests, facts_of(weights))
        print(
            f"{args.clients} clients x {args.requests} mixed requests: {load['requests']} answered, "
            f"{load['errors']} errors, p50 {load['p50']:.0f} ms, p95 {load['p95']:.0f} ms, "
            f"{load['rps']:.1f} req/s over {load['seconds']:.1f} s"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 1 if load["errors"] or ready > 10 else 0


if __name__ == "__main__":
    with results_file("bench_app"):
        status = main()
    sys.exit(status)
