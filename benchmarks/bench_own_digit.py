"""Your digit's costs: the inversion (one MNIST test digit of each kind, on 1 and 2 threads) and the nearest-neighbour
index over MNIST's 60,000 training images (built once: reading MNIST, then the float matrix), and a query.

    python -m benchmarks.bench_own_digit                       # weights/stable, its last epoch, ../shared/data
    python -m benchmarks.bench_own_digit --run weights/tutorial --epoch 50 --data-dir data

Wall time and CPU time (the process's, all threads) are printed side by side; on a busy machine wall time includes
waiting for a core, and CPU time on one thread is the call's own compute (app.py runs every request on one thread).
The table gives, for each digit, what the classifier reads in G(z*), the distance from G(z*) to the digit
(pixels 0..1) and, for scale, the median distance from the digit to 64 random samples of that epoch.
What it prints also goes to benchmarks/results/bench_own_digit.txt.

Budgets (issue 26): the inversion at most 1 s on 2 cores; the index built in at most 10 s.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.bench_app import results_file  # noqa: E402
from demo import critic, digits, own_digit  # noqa: E402
from demo.engine import Engine, load_run  # noqa: E402
from gan.data import load_mnist  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INVERT_BUDGET_S, INDEX_BUDGET_S = 1.0, 10.0


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


def one_per_digit() -> list[tuple[int, np.ndarray]]:
    images, labels = critic.real_digits()
    return [(d, images[int(np.nonzero(labels == d)[0][0])] / 255.0) for d in range(10)]


def inversions(engine: Engine, epoch: int, threads: int) -> list[tuple[float, float]]:
    torch.set_num_threads(threads)
    generator = engine.run.generators[epoch]
    own_digit.invert(generator, one_per_digit()[0][1])  # warm-up
    times = []
    for _, target in one_per_digit():
        start = clocks()
        own_digit.invert(generator, target)
        times.append(since(start))
    return times


def table(engine: Engine, epoch: int) -> list[str]:
    judge = digits.shared_judge()
    samples = engine.tiles(epoch, engine.latents(0, 64)) / 255.0
    lines = ["digit  G(z*) read as  distance  |z*|   random samples (median distance)"]
    right = 0
    for digit, target in one_per_digit():
        found = own_digit.invert(engine.run.generators[epoch], target)
        tile = engine.tiles(epoch, found.latent[None])[0] / 255.0
        probs = judge.probabilities(critic.to_model_input(tile[None]))[0]
        said = int(probs.argmax())
        right += said == digit
        distance = own_digit.pixel_distance(tile, target)
        typical = float(np.median([own_digit.pixel_distance(s, target) for s in samples]))
        lines.append(
            f"{digit:>5}  {said:>6} ({float(probs.max()):.2f})  {distance:8.2f}  {float(found.latent.norm()):4.1f}"
            f"   {typical:.2f}"
        )
    lines.append(f"G(z*) labelled as the digit drawn: {right} of 10")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_own_digit", description=__doc__.split("\n")[0])
    parser.add_argument("--run", default=str(ROOT / "weights" / "stable"), help="a run folder (default weights/stable)")
    parser.add_argument("--epoch", type=int, default=None, help="epoch to invert with (default: the run's last)")
    parser.add_argument("--data-dir", default=None, help="MNIST's folder (default: as the app finds it)")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1],
        help="torch threads to time the inversion on (default 1, as "
        "app.py runs every request; 2 uses both cores of a 2-core machine, which only pays on an idle one)",
    )
    args = parser.parse_args(argv)
    engine = Engine(load_run(args.run))
    epoch = engine.nearest_epoch(args.epoch) if args.epoch is not None else engine.epochs[-1]
    data_dir = Path(args.data_dir) if args.data_dir else own_digit.default_data_dir()
    with results_file("bench_own_digit"):
        print(f"run {args.run}, epoch {epoch}; inversion: {own_digit.RESTARTS} restarts x {own_digit.STEPS} Adam steps")
        print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        torch.set_num_threads(1)
        print("\n".join(table(engine, epoch)))
        for threads in args.threads:
            times = inversions(engine, epoch, threads)
            walls, cpus = [t[0] for t in times], [t[1] for t in times]
            print(
                f"inversion, {threads} thread(s): wall median {statistics.median(walls):.3f} s "
                f"(max {max(walls):.3f}), CPU median {statistics.median(cpus):.3f} s over 10 digits"
                f"  [budget {INVERT_BUDGET_S:g} s on 2 cores]"
            )
        torch.set_num_threads(1)
        start = clocks()
        images, labels = load_mnist(data_dir, train=True)
        read = since(start)
        start = clocks()
        index = own_digit.NeighbourIndex(images, labels)
        built = since(start)
        print(
            f"index over {len(index):,} training images from {data_dir}: reading MNIST {read[0]:.2f} s wall "
            f"({read[1]:.2f} CPU), the matrix {built[0]:.2f} s wall ({built[1]:.2f} CPU), together "
            f"{read[0] + built[0]:.2f} s  [budget {INDEX_BUDGET_S:g} s]"
        )
        queries = []
        for seed in range(20):
            sample = engine.tiles(epoch, engine.latents(seed, 1))[0] / 255.0
            start = clocks()
            index.nearest(sample)
            queries.append(since(start))
        print(
            f"one query ({own_digit.NEIGHBOURS} nearest): wall median "
            f"{statistics.median(q[0] for q in queries) * 1000:.1f} ms, "
            f"CPU median {statistics.median(q[1] for q in queries) * 1000:.1f} ms"
        )
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
