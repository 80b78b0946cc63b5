"""Live training: start-up and time to digits from the Start request, /generate served while a live run trains,
and what the trainer's mid-epoch previews cost.

    python -m benchmarks.bench_live --data-dir ../shared/data                   # digits and serving
    python -m benchmarks.bench_live --data-dir ../shared/data --only digits --runs 3
    python -m benchmarks.bench_live --data-dir ../shared/data --only serving --clients 20 --requests 10
    python -m benchmarks.bench_live --data-dir ../shared/data --only cpu        # the trainer alone, CPU seconds
    python -m benchmarks.bench_live --data-dir ../shared/data --only preview    # previews on / off, side by side

digits and serving run `python app.py` (the trainer as its child process; --preset tutorial, stable or fast) and
drive it with gradio_client. What it prints also goes to benchmarks/results/bench_live.txt.

Start-up: from sending /live_start to the trainer's start event (gan.layout.EVENTS: set up, about to take its first
step), with the CPU seconds the trainer spent on it. Goal: <= 3 s. The app keeps a warm trainer ready (app.py
--live-warm, on by default); each Start comes WARM_S after the previous run ended, time for the next one to warm
up, as between two visitors' runs (the trainer's start event says whether it was warm: "a warm trainer").
Time to digits: from sending /live_start to the first /live_status answer whose last epoch the trainer's judge
scores with all ten digits (each >= 2%) and IS >= 5, asked once a second as the page does; start-up included.
The judge's "not a digit" pictures count for no digit: ten digits means ten digits drawn, not ten blobs.
Goal (DESIGN.md): <= 30 s on 2 cores.
Serving: /generate p95 at N clients while the live run trains, against the same with no run. Goal: <= 1.3x.
Preview cost: the same steps trained with and without a preview every second, rounds alternating in one process.
Goal: <= 3% of the throughput.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.bench_app import free_port, results_file, run_clients  # noqa: E402
from demo.live import PRESETS, preset  # noqa: E402
from demo.tabs.train import TICK_S  # noqa: E402
from gan.layout import read_events  # noqa: E402
from gan.milestones import DIGIT_SHARE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGITS_IS = 5.0  # with all ten digits at >= DIGIT_SHARE each: "real digits on screen"
WARM_S = 8.0  # before each Start: time for the app's warm trainer to get ready, as between two visitors' runs


def start_app(port: int, weights: str, live_root: Path, args: argparse.Namespace) -> subprocess.Popen:
    """`python app.py` with live training on; returns once its page answers."""
    command = [
        *(sys.executable, "app.py", "--weights", weights, "--port", str(port)),
        *("--live-dir", str(live_root), "--live-data-dir", args.data_dir, "--live-max-epochs", str(args.epochs)),
        *("--live-threads", str(args.threads), "--live-nice", str(args.nice)),
        *(("--live-trainer-args", args.trainer_args) if args.trainer_args else ()),
        *(("--no-live-warm",) if args.cold else ()),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited: {process.stderr.read().strip()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("app.py did not answer within 120 s")


def has_digits(summary: dict) -> bool:
    scores = summary.get("scores") or {}
    histogram = scores.get("class_histogram") or [0.0]
    return min(histogram) >= DIGIT_SHARE and scores.get("inception_score", 0.0) >= DIGITS_IS


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def settings(name: str, epochs: int) -> list:
    """/live_start's arguments for a preset (seed 0)."""
    return list(vars(preset(name, epochs=epochs)).values())


