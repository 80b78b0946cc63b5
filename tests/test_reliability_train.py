"""The trainer under a full disk, a read-only folder, Ctrl-C and SIGKILL: clear errors, the last good state
intact, a resume bit-identical to the run that was never stopped, and what --resume does with each folder."""

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import ROOT, TINY_ARGS, signal_after_epoch, start_trainer, tiny_train
from safetensors.torch import load_file

from gan import train as train_module
from gan.errors import run_cli
from gan.layout import read_events
from gan.models import load_generator


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    # 1000 epochs: far more than can finish between the first epoch's line and the signal on any machine.
    args = [*TINY_ARGS, "--epochs", "1000", "--out", str(out)]
    process = start_trainer(*args)
    output = signal_after_epoch(process, 1, signal.SIGINT)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert "Resume with: python -m gan.train" in output and output.rstrip().endswith("--resume")
    done = checkpoint_epoch(out)
    assert 1 <= done < 1000 and not list(out.glob(".tmp-*"))
    for epoch in range(1, done + 1):
        load_generator(out / f"epoch-{epoch:03d}")
    records = json.loads((out / "metrics.json").read_text())["epochs"]
    assert [r["epoch"] for r in records][:done] == list(range(1, done + 1))
    events, _ = read_events(out)  # what the app reads: the last event says it was interrupted, and where
    assert events[-1]["event"] == "interrupted" and events[-1]["pid"] == process.pid
    assert events[-1]["saved"] == events[-1]["epoch"] - 1 and events[-1]["saved"] <= done
    assert cli(*TINY_ARGS, "--epochs", str(done + 1), "--out", str(out), "--resume") == 0
    assert checkpoint_epoch(out) == done + 1


CLASSIFIER = ROOT / "weights" / "classifier"
TIMING = {"train_seconds", "images_per_sec", "epoch_seconds", "eval_seconds"}
# Scoring on, off and every 2nd epoch, and each recipe option, killed after epoch 1 of 3 and resumed.
# Options share a run where they do not interfere, since every run pays a process start (seconds).
KILL_MATRIX = {
    "scored": [],
    "unscored-steps-per-epoch": ["--classifier", "", "--steps-per-epoch", "3"],
    "eval-every-2-ema-label-smoothing": ["--eval-every", "2", "--ema", "0.9", "--label-smoothing", "0.1"],
    "r1-lr-decay-linear": ["--r1", "1", "--lr-decay", "linear"],
}


def untimed(metrics: dict) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in TIMING} for record in metrics["epochs"]]


@pytest.mark.slow
@pytest.mark.skipif(not (CLASSIFIER / "model.safetensors").is_file(), reason="needs the shipped weights/classifier")
@pytest.mark.parametrize("flags", KILL_MATRIX.values(), ids=KILL_MATRIX)
def test_sigkill_and_resume_is_bit_identical(tmp_path, flags):
    """SIGKILL after epoch 1's checkpoint, --resume, and every weight, optimiser moment, random state
    and recorded figure equals the uninterrupted run's (per-epoch scoring builds the judge on resume too)."""
    args = [*TINY_ARGS, "--classifier", str(CLASSIFIER), "--eval-samples", "100", "--epochs", "3", *flags]
    reference, out = tmp_path / "reference", tmp_path / "killed"
    assert train_module.main([*args, "--out", str(reference)]) == 0
    process = start_trainer(*args, "--out", str(out))
    output = signal_after_epoch(process, 1)
    assert process.returncode == -signal.SIGKILL, output
    assert checkpoint_epoch(out) < 3
    assert train_module.main([*args, "--out", str(out), "--resume"]) == 0
    for epoch in (1, 2, 3):
        a, b = (load_file(run / f"epoch-{epoch:03d}" / "model.safetensors") for run in (reference, out))
        assert all(torch.equal(a[k], b[k]) for k in a), f"epoch {epoch}"
    want, got = (torch.load(run / "checkpoint.pt", weights_only=True) for run in (reference, out))
    for part in ("generator", "discriminator", "ema_generator"):
        assert (part in want) == (part in got)
        assert all(torch.equal(want[part][k], got[part][k]) for k in want.get(part, {}))
    for part in ("g_optimizer", "d_optimizer"):
        for index, moments in want[part]["state"].items():
            assert all(torch.equal(moments[k], got[part]["state"][index][k]) for k in moments)
    assert torch.equal(want["rng_cpu"], got["rng_cpu"])
    metrics = [json.loads((run / "metrics.json").read_text()) for run in (reference, out)]
    assert untimed(metrics[0]) == untimed(metrics[1])
    scored = [r["epoch"] for r in metrics[1]["epochs"] if "fid" in r]
    assert scored == ([] if "" in flags else [2, 3] if "--eval-every" in flags else [1, 2, 3])


