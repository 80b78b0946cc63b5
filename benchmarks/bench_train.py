"""Training speed: the tutorial's loop as written vs our trainer, side by side in one process, and our
loop's share of the machine's sgemm peak at the step's own shapes.

    python -m benchmarks.bench_train --data-dir ../shared/data [--steps 300] [--rounds 7] [--recipe stable]
        [--step autograd] [--precision fp32 bf16] [--threads 1] [--variant threads=1]

(a) tutorial: torchvision DataLoader with ToTensor + Normalize, Sigmoid + BCELoss, batch 100, G not detached.
(b) ours: gan.train.train_epoch on the whole set held as one tensor, same math; at fp32 (the default) and,
    where the CPU has bf16 products, at the opt-in --precision bf16.
(p) peak: every GEMM of one fast step (shapes, strides and dtype recorded from a real step, per precision) replayed
    back to back with nothing else; FLOP over time, the best of 12 short bursts at each thread count our
    loop trains at (1 and all, interleaved burst by burst), half measured before (a) and half after (b).
Each round measures p, a, b (and any --variant of b), so load on the machine hits all of them alike.
Then full `gan.train` epochs at each precision on real MNIST (export, sample grid, FID/IS, checkpoint included)
are timed against the tutorial's epoch. What it prints also goes to benchmarks/results/bench_train.txt.
"""

import argparse
import contextlib
import dataclasses
import io
import itertools
import os
import statistics
import sys
import tempfile
import time

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from benchmarks.bench_app import results_file
from gan.config import PRECISIONS, STEPS, TrainConfig
from gan.data import load_mnist, normalise
from gan.models import Discriminator, Generator
from gan.step import build_gan, fast_step
from gan.train import pick_device, train, train_epoch

aten = torch.ops.aten
GEMMS = {aten.mm.default, aten.mm.out, aten.addmm.default, aten.addmm.out, aten.addmm_.default}


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    size: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: torch.dtype


class GemmRecorder(TorchDispatchMode):
    """Notes every mm / addmm the step calls: the op and its operands' sizes, strides and dtypes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in GEMMS:
            spec = lambda x: TensorSpec(tuple(x.shape), x.stride(), x.dtype) if isinstance(x, torch.Tensor) else x  # noqa: E731
            self.calls.append((func, tree_map(spec, args), tree_map(spec, kwargs)))
        return func(*args, **kwargs)


def step_gemms(cfg: TrainConfig, data: torch.Tensor) -> list:
    """The GEMMs of one fast step of `cfg` (run on a throwaway GAN), in the order the step calls them."""
    gan = build_gan(cfg, data.device)
    fast_step(gan, data[: cfg.batch_size], cfg)  # creates Adam's state, so the recorded step is a steady one
    with GemmRecorder() as recorder:
        fast_step(gan, data[: cfg.batch_size], cfg)
    return recorder.calls


def gemm_flop(call) -> int:
    """2 m k n for (m, k) @ (k, n): the products of mm and addmm (the bias add is not counted)."""
    func, args, _ = call
    a, b = (args[0], args[1]) if func in (aten.mm.default, aten.mm.out) else (args[1], args[2])
    return 2 * a.size[0] * a.size[1] * b.size[1]


def replay_rates(calls: list, counts: tuple[int, ...], seconds: float = 0.1, repeats: int = 6) -> dict[int, float]:
    """GFLOP/s of the recorded GEMMs replayed back to back on random operands, at each thread count in
    `counts` (the loop's thread picker trains at one of them): `repeats` short bursts per count, the counts
    interleaved burst by burst so a spell of load hits all of them alike; the best burst of each count."""
    make = lambda x: torch.empty_strided(x.size, x.stride, dtype=x.dtype).normal_() if isinstance(x, TensorSpec) else x  # noqa: E731
    ready = [(func, tree_map(make, args), tree_map(make, kwargs)) for func, args, kwargs in calls]
    flop = sum(gemm_flop(call) for call in calls)
    before = torch.get_num_threads()
    best = dict.fromkeys(counts, 0.0)
    try:
        for count in counts:
            torch.set_num_threads(count)
            for func, args, kwargs in ready:
                func(*args, **kwargs)  # warm-up
        for _ in range(repeats):
            for count in counts:
                torch.set_num_threads(count)
                done, start = 0, time.perf_counter()
                while (elapsed := time.perf_counter() - start) < seconds:
                    for func, args, kwargs in ready:
                        func(*args, **kwargs)
                    done += 1
                best[count] = max(best[count], done * flop / elapsed / 1e9)
    finally:
        torch.set_num_threads(before)
    return best


def tutorial_loop(data_dir: str, steps: int, device: torch.device, threads: int = 0) -> float:
    """The tutorial's training loop, verbatim in substance, at `threads` (0: torch's default); returns images/s."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        return _tutorial_loop(data_dir, steps, device)
    finally:
        torch.set_num_threads(before)


