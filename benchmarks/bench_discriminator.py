"""Server CPU time per request of each Discriminator view: the piles, the verdicts (10x10), the push, the arms race
(first computation and cached), one step by hand (a click on the page, and /hand_step replaying "DG"), and
/discriminate.

    python -m benchmarks.bench_discriminator                        # weights/tutorial, its last epoch
    python -m benchmarks.bench_discriminator --run weights/stable --epoch 50 --repeats 30

One thread, as app.py runs it; CPU time is the request's own compute (the handler, and the PNG encoding Gradio does
for each picture it returns), wall time is printed beside it. "Cold" is the first request of its kind for the epoch
(nothing cached), "again" the same request repeated. What it prints also goes to
benchmarks/results/bench_discriminator.txt.

Budget (issue 25): each view at most 100 ms of server CPU per request (median; p95 beside it); the arms race's
first computation at most 10 s, then cached.
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
from PIL import Image  # noqa: E402

from benchmarks.bench_app import percentile, results_file  # noqa: E402
from demo import arena, critic  # noqa: E402
from demo.context import Context  # noqa: E402
from demo.runs import load_specs  # noqa: E402
from demo.tabs import discriminator as tab  # noqa: E402

BUDGET_MS = 100.0
ARMS_BUDGET_S = 10.0


def encode(result) -> None:
    """What Gradio does with a handler's pictures: save each as PNG."""
    for item in result if isinstance(result, tuple) else (result,):
        if isinstance(item, Image.Image):
            item.save(io.BytesIO(), format="PNG")


def timed(work: Callable[[int], object], repeats: int, before: Callable[[], None] | None = None):
    """CPU and wall milliseconds of work(i) + PNG encoding, `repeats` times (`before` runs untimed each time)."""
    times: dict[str, list[float]] = {"cpu": [], "wall": []}
    for index in range(repeats):
        if before is not None:
            before()
        wall, cpu = time.perf_counter(), time.process_time()
        encode(work(index))
        times["cpu"].append((time.process_time() - cpu) * 1000)
        times["wall"].append((time.perf_counter() - wall) * 1000)
    return times


def report(name: str, times: dict[str, list[float]], budget: float = BUDGET_MS) -> bool:
    cpu, wall = statistics.median(times["cpu"]), statistics.median(times["wall"])
    ok = cpu <= budget  # the median, as bench_digits judges; p95 is printed (a loaded machine stretches it)
    print(
        f"  {name:<52} CPU {cpu:7.1f} ms median, {percentile(times['cpu'], 0.95):7.1f} p95 | wall {wall:7.1f} median"
        f"{'' if ok else '  OVER BUDGET'}"
    )
    return ok


def forget_piles() -> None:
    with arena._piles_lock:
        arena._piles.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default="weights/tutorial", help="a run folder with epoch-NNN/discriminator/")
    parser.add_argument("--epoch", type=int, help="the epoch (default: the run's last saved one)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as app.py runs it
    folder = Path(args.run)
    ctx = Context(load_specs([str(folder)]))
    run = ctx.names[0]
    engine = ctx.engine(run)
    epoch = engine.nearest_epoch(args.epoch or engine.epochs[-1])
    if critic.discriminator(engine.run.folder, epoch) is None:
        raise SystemExit(f"{folder} has no Discriminator at epoch {epoch}: {critic.missing_line(run)}")
    handlers = tab.Handlers(ctx)
    ok = []
    with results_file("bench_discriminator"):
        print(
            f"run {folder} ({len(engine.epochs)} saved epochs), epoch {epoch}, one thread, {args.repeats} repeats, "
            f"torch {torch.__version__}"
        )
        images, _ = critic.real_digits()
        digit = images[0].astype(int).tolist()
        first = engine.epochs[0]
        ok.append(
            report(
                "/piles cold (1,000 real + 1,000 fakes)",
                timed(lambda i: handlers.piles(run, epoch), args.repeats, forget_piles),
            )
        )
        ok.append(report("/piles again (cached)", timed(lambda i: handlers.piles(run, epoch), args.repeats)))
        ok.append(report("/verdicts 10x10", timed(lambda i: handlers.verdicts(run, epoch, i, 10, 1), args.repeats)))
        ok.append(
            report(
                "/push (one sample, gradients, step)",
                timed(lambda i: handlers.push(run, epoch, i, 1, 0.2, "non-saturating"), args.repeats),
            )
        )
        ok.append(
            report(
                "/discriminate (28x28 grey rows)",
                timed(lambda i: handlers.discriminate(run, epoch, digit), args.repeats),
            )
        )
        state = {"game": None}

        def click(i: int):
            kind = "D" if i % 2 == 0 else "G"
            state["game"], _, *views = handlers.hand_click(kind, state["game"], run, epoch, 0, 6, "non-saturating")
            return tuple(views)

        ok.append(report("hand step click (D or G, 6x6 grid, piles, push sizes)", timed(click, args.repeats)))
        ok.append(
            report(
                "/hand_step replaying 'DG' (6x6)",
                timed(lambda i: handlers.hand_step(run, epoch, 0, 6, "DG", "minimax"), args.repeats),
            )
        )
        with arena._arms_lock:
            arena._arms.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        encode(handlers.arms_race(run, epoch))
        first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
        found = arena.cached_arms_race(engine)
        fine = first_cpu <= ARMS_BUDGET_S
        ok.append(fine)
        print(
            f"  /arms_race first computation ({len(found.d_epochs)} D x {len(found.g_epochs)} G x {arena.ARMS_FAKES} "
            f"fakes + real){'':<3} CPU {first_cpu:7.2f} s, wall {first_wall:.2f} s (budget {ARMS_BUDGET_S:g} s)"
            f"{'' if fine else '  OVER BUDGET'}"
        )
        ok.append(report("/arms_race again (cached)", timed(lambda i: handlers.arms_race(run, first), args.repeats)))
        print("all within budget" if all(ok) else "OVER BUDGET: see the lines marked")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
