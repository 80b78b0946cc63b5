"""What each work-around in demo/gradio_fixes.py saves, in-process, on the installed Gradio (6.31.0):

    python -m benchmarks.bench_gradio_fixes            # about a minute on 2 cores
    python -m benchmarks.bench_gradio_fixes --weights weights

Every figure is CPU time of the measuring thread (time.thread_time), so other work on the machine inflates it little.
- new session: Gradio's SessionState for the whole app against the app's LazySessionState (median of 30), and how
  many block configs Gradio builds for it;
- PNG: Gradio's PNG encoding (Pillow's encoder) against the app's (demo.engine.encode_png) on the app's pictures
  (minimum of 20);
- monitoring summary: one rebuild of the queue's summary with 100, 1,000 and 10,000 events kept (median of 20),
  which Gradio does after every event by default;
- finished sessions: the /call result route's look-up through the queue's per-session entries, with 1,000 to
  100,000 entries left by finished sessions (median of 20), and the memory each entry holds;
- whole files: reads of a cached picture that come back short while it is saved again (Gradio's in-place write
  against the app's write-and-rename), out of 3,000, and what one save costs each way (median of 200);
- cache sweep: how often Gradio's own sweep dies while files are added to a set it sweeps (a thread adding, as
  requests do), out of 10 tries, and the app's sweep in the same test.
A request costs the app about 12 ms of server CPU (benchmarks/results/bench_app_versions.txt): 5% is 0.6 ms.
What it prints also goes to benchmarks/results/bench_gradio_fixes.txt.
"""

import argparse
import os
import statistics
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bench_gradio_fixes.txt"
REQUEST_MS = 12.0  # server CPU of one request (bench_app_versions.txt), for the "% of a request" column


def timed(function, repeats: int) -> list[float]:
    """Milliseconds of this thread's CPU time for each of `repeats` calls (what another process on the machine
    takes is not counted, as wall-clock time would count it)."""
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        function()
        times.append((time.thread_time() - start) * 1000)
    return times


def share(ms: float) -> str:
    return f"{100 * ms / REQUEST_MS:.0f}% of a request"


def new_session(weights: Path) -> list[str]:
    from demo.gradio_fixes import GRADIO_SESSION_STATE, LazySessionState
    from demo.runs import load_specs
    from demo.ui import build_demo

    demo = build_demo(load_specs([str(weights)]))
    built = []
    config_class = demo.default_config.__class__
    config_for_block = config_class.config_for_block  # a staticmethod

    def counting(*args, **kwargs):
        built.append(1)
        return config_for_block(*args, **kwargs)

    config_class.config_for_block = staticmethod(counting)
    try:
        GRADIO_SESSION_STATE(demo)
        gradio_builds = len(built)
        LazySessionState(demo)
        lazy_builds = len(built) - gradio_builds
    finally:
        config_class.config_for_block = staticmethod(config_for_block)
    gradio, lazy = [], []
    for _ in range(30):  # alternating, so load on the machine falls on both alike
        gradio += timed(lambda: GRADIO_SESSION_STATE(demo), 1)
        lazy += timed(lambda: LazySessionState(demo), 1)
    saved = statistics.median(gradio) - statistics.median(lazy)
    return [
        f"new session ({len(demo.blocks)} blocks): Gradio's SessionState {statistics.median(gradio):.2f} ms "
        f"({gradio_builds} block configs built), LazySessionState {statistics.median(lazy):.2f} ms ({lazy_builds} "
        f"built); saved {saved:.2f} ms per new session = {share(saved)} (median of 30)"
    ]


def png(weights: Path) -> list[str]:
    from demo.engine import Engine, encode_png, load_run
    from demo.gradio_fixes import GRADIO_ENCODE_PIL
    from demo.runs import find_runs

    engine = Engine(load_run(next(iter(find_runs(weights).values()))))
    lines = []
    for grid in (10, 4, 1):
        picture = engine.seed_grid(engine.epochs[-1], 3, grid)
        pixels = np.asarray(picture)
        pillow = min(timed(lambda picture=picture: GRADIO_ENCODE_PIL(picture, "png"), 20))
        ours = min(timed(lambda pixels=pixels: encode_png(pixels), 20))
        lines.append(
            f"PNG of a {grid}x{grid} grid ({picture.size[0]} px): Gradio's (Pillow) {pillow:.2f} ms, "
            f"{len(GRADIO_ENCODE_PIL(picture, 'png')) // 1024} KB; the app's {ours:.2f} ms, "
            f"{len(encode_png(pixels)) // 1024} KB; saved {pillow - ours:.2f} ms = {share(pillow - ours)} "
            "(minimum of 20)"
        )
    return lines


