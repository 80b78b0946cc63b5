"""Shared fixtures: a tiny real training run on generated digits, made once per test session."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from gan.train import parse_args, train  # noqa: E402

TINY_ARGS = ["--dataset", "fake", "--fake-size", "400", "--batch-size", "50", "--no-progress", "--classifier", ""]


def tiny_train(out: Path, epochs: int = 3, *extra: str) -> Path:
    """Train `epochs` real epochs on 400 generated digits into `out` (seconds on a CPU)."""
    train(parse_args([*TINY_ARGS, "--epochs", str(epochs), "--out", str(out), *extra]))
    return out


ROOT = Path(__file__).resolve().parents[1]


def start_trainer(*args: str) -> subprocess.Popen:
    """`python -m gan.train ARGS` as a child process, stderr merged into stdout (one pipe to drain, so it
    cannot fill and stall the child); stdout carries one summary line per epoch."""
    return subprocess.Popen(
        [sys.executable, "-m", "gan.train", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def signal_after_epoch(process: subprocess.Popen, epoch: int, sig: int = signal.SIGKILL) -> str:
    """Send `sig` the moment the child reports epoch `epoch` done (its summary line comes after the
    checkpoint), then wait for it to end; returns everything it printed. A condition, not a timer, so
    machine speed does not matter as long as the run has more to do after that epoch."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("epoch ") and int(line.split()[1]) >= epoch:
            process.send_signal(sig)
            break
    rest, _ = process.communicate(timeout=120)
    return "".join(seen) + rest


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights folder in the shipped layout: epoch-001..003/, samples/, metrics.json."""
    return tiny_train(tmp_path_factory.mktemp("tiny-run"), 3)