def started_event(folder: Path, timeout: float = 300.0) -> dict:
    """The trainer's start event in `folder` (it waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [event for event in read_events(folder)[0] if event["event"] in ("start", "error")]
        if found:
            return found[0]
        time.sleep(0.02)
    return {}


def time_to_digits(client, name: str, epochs: int, live_root: Path) -> dict:
    """Start a preset and poll its status until the judge sees real digits (or the run ends)."""
    before = load_line()
    start, requested = time.perf_counter(), time.time()
    answer = client.predict(*settings(name, epochs), api_name="/live_start")[0]
    event = started_event(live_root / answer["run"])
    startup = event.get("time", float("nan")) - requested
    began = "it read its settings (a warm trainer)" if event.get("warm") else "its process began or read them"
    print(
        f"  {startup:5.1f} s  set up, first step (trainer: {event.get('setup_s', float('nan')):.1f} s since "
        f"{began}, {event.get('setup_cpu_s', float('nan')):.1f} CPU s)"
    )
    first_epoch, seen, summary = None, 0, {}
    while True:
        summary = client.predict(api_name="/live_status")[0]
        now = time.perf_counter() - start
        if summary["epoch"] > seen:
            seen = summary["epoch"]
            first_epoch = first_epoch or now
            scores = summary.get("scores") or {}
            histogram = scores.get("class_histogram") or [0.0]
            print(
                f"  {now:5.1f} s  epoch {seen:2d}  IS {scores.get('inception_score', float('nan')):.2f}  "
                f"rarest digit {min(histogram):.1%}  {summary.get('images_per_sec') or 0:.0f} img/s"
            )
            if has_digits(summary):
                break
        if summary["state"] not in ("starting", "training"):
            break
        time.sleep(TICK_S)  # as often as an open Train tab asks
    reached = has_digits(summary)
    seconds = time.perf_counter() - start
    if summary["state"] in ("starting", "training"):
        client.predict(api_name="/live_stop")
    return {
        "seconds": seconds if reached else None,
        "epoch": seen,
        "first_epoch": first_epoch,
        "before": before,
        "startup": startup,
        "startup_cpu": event.get("setup_cpu_s"),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_to_digits(name: str, epochs: int, data_dir: str) -> dict:
    """The trainer alone, one thread, the preset's flags: its CPU seconds (start-up included) until an epoch's
    record shows real digits. On a shared machine wall time says more about the neighbours than about us; CPU
    time of a one-thread run is what the same run takes on one idle core."""
    from demo.live import LiveOptions, LiveTrainer

    root = Path(tempfile.mkdtemp(prefix="bench-live-cpu-"))
    try:
        trainer = LiveTrainer(LiveOptions(root=root, data_dir=data_dir, threads=1))  # only for its command line
        command, out = trainer.command(root / "run", preset(name, epochs=epochs)), root / "run"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
        )
        found, offset = None, 0
        while found is None and process.poll() is None:
            events, offset = read_events(out, offset)
            for event in events:
                if event["event"] == "start":
                    print(f"  set up: {event['setup_cpu_s']:.1f} CPU s, {event['setup_s']:.1f} s wall")
                if event["event"] != "epoch":
                    continue
                used, wall = cpu_seconds(process.pid), time.perf_counter() - start
                record = event["record"]
                score = record["inception_score"]
                print(f"  epoch {record['epoch']:2d}: {used:6.1f} CPU s, {wall:6.1f} s wall  IS {score:.2f}")
                if has_digits({"scores": record}):
                    found = {"epoch": record["epoch"], "cpu": used, "wall": wall}
                    break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return found or {"epoch": None}


def generate_load(url: str, clients: int, requests: int, run: str, epoch: int) -> dict:
    """`clients` users at once, each sending `requests` /generate calls (10x10 grids) one after another."""
    from gradio_client import Client

    def user(index: int) -> tuple[list[float], int]:
        client = Client(url, verbose=False, download_files=False)
        latencies, errors = [], 0
        for step in range(requests):
            begin = time.perf_counter()
            try:
                client.predict(run, epoch, index * requests + step, 10, False, api_name="/generate")
            except Exception as err:  # counted, not raised: the figure is how many failed (the first is shown)
                errors += 1
                if not failures:
                    failures.append(f"{type(err).__name__}: {str(err)[:200]}")
            latencies.append((time.perf_counter() - begin) * 1000)
        return latencies, errors

    failures: list[str] = []
    figures = run_clients(user, clients)
    figures["first_error"] = failures[0] if failures else ""
    return figures


def watcher(url: str, stop: threading.Event) -> None:
    """One open page: asks for the live status every second, as the Train tab does."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    while not stop.wait(1.0):
        client.predict(api_name="/live_status")


