"""Shared fixtures: a tiny real training run on generated digits, made once per test session."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from gan.train import parse_args, train  # noqa: E402

TINY_ARGS = ["--dataset", "fake", "--fake-size", "400", "--batch-size", "50", "--no-progress", "--classifier", ""]


def tiny_train(out: Path, epochs: int = 3, *extra: str) -> Path:
    """Train `epochs` real epochs on 400 generated digits into `out` (seconds on a CPU)."""
    train(parse_args([*TINY_ARGS, "--epochs", str(epochs), "--out", str(out), *extra]))
    return out


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights folder in the shipped layout: epoch-001..003/, samples/, metrics.json."""
    return tiny_train(tmp_path_factory.mktemp("tiny-run"), 3)
