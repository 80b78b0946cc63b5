"""Shared fixtures: a tiny real training run on generated digits, made once per test session."""

import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's cache of served files (a gigabyte or two over the suite, apps started as children included) goes in a
# folder of the session's own, deleted at its end, rather than piling up in the shared /tmp/gradio.
OWN_GRADIO_TEMP = None if "GRADIO_TEMP_DIR" in os.environ else tempfile.mkdtemp(prefix="gan-tests-gradio-")
if OWN_GRADIO_TEMP:
    os.environ["GRADIO_TEMP_DIR"] = OWN_GRADIO_TEMP

import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from gan.data import write_fake_mnist  # noqa: E402
from gan.train import STOP_ON_SIGINT, parse_args, train  # noqa: E402

# The Your digit tab's nearest training images come from a small generated MNIST (never a download, the same on
# every machine) unless GAN_DATA_DIR is set; tests that want the real one say so.
OWN_DATA_DIR = None if "GAN_DATA_DIR" in os.environ else tempfile.mkdtemp(prefix="gan-tests-mnist-")
if OWN_DATA_DIR:
    write_fake_mnist(OWN_DATA_DIR)
    os.environ["GAN_DATA_DIR"] = OWN_DATA_DIR

TINY_ARGS = ["--dataset", "fake", "--fake-size", "400", "--batch-size", "50", "--no-progress", "--classifier", ""]


def tiny_train(out: Path, epochs: int = 3, *extra: str) -> Path:
    """Train `epochs` real epochs on 400 generated digits into `out` (seconds on a CPU)."""
    train(parse_args([*TINY_ARGS, "--epochs", str(epochs), "--out", str(out), *extra]))
    return out


ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of the fixtures still open (apps serving from it)
def pytest_sessionfinish(session, exitstatus):
    if OWN_GRADIO_TEMP:
        shutil.rmtree(OWN_GRADIO_TEMP, ignore_errors=True)
    if OWN_DATA_DIR:
        shutil.rmtree(OWN_DATA_DIR, ignore_errors=True)


def start_trainer(*args: str) -> subprocess.Popen:
    """`python -m gan.train ARGS` as a child process, stderr merged into stdout (one pipe to drain, so it
    cannot fill and stall the child); stdout carries one summary line per epoch."""
    return subprocess.Popen(
        [sys.executable, "-m", "gan.train", *args],
        cwd=ROOT,
        # SIGINT stands for Ctrl-C in these tests, also when pytest itself runs in the background with it ignored.
        env={**os.environ, "PYTHONPATH": str(ROOT), STOP_ON_SIGINT: "1"},
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


def perturbed_run(source: Path, out: Path, noise: float = 0.1, seed: int = 0) -> Path:
    """A copy of run folder `source` with Gaussian noise added to every Generator weight: a second run
    with the same epochs and metrics that draws different digits from the same latents."""
    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(source, out)
    generator = torch.Generator().manual_seed(seed)
    for weights in sorted(out.glob("epoch-*/model.safetensors")):
        state = load_file(weights)
        noisy = {name: t + noise * torch.randn(t.shape, generator=generator) for name, t in state.items()}
        save_file(noisy, weights, metadata={"format": "pt"})
    return out


@pytest.fixture(scope="session")
def two_runs(tiny_weights, tmp_path_factory) -> Path:
    """A folder of runs as weights/ is: tutorial/ (the tiny run, epochs 1-3), stable/ (it perturbed, epochs 1-2
    only), classifier/ (not a run)."""
    root = tmp_path_factory.mktemp("two-runs")
    shutil.copytree(tiny_weights, root / "tutorial")
    shutil.rmtree(perturbed_run(tiny_weights, root / "stable") / "epoch-003")
    (root / "classifier").mkdir()
    (root / "classifier" / "info.json").write_text("{}")
    return root