def serving(client, url: str, args: argparse.Namespace, run: str, epoch: int) -> dict:
    """/generate at N clients idle, then while a live run trains; the p95s and their ratio."""
    generate_load(url, 4, 2, run, epoch)  # warm-up
    stop = threading.Event()
    page = threading.Thread(target=watcher, args=(url, stop), daemon=True)
    page.start()
    idle = generate_load(url, args.clients, args.requests, run, epoch)
    client.predict(*settings(args.preset, args.epochs), api_name="/live_start")
    while client.predict(api_name="/live_status")[0]["epoch"] < 1:  # the trainer in its loop, past start-up
        time.sleep(0.2)
    busy = generate_load(url, args.clients, args.requests, run, epoch)
    summary = client.predict(api_name="/live_status")[0]
    clock = time.perf_counter()
    stopped = client.predict(api_name="/live_stop")[0]
    stop_s = time.perf_counter() - clock
    stop.set()
    page.join()
    return {
        "idle": idle,
        "busy": busy,
        "epochs": summary["epoch"],
        "rate": summary.get("images_per_sec"),
        "stop_s": stop_s,
        "stopped": stopped["message"],
    }


def preview_cost(args: argparse.Namespace) -> dict:
    """Images/s of the same training steps with and without a preview every second: `rounds` pairs of
    `steps`-step epochs, alternating which goes first, in this process (the trainer's own train_epoch)."""
    import torch

    from gan.config import parse_args
    from gan.step import build_gan
    from gan.train import SAMPLE_GRID, Preview, fixed_latents, load_training_images, normalise, train_epoch

    folder = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    try:
        cfg = parse_args(
            ["--recipe", args.preset, "--data-dir", args.data_dir, "--out", str(folder), "--no-progress"]
            + ["--steps-per-epoch", str(args.steps), "--threads", str(args.threads or 0)]
        )
        data = normalise(load_training_images(cfg)[0])
        gan = build_gan(cfg, torch.device("cpu"))
        noise = fixed_latents(SAMPLE_GRID * SAMPLE_GRID, cfg.latent_dim, cfg.seed)
        rates: dict[str, list[float]] = {"off": [], "on": []}
        drawn = 0
        train_epoch(gan, data, cfg, 1)  # warm-up
        for index in range(args.rounds):
            for name in ("off", "on") if index % 2 == 0 else ("on", "off"):
                preview = Preview(folder, noise, cfg.preview_every) if name == "on" else None
                record = train_epoch(gan, data, cfg, 1, preview)
                rates[name].append(record["images_per_sec"])
                if preview is not None:
                    drawn += preview.drawn
        totals = {name: sum(values) / len(values) for name, values in rates.items()}
        return {"rates": rates, "mean": totals, "drawn": drawn, "every": cfg.preview_every}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data", help="MNIST for the trainer (default data)")
    parser.add_argument("--weights", default="weights/tutorial", help="the run /generate draws from")
    parser.add_argument(
        "--only",
        choices=("digits", "serving", "cpu", "preview"),
        help="one measurement (cpu: the trainer alone, in CPU seconds; preview: its previews' cost)",
    )
    parser.add_argument("--preset", default="fast", choices=tuple(PRESETS), help="the Train tab's preset")
    parser.add_argument("--runs", type=int, default=1, help="time to digits: this many runs, one after another")
    parser.add_argument("--rounds", type=int, default=8, help="preview: pairs of epochs, on and off (default 8)")
    parser.add_argument("--steps", type=int, default=150, help="preview: steps per epoch (default 150)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each live run (and the app's cap)")
    parser.add_argument(
        "--threads", type=int, default=0, help="the trainer's threads, 0 = its own choice (app.py --live-threads)"
    )
    parser.add_argument("--cold", action="store_true", help="no warm trainer: each Start starts a Python")
    parser.add_argument("--nice", type=int, default=10, help="the trainer's niceness (app.py --live-nice)")
    parser.add_argument("--trainer-args", default="", help="more trainer flags (app.py --live-trainer-args)")
    parser.add_argument("--clients", type=int, default=20, help="clients at once (default 20)")
    parser.add_argument("--requests", type=int, default=10, help="/generate calls per client (default 10)")
    args = parser.parse_args(argv)
    from gradio_client import Client

    from gan.layout import epoch_folders

    if args.only == "preview":
        print(f"previews' cost, {args.preset} recipe, {args.rounds} x 2 epochs of {args.steps} steps; {load_line()}")
        found = preview_cost(args)
        for name in ("off", "on"):
            shown = ", ".join(f"{rate:,.0f}" for rate in found["rates"][name])
            print(f"  previews {name:3s}: {shown} img/s (mean {found['mean'][name]:,.0f})")
        cost = 1 - found["mean"]["on"] / found["mean"]["off"]
        print(
            f"preview every {found['every']:g} s ({found['drawn']} drawn): {cost:+.1%} of the throughput "
            f"(goal <= 3%); {load_line()}"
        )
        return 0
    if args.only == "cpu":
        print(f"CPU time to digits, {args.preset} preset, the trainer alone with one thread; {load_line()}")
        found = cpu_to_digits(args.preset, args.epochs, args.data_dir)
        if found["epoch"] is None:
            print("  not reached")
            return 1
        print(
            f"CPU time to digits: {found['cpu']:.1f} s (epoch {found['epoch']}; {found['wall']:.1f} s of wall time "
            f"on this shared machine); {load_line()}"
        )
        return 0
    run, epoch = Path(args.weights).name, max(epoch_folders(args.weights))
    port = free_port()
    live_root = Path(tempfile.mkdtemp(prefix="bench-live-"))
    threads = f"{args.threads} thread(s)" if args.threads else "threads of its own choice (1 or 2)"
    warm = "no warm trainer (--cold: each Start starts a Python)" if args.cold else "a warm trainer kept ready"
    print(f"trainer: {threads}, nice {args.nice}, {warm}; server: app.py as shipped; {load_line()}")
    process = start_app(port, args.weights, live_root, args)
    url = f"http://127.0.0.1:{port}/"
    failed = False
    try:
        client = Client(url, verbose=False, download_files=False)
        if args.only in (None, "digits"):
            for run in range(1, args.runs + 1):
                time.sleep(WARM_S)  # the app's warm trainer for this Start gets ready (import torch and the like)
                print(f"time to digits, run {run} ({args.preset} preset, from the /live_start request):")
                found = time_to_digits(client, args.preset, args.epochs, live_root)
                print(
                    f"start-up: {found['startup']:.1f} s from the request to the first training step "
                    f"({found['startup_cpu']} CPU s in the trainer; goal <= 3 s)"
                )
                if found["seconds"] is None:
                    print(f"  not reached in {found['epoch']} epochs")
                    failed = True
                else:
                    print(
                        f"time to digits: {found['seconds']:.1f} s (epoch {found['epoch']}; first epoch on screen "
                        f"after {found['first_epoch']:.1f} s; goal <= 30 s)\n  before Start: {found['before']}\n"
                        f"  after: {load_line()}"
                    )
                    failed |= found["seconds"] > 30
                while client.predict(api_name="/live_status")[0]["state"] in ("starting", "training", "stopping"):
                    time.sleep(0.5)
        if args.only in (None, "serving"):
            while client.predict(api_name="/live_status")[0]["state"] in ("starting", "training", "stopping"):
                time.sleep(0.5)
            figures = serving(client, url, args, run, epoch)
            for name in ("idle", "busy"):
                load = figures[name]
                what = "no live run" if name == "idle" else f"a live run training (epochs 1-{figures['epochs']})"
                print(
                    f"/generate 10x10, {args.clients} clients x {args.requests}, {what}: {load['errors']} errors, "
                    f"p50 {load['p50']:.0f} ms, p95 {load['p95']:.0f} ms, {load['rps']:.1f} req/s"
                    + (f" (first error: {load['first_error']})" if load["first_error"] else "")
                )
            ratio = figures["busy"]["p95"] / figures["idle"]["p95"]
            print(
                f"p95 while training / idle: {ratio:.2f} (goal <= 1.3); the trainer ran at "
                f"{figures['rate'] or 0:.0f} img/s under that load; {load_line()}"
            )
            print(f"/live_stop answered after {figures['stop_s']:.2f} s: {figures['stopped']}")
            failed |= ratio > 1.3 or bool(figures["busy"]["errors"] or figures["idle"]["errors"])
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: the app stops a live run's trainer on its way out
        process.wait(timeout=30)
    print(f"live runs were written to {live_root}")
    return 1 if failed else 0


if __name__ == "__main__":
    only = argparse.ArgumentParser(add_help=False)
    only.add_argument("--only")
    part = only.parse_known_args()[0].only
    with results_file(f"bench_live-{part}" if part in ("cpu", "preview") else "bench_live"):
        status = main()
    sys.exit(status)