def monitoring_summary() -> list[str]:
    import gradio as gr

    queue = gr.Blocks().queue()._queue
    lines = []
    for count in (100, 1_000, 10_000):
        records = [
            {
                "time": float(i),
                "status": "success",
                "process_time": 0.002 + (i % 7) / 1000,
                "function": f"endpoint_{i % 17}",
                "session_hash": uuid.uuid4().hex,
            }
            for i in range(count)
        ]

        def rebuild(records=records):
            queue.events_recorded += queue.ANAYLTICS_CACHE_FREQUENCY  # due: rebuilt, as after every event
            queue.compute_analytics_summary(records)

        ms = statistics.median(timed(rebuild, 20))
        lines.append(
            f"monitoring summary with {count:,} events kept: {ms:.2f} ms per rebuild = {share(ms)}; "
            "Gradio rebuilds it after every event, the app once per 1,000 (median of 20)"
        )
    return lines


def finished_sessions() -> list[str]:
    lines = []
    for count in (1_000, 10_000, 100_000):
        pending = {uuid.uuid4().hex: set() for _ in range(count)}
        event_id = uuid.uuid4().hex

        # gradio/routes.py, the /call/{api_name}/{event_id} route, for a finished event:
        def look_up(pending=pending, event_id=event_id):
            return next((s for s, ids in pending.items() if event_id in ids), event_id)

        ms = statistics.median(timed(look_up, 20))
        lines.append(
            f"finished sessions: {count:,} entries left, the /call result look-up {ms:.2f} ms per request = "
            f"{share(ms)} (median of 20)"
        )
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    pending = {uuid.uuid4().hex: set() for _ in range(10_000)}
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    lines.append(f"finished sessions: each entry holds {(after - before) / len(pending):.0f} bytes (10,000 measured)")
    return lines


def whole_files() -> list[str]:
    from gradio import processing_utils
    from PIL import Image

    from demo.gradio_fixes import GRADIO_SAVE_PIL, save_pil_to_cache

    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 300), dtype=np.uint8))

    def short_reads(save, reads: int = 3000) -> tuple[int, int]:
        with tempfile.TemporaryDirectory() as folder:
            path = save(picture, folder, format="png")
            size, stop, short = os.path.getsize(path), threading.Event(), 0

            def saving():
                while not stop.is_set():
                    save(picture, folder, format="png")

            writer = threading.Thread(target=saving)
            writer.start()
            for _ in range(reads):
                with open(path, "rb") as file:
                    short += len(file.read()) != size
            stop.set()
            writer.join()
            return short, size

    gradio, size = short_reads(GRADIO_SAVE_PIL)
    ours, _ = short_reads(save_pil_to_cache)
    with tempfile.TemporaryDirectory() as folder:
        data = processing_utils.encode_pil_to_bytes(picture, "png")
        cost_gradio = statistics.median(timed(lambda: GRADIO_SAVE_PIL(picture, folder, format="png"), 200))
        cost_ours = statistics.median(timed(lambda: save_pil_to_cache(picture, folder, format="png"), 200))
    return [
        f"whole files: a {size // 1024} KB picture read 3,000 times while a thread saves it again: {gradio} reads "
        f"came back short on Gradio's in-place write, {ours} on the app's write-and-rename; one save "
        f"{cost_gradio:.2f} ms against {cost_ours:.2f} ms (median of 200, {len(data) // 1024} KB encoded each time)"
    ]


def cache_sweep() -> list[str]:
    from types import SimpleNamespace

    from gradio.route_utils import delete_files_created_by_app

    from demo.gradio_fixes import sweep_cache

    def race(sweep) -> bool:
        """True if `sweep` failed while a thread added names to the set it sweeps."""
        with tempfile.TemporaryDirectory() as folder:
            files = set()
            for index in range(3000):
                path = os.path.join(folder, f"{index}.png")
                Path(path).write_bytes(b"png")
                files.add(path)
            blocks = SimpleNamespace(blocks={}, temp_file_sets=[files])
            stop = threading.Event()

            def adding():
                index = 0
                while not stop.is_set():
                    files.add(os.path.join(folder, f"new-{index}.png"))
                    index += 1

            adder = threading.Thread(target=adding)
            adder.start()
            try:
                sweep(blocks)
            except RuntimeError:
                return True
            finally:
                stop.set()
                adder.join()
            return False

    gradio = sum(race(lambda blocks: delete_files_created_by_app(blocks, None)) for _ in range(10))
    ours = sum(race(lambda blocks: sweep_cache(blocks, -1)) for _ in range(10))
    return [
        f"cache sweep while files are added: Gradio's sweep died {gradio} times out of 10 (after which Gradio "
        f"sweeps no more), the app's {ours} times out of 10"
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=Path("weights"), help="a folder of runs (default: weights)")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    header = (
        f"python -m benchmarks.bench_gradio_fixes --weights {args.weights}; gradio {gr.__version__}; "
        f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    lines = [header]
    print(header, flush=True)
    for part in (lambda: new_session(args.weights), lambda: png(args.weights), monitoring_summary):
        for line in part():
            print(line, flush=True)
            lines.append(line)
    for part in (finished_sessions, whole_files, cache_sweep):
        for line in part():
            print(line, flush=True)
            lines.append(line)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
