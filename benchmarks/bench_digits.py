"""Compute time of the digit features at 10x10: labels on a grid, /digit_sheet, /morph, /morph_strip, /steer.

    python -m benchmarks.bench_digits                  # weights/tutorial, epochs 10 and 200
    python -m benchmarks.bench_digits --run weights/stable --repeats 30

One thread, as app.py runs it; the budget is judged on CPU time (the call's own compute), and wall time is
printed beside it (on a busy machine it includes waiting for a core). "Cold" clears the cache of labelled
latents before each call (a new seed or epoch); "again" is the same seed again (a t slider moving). PNG
encoding is timed apart, as in bench_app.
What it prints also goes to benchmarks/results/bench_digits.txt.

Budget (issue 14): each new endpoint under 100 ms of compute at 10x10.
"""

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from benchmarks.bench_app import percentile, results_file  # noqa: E402
from demo import digits  # noqa: E402
from demo.engine import Engine, load_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS = 100.0


def timed(work: Callable[[int], object], repeats: int, cold: bool) -> tuple[dict[str, list[float]], object]:
    """Wall and CPU milliseconds of `work(i)` for i in range(repeats) (after one warm-up call), and its last
    result. On one thread, CPU time is the call's own compute even while other processes hold the cores."""
    result = work(-1)
    times: dict[str, list[float]] = {"wall": [], "cpu": []}
    for index in range(repeats):
        if cold:
            digits.clear_pools()
        wall, cpu = time.perf_counter(), time.process_time()
        result = work(index)
        times["cpu"].append((time.process_time() - cpu) * 1000)
        times["wall"].append((time.perf_counter() - wall) * 1000)
    return times, result


def png_ms(image) -> float:
    start = time.perf_counter()
    image.save(io.BytesIO(), format="PNG")
    return (time.perf_counter() - start) * 1000


def report(name: str, times: dict[str, list[float]], image=None) -> bool:
    cpu, wall = statistics.median(times["cpu"]), statistics.median(times["wall"])
    encode = f"; PNG {png_ms(image):.0f} ms more" if image is not None else ""
    ok = cpu < BUDGET_MS
    print(
        f"  {name:<46} CPU {cpu:6.1f} ms median, {percentile(times['cpu'], 0.95):6.1f} p95 | wall {wall:6.1f} "
        f"median{encode}{'' if ok else '  OVER BUDGET'}"
    )
    return ok


def bench_epoch(judge: digits.Judge, engine: Engine, epoch: int, repeats: int) -> bool:
    seed, size = 0, 10
    latents = engine.latents(seed, size * size)
    ok = []
    print(f"epoch {epoch}:")
    times, image = timed(lambda i: engine.grid(epoch, latents, size, size), repeats, cold=False)
    report("10x10 grid without labels (reference)", times, image)
    times, (image, _) = timed(lambda i: digits.grid_picture(engine, epoch, latents, size, size, True), repeats, False)
    ok.append(report("10x10 grid with labels", times, image))

    def sheet(i: int):
        drawn = digits.digit_sheet(judge, engine, epoch, seed, size)
        return drawn.image, digits.sheet_caption(drawn, epoch, seed)

    times, (image, _) = timed(sheet, repeats, cold=True)
    ok.append(report(f"/digit_sheet 10 rows, {digits.SHEET_SAMPLES} samples, cold", times, image))
    times, _ = timed(sheet, repeats, cold=False)
    report("/digit_sheet, same seed again", times)

    def morph(i: int):
        return digits.morph_picture(judge, engine, epoch, 3, 8, (i % 11) / 10, seed)

    times, (image, _) = timed(morph, repeats, cold=True)
    ok.append(report(f"/morph 3 -> 8, {digits.CANDIDATES} candidates, cold", times, image))
    times, _ = timed(morph, repeats, cold=False)
    report("/morph, t moves (candidates cached)", times)

    def strip(frames: int):
        def work(i: int):
            return digits.morph_strip(judge, engine, epoch, digits.endpoints(judge, engine, epoch, 3, 8, seed), frames)

        return work

    for frames in (10, 30):
        times, (image, gif) = timed(strip(frames), repeats, cold=True)
        ok.append(report(f"/morph_strip {frames} frames + GIF ({len(gif) // 1024} KiB), cold", times, image))

    for strength in (3.0, digits.MAX_STEER):
        times, (_, image, _) = timed(
            lambda i, strength=strength: digits.steer_pictures(judge, engine, epoch, latents, size, 3, strength, True),
            repeats,
            cold=False,
        )
        ok.append(report(f"/steer 10x10 towards 3, strength {strength:g}, labels", times, image))
    return all(ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_digits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=str(ROOT / "weights" / "tutorial"), help="a run folder")
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 200], help="epochs to time (nearest saved)")
    parser.add_argument("--repeats", type=int, default=20, help="calls per figure (default 20)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as app.py runs it
    judge = digits.shared_judge()
    engine = Engine(load_run(args.run))
    with results_file("bench_digits"):
        print(
            f"digit features, {args.run}, {args.repeats} calls each, 1 thread, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}; budget {BUDGET_MS:g} ms of compute (CPU time) per call at 10x10"
        )
        ok = all([bench_epoch(judge, engine, engine.nearest_epoch(epoch), args.repeats) for epoch in args.epochs])
        print("all within budget" if ok else "SOME OVER BUDGET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