def _tutorial_loop(data_dir: str, steps: int, device: torch.device) -> float:
    from torchvision import datasets, transforms

    batch_size, latent_size = 100, 100
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.MNIST(data_dir, train=True, download=False, transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    D, G = Discriminator().to(device), Generator().to(device)  # noqa: N806 (the tutorial's names)
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
    g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)
    start, done = time.perf_counter(), 0
    for real_images, _ in loader:
        real_images = real_images.reshape(batch_size, -1).to(device)
        real_labels = torch.ones(batch_size, 1).to(device)
        fake_labels = torch.zeros(batch_size, 1).to(device)
        d_loss_real = criterion(D(real_images), real_labels)
        z = torch.randn(batch_size, latent_size).to(device)
        d_loss_fake = criterion(D(G(z)), fake_labels)
        d_loss = d_loss_real + d_loss_fake
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        z = torch.randn(batch_size, latent_size).to(device)
        g_loss = criterion(D(G(z)), real_labels)
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        done += 1
        if done == steps:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done * batch_size / (time.perf_counter() - start)


def our_loop(data: torch.Tensor, cfg: TrainConfig) -> float:
    """gan.train's epoch loop for cfg.steps_per_epoch steps on a fresh GAN; returns images/s."""
    gan = build_gan(cfg, data.device)
    start = time.perf_counter()
    record = train_epoch(gan, data, cfg, 1)
    if data.device.type == "cuda":
        torch.cuda.synchronize()
    return record["steps"] * cfg.batch_size / (time.perf_counter() - start)


class EpochClock(io.TextIOBase):
    """Passes writes through to `stream`, noting when each of gan.train's per-epoch summary lines arrives
    (printed once the epoch's checkpoint is written)."""

    def __init__(self, stream) -> None:
        self.stream, self.stamps = stream, []

    def write(self, text: str) -> int:
        if text.startswith("epoch "):
            self.stamps.append(time.perf_counter())
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def variant(text: str) -> dict:
    """'threads=1,precision=bf16' -> TrainConfig overrides."""
    fields = {item.name: item.type for item in dataclasses.fields(TrainConfig)}
    changes = {}
    for pair in text.split(","):
        name, _, value = pair.partition("=")
        if name not in fields:
            raise argparse.ArgumentTypeError(f"{name!r} is not a TrainConfig field")
        changes[name] = int(value) if fields[name] in (int, "int") else value
    return changes


