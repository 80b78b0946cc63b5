"""Kill the trainer with SIGKILL at random moments, resume each time, and check nothing was lost.

    python -m benchmarks.stress_train [--kills 8] [--epochs 12] [--seed 0]

Trains on the generated stand-in for MNIST (so it runs in a minute or two), once uninterrupted and
once killed --kills times at random moments (mid-epoch, during an export, during a checkpoint
write), each kill followed by --resume. Prints what each kill interrupted and the final checks:
every epoch folder loads, metrics.json holds exactly one record per epoch, and the final weights
equal the uninterrupted run's bit for bit. What it prints also goes to benchmarks/results/stress_train.txt.
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from benchmarks.bench_app import results_file
from gan.io import TMP_PREFIX
from gan.layout import CHECKPOINT, METRICS, SAMPLES, epoch_name
from gan.models import load_generator

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("random", f"{TMP_PREFIX}epoch-", f"{TMP_PREFIX}{CHECKPOINT}")
ARGS = ["--dataset", "fake", "--fake-size", "3000", "--batch-size", "50", "--no-progress", "--classifier", ""]


def start(out: Path, epochs: int, resume: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "gan.train", *ARGS, "--epochs", str(epochs), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command + (["--resume"] if resume else []), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def checkpoint_epoch(out: Path) -> int:
    try:
        return int(torch.load(out / CHECKPOINT, weights_only=True)["epoch"])
    except (FileNotFoundError, RuntimeError, EOFError):  # absent, or replaced while being read
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stress_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    args = parser.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  python -m benchmarks.stress_train {' '.join(sys.argv[1:])}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        reference, out = Path(tmp) / "reference", Path(tmp) / "killed"
        began = time.perf_counter()
        uninterrupted = start(reference, args.epochs, resume=False)
        _, stderr = uninterrupted.communicate()
        if uninterrupted.returncode != 0:
            print(f"uninterrupted run failed: {stderr.strip().splitlines()[-1]}")
            return 1
        total = time.perf_counter() - began
        epoch_time = statistics.median(
            r["epoch_seconds"] for r in json.loads((reference / METRICS).read_text())["epochs"]
        )
        print(f"uninterrupted run: {args.epochs} epochs in {total:.1f} s, {epoch_time:.2f} s per epoch")
        kills = 0
        while kills < args.kills:
            before = checkpoint_epoch(out)
            process = start(out, args.epochs, resume=before > 0)
            # Wait until this life has finished an epoch, then kill: at a random moment, or the
            # instant a temp epoch folder or temp checkpoint shows up (inside an export / checkpoint write).
            while checkpoint_epoch(out) == before and process.poll() is None:
                time.sleep(0.01)
            target = STRATEGIES[kills % len(STRATEGIES)]
            if target == "random":
                time.sleep(rng.uniform(0, 1.5 * epoch_time))
            else:
                deadline = time.monotonic() + 3 * epoch_time
                while process.poll() is None and time.monotonic() < deadline:
                    if any(name.startswith(target) for name in os.listdir(out)):
                        break
            if process.poll() is not None:
                print(f"run finished before kill {kills + 1}; starting again from scratch is not needed")
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            leftovers = sorted(p.name for p in out.glob(f"{TMP_PREFIX}*")) + sorted(
                p.name for p in (out / SAMPLES).glob(f"{TMP_PREFIX}*")
            )
            where = f"during a write (left {', '.join(leftovers)})" if leftovers else "mid-epoch or between writes"
            print(
                f"kill {kills} (aimed at {target.strip('.-') or 'random'}): "
                f"checkpoint at epoch {checkpoint_epoch(out)} (was {before}), {where}"
            )
        process = start(out, args.epochs, resume=checkpoint_epoch(out) > 0)
        _, stderr = process.communicate()
        if process.returncode != 0:
            print(f"final resume failed: {stderr.strip().splitlines()[-1]}")
            return 1
        for epoch in range(1, args.epochs + 1):
            load_generator(out / epoch_name(epoch))
        records = [r["epoch"] for r in json.loads((out / METRICS).read_text())["epochs"]]
        final = f"{epoch_name(args.epochs)}/model.safetensors"
        a, b = load_file(reference / final), load_file(out / final)
        same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        one_each = records == list(range(1, args.epochs + 1))
        print(
            f"kills: {kills}; every epoch folder loads: yes ({args.epochs}); "
            f"{METRICS} records: {one_each} ({len(records)} for {args.epochs} epochs); "
            f"temp files left: {len(list(out.glob(f'{TMP_PREFIX}*')))}; "
            f"final weights equal the uninterrupted run: {same}"
        )
        return 0 if same and one_each else 1


if __name__ == "__main__":
    with results_file("stress_train"):
        status = main()
    sys.exit(status)
