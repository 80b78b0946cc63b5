"""Two versions of the app side by side: `python app.py` from an older checkout and from this one, on the same weights,
under the same REST load, alternating.

    git worktree add --detach /tmp/app-before 8cdaa9a      # or: git archive 8cdaa9a | tar -x -C /tmp/app-before
    python -m benchmarks.bench_app_versions --baseline /tmp/app-before [--rounds 3] [--seconds 4]

For `/generate` (10x10, every request a picture not drawn before) at 1 and 20 closed-loop clients, with a new Gradio
session per request and with one per client (as benchmarks.bench_app sends them), it prints each version's
requests/s and server CPU milliseconds per request (medians over the rounds) and the ratio. What it prints also goes
to benchmarks/results/bench_app_versions.txt.
"""

import argparse
import functools
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_app import (
    ROOT,
    cpu_seconds,
    facts_of,
    free_port,
    request_args,
    rest_load,
    results_file,
    wait_for_page,
    weights_or_synthetic,
)


def start(checkout: Path, weights: Path, port: int) -> subprocess.Popen:
    """`python app.py` of `checkout` over `weights` on `port`, once its page answers."""
    command = [sys.executable, "app.py", "--weights", str(weights), "--port", str(port)]
    process = subprocess.Popen(command, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_page(process, port, f"app.py in {checkout}")
    return process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_app_versions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--baseline", required=True, type=Path, help="a checkout of the version to compare with")
    parser.add_argument("--weights", default="weights", help="run folder or folder of runs (default weights/)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each version per line (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one measurement (default 4)")
    args = parser.parse_args(argv)
    if not (args.baseline / "app.py").is_file():
        parser.error(f"--baseline {args.baseline} has no app.py")
    weights, label = weights_or_synthetic(args.weights)
    weights = weights.resolve()
    facts = facts_of(weights)
    versions = {f"baseline ({args.baseline})": args.baseline.resolve(), "this checkout": ROOT}
    servers = {}
    try:
        for name, checkout in versions.items():
            port = free_port()
            servers[name] = (start(checkout, weights, port), f"http://127.0.0.1:{port}/")
        args_of = functools.partial(request_args, "generate", facts=facts)
        first = 10**6  # request indices: every picture new, to each version
        for _, url in servers.values():  # warm-up
            first += rest_load(url, "generate", args_of, 4, 1.0, first, "call")["requests"] + 4
        print(
            f"weights: {label}; /generate 10x10, every request new; {args.rounds} rounds of {args.seconds:g} s per "
            f"version and line, alternating; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        for sessions in ("call", "client"):
            for clients in (1, 20):
                rates: dict[str, list[float]] = {name: [] for name in servers}
                cpu: dict[str, list[float]] = {name: [] for name in servers}
                for _ in range(args.rounds):
                    for name, (process, url) in servers.items():
                        before = cpu_seconds(process.pid)
                        result = rest_load(url, "generate", args_of, clients, args.seconds, first, sessions)
                        first += result["requests"] + clients
                        rates[name].append(result["requests"] / result["seconds"])
                        cpu[name].append((cpu_seconds(process.pid) - before) * 1000 / max(result["requests"], 1))
                old, new = (statistics.median(values) for values in rates.values())
                print(
                    f"sessions {'per request' if sessions == 'call' else 'per client'}, {clients:3d} clients: "
                    + " | ".join(
                        f"{name} {statistics.median(rates[name]):.1f} req/s, {statistics.median(cpu[name]):.1f} ms "
                        f"CPU/req"
                        for name in servers
                    )
                    + f" | {new / old:.2f}x; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    with results_file("bench_app_versions"):
        status = main()
    sys.exit(status)