def native_bf16() -> bool:
    """Whether this CPU computes bf16 products itself (AVX512-BF16 or AMX), where --precision bf16 can pay."""
    try:
        flags = set(open("/proc/cpuinfo").read().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def full_epochs(cfg: TrainConfig, epochs: int, data_dir: str, device: torch.device, tutorial_epoch: float) -> None:
    """Train `epochs` whole gan.train epochs of `cfg` on MNIST and print each, then the median against the
    tutorial's epoch (60,000 images at its loop's median rate)."""
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(EpochClock(sys.stdout)) as clock:
        cfg = dataclasses.replace(
            cfg, epochs=epochs, data_dir=data_dir, out=out, device=str(device), steps_per_epoch=0
        )  # fmt: skip
        metrics = train(cfg)
    # Wall time from one epoch's summary line to the next: training, export, sample grid, FID/IS, the
    # metrics file and the checkpoint (which the record's epoch_seconds, taken before it, leaves out).
    walls = [b - a for a, b in itertools.pairwise(clock.stamps)]
    for record in metrics["epochs"]:
        eval_seconds = record.get("eval_seconds", 0.0)
        export_seconds = record["epoch_seconds"] - record["train_seconds"] - eval_seconds
        wall = f"{walls[record['epoch'] - 2]:.2f} s wall (checkpoint included), " if record["epoch"] > 1 else ""
        print(
            f"{cfg.precision} gan.train epoch {record['epoch']}: {wall}{record['epoch_seconds']:.2f} s whole epoch = "
            f"{record['train_seconds']:.2f} s training + {export_seconds:.2f} s export and sample grid "
            f"+ {eval_seconds:.2f} s FID/IS; {load_line()}"
        )
    whole = statistics.median(walls or [r["epoch_seconds"] for r in metrics["epochs"]])
    no_eval = statistics.median(r["epoch_seconds"] - r.get("eval_seconds", 0.0) for r in metrics["epochs"])
    print(
        f"{cfg.precision} whole epoch after start-up (median{' wall, epoch 2 on' if walls else ''}): gan.train "
        f"{whole:.2f} s with export, the per-epoch FID/IS and the checkpoint ({no_eval:.2f} s without FID/IS and "
        f"the checkpoint) vs the tutorial loop's {tutorial_epoch:.2f} s (60,000 images at its median rate) | ratio "
        f"{tutorial_epoch / whole:.2f}x ({tutorial_epoch / no_eval:.2f}x without FID/IS and the checkpoint)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--steps", type=int, default=300, help="steps per timed loop (default: 300)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of (p), (a) and (b) (default: 7)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--recipe", default="tutorial", help="our trainer's recipe (stable adds the R1 penalty's extra pass through D)"
    )
    parser.add_argument("--step", default="fast", choices=STEPS, help="our trainer's step (default: fast)")
    parser.add_argument(
        "--precision",
        nargs="+",
        choices=PRECISIONS,
        help="our fast step's GEMMs, each timed against its own peak (default: fp32, and bf16 where the CPU has "
        "bf16 products)",
    )
    parser.add_argument("--threads", type=int, default=TrainConfig.threads, help="our trainer's threads (0 = torch's)")
    parser.add_argument(
        "--tutorial-threads", type=int, default=0, help="the tutorial's threads (default 0: torch's, as written)"
    )
    parser.add_argument(
        "--variant", type=variant, action="append", default=[], help="also time ours with these TrainConfig changes"
    )
    parser.add_argument(
        "--full-epochs",
        type=int,
        default=6,
        help="whole gan.train epochs to time, the median taken over epochs 2 on (default 6; 0 = skip)",
    )
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    cpu = device.type == "cpu"
    precisions = args.precision or (["fp32", "bf16"] if cpu and native_bf16() else ["fp32"])
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  python -m benchmarks.bench_train {' '.join(sys.argv[1:])}")
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads by default, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, bf16 products: {native_bf16()}, our recipe: "
        f"{args.recipe}, step: {args.step}, precision: {' and '.join(precisions)}, tutorial threads: "
        f"{args.tutorial_threads or torch.get_num_threads()}, "
        f"threads: {args.threads or 'auto (the faster of 1 and all, timed every 100-800 steps)'}; {load_line()}"
    )
    data = normalise(load_mnist(args.data_dir, train=True)[0]).to(device)
    base = dict(steps_per_epoch=args.steps, progress=False, recipe=args.recipe, step=args.step, threads=args.threads)
    cfgs = {p: TrainConfig(**base, precision=p).resolved() for p in precisions}
    first = cfgs[precisions[0]]
    variants = [dataclasses.replace(first, **changes) for changes in args.variant]
    calls = {p: step_gemms(dataclasses.replace(cfg, step="fast"), data) for p, cfg in cfgs.items()}
    flop = {p: sum(gemm_flop(call) for call in calls[p]) / cfgs[p].batch_size for p in precisions}
    shapes = sorted(
        {
            f"{c[1][-2].size[0]}x{c[1][-2].size[1]}x{c[1][-1].size[1]}"
            for c in calls[precisions[0]]
            if c[0] != aten.mm.out
        }
    )
    print(
        f"one step: {len(calls[precisions[0]])} GEMMs, {flop[precisions[0]] / 1e6:.3f} MFLOP per image; "
        f"m x k x n of the forward and input-gradient products: {', '.join(shapes)}; each precision's peak is "
        f"these GEMMs replayed in its own dtypes"
    )
    if not cpu:
        print("the GEMM peak is measured on the CPU only; skipped")
    # The peak at the thread counts our loop trains at: --threads N, or the picker's 1 and all.
    peak_threads = (args.threads,) if args.threads else tuple(sorted({1, torch.get_num_threads()}))

    for cfg in cfgs.values():
        our_loop(data, dataclasses.replace(cfg, steps_per_epoch=20))  # warm-up
    tutorial, others = [], [[] for _ in variants]
    peaks, ours = {p: [] for p in precisions}, {p: [] for p in precisions}
    for round_ in range(args.rounds):
        nothing = {1: float("nan")}
        before = {p: replay_rates(calls[p], peak_threads) if cpu else nothing for p in precisions}
        tutorial.append(tutorial_loop(args.data_dir, args.steps, device, args.tutorial_threads))
        for p in precisions:
            ours[p].append(our_loop(data, cfgs[p]))
        after = {p: replay_rates(calls[p], peak_threads) if cpu else nothing for p in precisions}
        line = f"round {round_ + 1}: tutorial {tutorial[-1]:,.0f} img/s"
        for p in precisions:
            rates = {n: max(before[p][n], after[p][n]) for n in before[p]}  # measured on both sides of our loop
            peaks[p].append(max(rates.values()))
            line += (
                f" | {p}: peak {peaks[p][-1]:.0f} GFLOP/s ("
                + ", ".join(f"{rate:.0f} at {n} thread{'s' * (n > 1)}" for n, rate in rates.items())
                + f"), ours {ours[p][-1]:,.0f} img/s = {ours[p][-1] * flop[p] / 1e9:.0f} GFLOP/s, "
                f"{ours[p][-1] * flop[p] / 1e9 / peaks[p][-1]:.0%} of peak, {ours[p][-1] / tutorial[-1]:.2f}x"
            )
        for cfg, times in zip(variants, others, strict=True):
            times.append(our_loop(data, cfg))
            line += f" | {args.variant[variants.index(cfg)]} {times[-1]:,.0f} img/s {times[-1] / tutorial[-1]:.2f}x"
        print(f"{line}; {load_line()}", flush=True)
    t_med = statistics.median(tutorial)
    print(f"training loop, median of {args.rounds} rounds: tutorial {t_med:,.0f} img/s")
    for p in precisions:
        o_med, p_med = statistics.median(ours[p]), statistics.median(peaks[p])
        ratios = [o / t for o, t in zip(ours[p], tutorial, strict=True)]
        fractions = [o * flop[p] / 1e9 / k for o, k in zip(ours[p], peaks[p], strict=True)]
        print(
            f"  ours, {p}: peak {p_med:.0f} GFLOP/s | {o_med:,.0f} img/s = {o_med * flop[p] / 1e9:.0f} GFLOP/s = "
            f"{statistics.median(fractions):.0%} of the peak (per round {min(fractions):.0%}-{max(fractions):.0%}) | "
            f"ratio {statistics.median(ratios):.2f}x (per round {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    for changes, times in zip(args.variant, others, strict=True):
        mine = [v / t for v, t in zip(times, tutorial, strict=True)]
        versus = [v / o for v, o in zip(times, ours[precisions[0]], strict=True)]
        print(
            f"  variant {changes}: {statistics.median(times):,.0f} img/s, ratio to the tutorial "
            f"{statistics.median(mine):.2f}x, to ours ({precisions[0]}) {statistics.median(versus):.2f}x "
            f"(per round {', '.join(f'{r:.2f}' for r in versus)})"
        )
    if args.full_epochs:
        for cfg in cfgs.values():
            full_epochs(cfg, args.full_epochs, args.data_dir, device, 60_000 / t_med)
    return 0


if __name__ == "__main__":
    with results_file("bench_train"):
        status = main()
    sys.exit(status)
