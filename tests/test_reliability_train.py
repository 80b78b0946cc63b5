"""The trainer under a full disk, a read-only folder and Ctrl-C: clear errors, last good state intact."""

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import TINY_ARGS, tiny_train

from gan import train as train_module
from gan.errors import run_cli
from gan.models import load_generator

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv: str) -> int:
    return run_cli(lambda: train_module.main(list(argv)))


def error_lines(stderr: str) -> list[str]:
    """The lines that are not the start-up banner."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("training on ")]


def checkpoint_epoch(out: Path) -> int:
    return torch.load(out / "checkpoint.pt", weights_only=True)["epoch"]


def assert_epoch_one_intact(out: Path) -> None:
    load_generator(out / "epoch-001")
    assert checkpoint_epoch(out) == 1
    json.loads((out / "metrics.json").read_text())
    assert not list(out.glob(".tmp-*"))


def test_disk_full_during_checkpoint_write(tmp_path, monkeypatch, capsys):
    out = tiny_train(tmp_path / "run", 1)
    real_write = train_module.atomic_write_bytes

    def full_disk(path, data):
        if Path(path).name == "checkpoint.pt":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, data)

    monkeypatch.setattr(train_module, "atomic_write_bytes", full_disk)
    assert cli(*TINY_ARGS, "--epochs", "2", "--out", str(out), "--resume") == 2
    assert error_lines(capsys.readouterr().err) == [
        f"error: cannot write epoch 2 to {out}: No space left on device; epoch 1 and its checkpoint are intact"
    ]
    assert_epoch_one_intact(out)


@contextlib.contextmanager
def small_filesystem(tmp_path: Path, megabytes: int):
    """A real tmpfs of a few MB (needs root and mount rights; the test skips otherwise)."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(mount_point)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the injected disk-full test covers the error path")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_real_full_disk_then_resume_after_freeing_space(tmp_path, capsys):
    with small_filesystem(tmp_path, 64) as fs:
        out = tiny_train(fs / "run", 1)
        free = os.statvfs(fs).f_bavail * os.statvfs(fs).f_frsize
        filler = fs / "filler"
        filler.write_bytes(b"\0" * (free - 200_000))  # leave too little room for another epoch
        assert cli(*TINY_ARGS, "--epochs", "2", "--out", str(out), "--resume") == 2
        err = error_lines(capsys.readouterr().err)
        assert len(err) == 1 and "cannot write epoch 2" in err[0] and "No space left on device" in err[0]
        assert_epoch_one_intact(out)
        filler.unlink()
        assert cli(*TINY_ARGS, "--epochs", "2", "--out", str(out), "--resume") == 0
        assert checkpoint_epoch(out) == 2


def test_read_only_output_folder(tmp_path, capsys):
    with small_filesystem(tmp_path, 64) as fs:
        out = tiny_train(fs / "run", 1)
        before = (out / "checkpoint.pt").read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        assert cli(*TINY_ARGS, "--epochs", "2", "--out", str(out), "--resume") == 2
        err = error_lines(capsys.readouterr().err)
        assert len(err) == 1 and "Read-only file system" in err[0]
        assert (out / "checkpoint.pt").read_bytes() == before
        load_generator(out / "epoch-001")


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [*TINY_ARGS, "--fake-size", "2000", "--epochs", "50", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gan.train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "Resume with: python -m gan.train" in stderr and stderr.rstrip().endswith("--resume")
    done = checkpoint_epoch(out)
    assert done >= 1 and not list(out.glob(".tmp-*"))
    for epoch in range(1, done + 1):
        load_generator(out / f"epoch-{epoch:03d}")
    records = json.loads((out / "metrics.json").read_text())["epochs"]
    assert [r["epoch"] for r in records][:done] == list(range(1, done + 1))
    assert cli(*args[:-4], "--epochs", str(done + 1), "--out", str(out), "--resume") == 0
    assert checkpoint_epoch(out) == done + 1