@pytest.mark.parametrize("left", ["nothing", "an empty folder", "a kill during epoch 1"])
def test_resume_with_nothing_to_resume_starts_a_fresh_run(tmp_path, tiny_weights, capsys, left):
    out = tmp_path / "run"
    if left != "nothing":
        out.mkdir()
    if left == "a kill during epoch 1":
        (out / ".tmp-epoch-001.x1y2").mkdir()
        (out / "samples").mkdir()
    assert cli(*TINY_ARGS, "--epochs", "1", "--out", str(out), "--resume") == 0
    assert error_lines(capsys.readouterr().err) == [
        f"--resume: nothing to resume in {out} (no checkpoint.pt, no epochs); starting a fresh run"
    ]
    fresh = load_file(out / "epoch-001" / "model.safetensors")
    shared = load_file(tiny_weights / "epoch-001" / "model.safetensors")  # the same settings, trained fresh
    assert all(torch.equal(fresh[k], shared[k]) for k in shared)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["config"]["resume"] is False
    assert not list(out.glob(".tmp-*"))


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "fresh"])
def test_epochs_without_a_checkpoint_are_refused(tmp_path, tiny_weights, capsys, resume):
    out = tmp_path / "run"
    shutil.copytree(tiny_weights, out)
    (out / "checkpoint.pt").unlink()
    before = (out / "epoch-001" / "model.safetensors").read_bytes()
    assert cli(*TINY_ARGS, "--epochs", "4", "--out", str(out), *(["--resume"] if resume else [])) == 2
    assert error_lines(capsys.readouterr().err) == [
        f"error: {'--resume: ' if resume else ''}{out} holds epochs 1-3 but no checkpoint.pt to continue them from; "
        "choose another --out"
    ]
    assert (out / "epoch-001" / "model.safetensors").read_bytes() == before
    assert not (out / "epoch-004").exists() and not (out / "checkpoint.pt").exists()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--hidden-dim", "128"], "hidden_dim=256 (now 128)"),
        (["--lr", "0.001"], "lr=0.0002 (now 0.001)"),
        (["--seed", "1"], "seed=0 (now 1)"),
        (["--recipe", "stable"], "beta1=0.9 (now 0.5)"),
        (["--precision", "bf16"], "precision='fp32' (now 'bf16')"),
    ],
)
def test_resume_refuses_other_settings(tmp_path, tiny_weights, capsys, flags, named):
    out = tmp_path / "run"
    shutil.copytree(tiny_weights, out)
    before = (out / "checkpoint.pt").read_bytes()
    assert cli(*TINY_ARGS, "--epochs", "4", "--out", str(out), "--resume", *flags) == 2
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: --resume: the checkpoint in") and named in err[0]
    assert (out / "checkpoint.pt").read_bytes() == before and not (out / "epoch-004").exists()


def test_resume_takes_a_checkpoint_from_before_a_setting_existed(tmp_path, tiny_weights, capsys):
    """A checkpoint whose config lacks later settings (precision, r1, lr_decay) was trained with their tutorial
    values or defaults, so it resumes at those and is refused at others."""
    out = tmp_path / "run"
    shutil.copytree(tiny_weights, out)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    for name in ("precision", "r1", "lr_decay"):
        del state["config"][name]
    torch.save(state, out / "checkpoint.pt")
    before = (out / "checkpoint.pt").read_bytes()
    assert cli(*TINY_ARGS, "--epochs", "4", "--out", str(out), "--resume", "--precision", "bf16") == 2
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].endswith("was trained with precision='fp32' (now 'bf16')")
    assert (out / "checkpoint.pt").read_bytes() == before
    assert cli(*TINY_ARGS, "--epochs", "4", "--out", str(out), "--resume") == 0
    assert (out / "epoch-004" / "model.safetensors").is_file()


@pytest.mark.slow
def test_default_classifier_is_found_from_any_directory(tmp_path, monkeypatch, capsys):
    """weights/classifier resolves beside the package when the working directory has none."""
    from gan.classifier import resolve_classifier

    monkeypatch.chdir(tmp_path)
    if (CLASSIFIER / "model.safetensors").is_file():
        assert resolve_classifier("weights/classifier") == CLASSIFIER
        out = tiny_train(tmp_path / "scored", 1, "--classifier", "weights/classifier", "--eval-samples", "100")
        assert "fid" in json.loads((out / "metrics.json").read_text())["epochs"][0]
    out = tiny_train(tmp_path / "unscored", 1, "--classifier", "no/such/classifier")
    assert "fid" not in json.loads((out / "metrics.json").read_text())["epochs"][0]
    assert error_lines(capsys.readouterr().err) == ["no classifier in no/such/classifier; per-epoch FID/IS skipped"]
