"""The trainer on generated digits: artefacts, determinism, kill-and-resume, bad input."""

import dataclasses
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_ARGS, signal_after_epoch, start_trainer, tiny_train
from PIL import Image
from safetensors.torch import load_file

from gan.config import RECIPES, TrainConfig, parse_args
from gan.data import fake_digits, normalise, write_fake_mnist, write_idx
from gan.errors import UsageError, run_cli
from gan.images import image_grid
from gan.layout import EVENTS, PREVIEW, PREVIEW_KEYS, read_events
from gan.models import Generator
from gan.step import adam_step, autograd_step, build_gan, epoch_statistics, fast_step, r1_penalty
from gan.train import (
    CORES,
    SAMPLE_GRID,
    Preview,
    ThreadPicker,
    epoch_lr,
    fixed_latents,
    main,
    train,
    train_epoch,
    wait_for_start,
)

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv: str) -> int:
    return run_cli(lambda: main(list(argv)))


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_tiny_run_writes_every_artefact(tiny_weights):
    for epoch in (1, 2, 3):
        folder = tiny_weights / f"epoch-{epoch:03d}"
        assert json.loads((folder / "config.json").read_text()) == {
            "latent_dim": 100,
            "hidden_dim": 256,
            "image_size": 784,
        }
        Generator.from_pretrained(folder, strict=True)
        png = tiny_weights / "samples" / f"epoch-{epoch:03d}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tiny_weights / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3]
    for record in metrics["epochs"]:
        figures = torch.tensor([record[key] for key in ("d_loss", "g_loss", "d_real", "d_fake", "images_per_sec")])
        assert torch.isfinite(figures).all() and (figures > 0).all()  # no NaN, no inf
        assert 0 < record["d_real"] < 1 and 0 < record["d_fake"] < 1
    assert metrics["config"]["epochs"] == 3
    assert (tiny_weights / "checkpoint.pt").is_file()
    assert not list(tiny_weights.glob(".tmp-*"))


def test_events_file_tells_the_run_in_order(tmp_path):
    """OUT/events.jsonl: start (settings, pid), each epoch with its metrics.json record, end; whole lines only."""
    out = tmp_path / "run"
    assert cli(*TINY_ARGS, "--epochs", "2", "--out", str(out)) == 0
    events, offset = read_events(out)
    assert offset == (out / EVENTS).stat().st_size and (out / EVENTS).read_bytes().endswith(b"\n")
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "end"]
    assert {e["pid"] for e in events} == {os.getpid()} and all(isinstance(e["time"], float) for e in events)
    assert events[0]["settings"]["out"] == str(out) and events[0]["settings"]["epochs"] == 2
    records = json.loads((out / "metrics.json").read_text())["epochs"]
    assert [e["record"] for e in events[1:3]] == records and [e["epoch"] for e in events[1:3]] == [1, 2]
    assert events[-1]["epochs"] == 2


def test_events_reader_skips_a_half_written_line_until_it_is_whole(tmp_path):
    path = tmp_path / EVENTS
    path.write_bytes(b'{"event": "start", "pid": 1}\nnot json\n{"event": "epo')
    events, offset = read_events(tmp_path)
    assert [e["event"] for e in events] == ["start"] and offset == len(b'{"event": "start", "pid": 1}\nnot json\n')
    with path.open("ab") as handle:
        handle.write(b'ch", "epoch": 1}\n')
    more, end = read_events(tmp_path, offset)
    assert more == [{"event": "epoch", "epoch": 1}] and end == path.stat().st_size
    assert read_events(tmp_path / "nowhere") == ([], 0)


def test_an_error_event_carries_the_printed_message(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    assert cli("--data-dir", str(tmp_path / "no-mnist"), "--out", str(out), "--no-progress") == 2
    printed = capsys.readouterr().err.strip().splitlines()[-1]
    events, _ = read_events(out)
    assert [e["event"] for e in events] == ["error"] and events[0]["kind"] == "usage"
    assert printed == f"error: {events[0]['message']}" and "MNIST is not in" in printed


def test_previews_draw_the_fixed_latents_mid_epoch_and_change_nothing_trained(tmp_path):
    """--preview-every draws OUT/preview.png while an epoch trains (here as often as it may), with when it was drawn in
    its PNG text; the trained weights and the epochs' grids are bit for bit those of a run without previews, and the
    preview is gone once the run ends by itself."""
    quiet, drawn = tmp_path / "quiet", tmp_path / "drawn"
    tiny_train(quiet, 2, "--preview-every", "0")
    tiny_train(drawn, 2, "--preview-every", "1e-9")  # as often as its 3% budget allows
    for epoch in ("epoch-001", "epoch-002"):
        assert same_weights(quiet / epoch, drawn / epoch)
        assert (quiet / "samples" / f"{epoch}.png").read_bytes() == (drawn / "samples" / f"{epoch}.png").read_bytes()
    assert not (drawn / PREVIEW).exists()
    cfg = parse_args([*TINY_ARGS, "--out", str(tmp_path / "step")])
    gan, data = build_gan(cfg, torch.device("cpu")), normalise(fake_digits(cfg.fake_size)[0])
    noise = fixed_latents(SAMPLE_GRID * SAMPLE_GRID, cfg.latent_dim, cfg.seed)
    (tmp_path / "step").mkdir()
    preview = Preview(tmp_path / "step", noise, 1e-9, budget=float("inf"))  # every step: no budget
    record = train_epoch(gan, data, cfg, 3, preview)
    with Image.open(tmp_path / "step" / PREVIEW) as image:
        assert {key: image.text[key] for key in PREVIEW_KEYS} == {"epoch": "3", "step": str(record["steps"] - 1),
                                                                  "steps": str(record["steps"])}  # fmt: skip
        assert [2 * side for side in image.size] == list(Image.open(drawn / "samples" / "epoch-001.png").size)
    assert preview.drawn == record["steps"]
    slow = Preview(tmp_path / "step", noise, 3600.0)
    train_epoch(gan, data, cfg, 4, slow)
    assert slow.drawn == 1  # before the first step, then not again within the hour


def test_the_fast_recipe_is_a_recipe_of_the_trainer():
    fast = parse_args(["--recipe", "fast"])
    assert (fast.lr, fast.beta1, fast.ema, fast.r1, fast.lr_decay) == (1e-3, 0.5, 0.99, 1.0, "none")
    assert parse_args(["--recipe", "fast", "--lr", "1e-3"]).lr == 1e-3  # a flag still wins over its recipe
    assert parse_args([]).lr == parse_args(["--recipe", "stable"]).lr == 2e-4  # tutorial and stable as before
    assert all(recipe.keys() == RECIPES["tutorial"].keys() for recipe in RECIPES.values())


def test_sample_grid_uses_the_same_latents_every_epoch(tiny_weights):
    from PIL import Image

    first, last = (Image.open(tiny_weights / "samples" / f"epoch-{e:03d}.png") for e in (1, 3))
    assert first.size == last.size and first.mode == "L"
    # Rendering the fixed bank through epoch 3's weights reproduces its saved grid exactly.

    generator = Generator.from_pretrained(tiny_weights / "epoch-003", strict=True)
    with torch.no_grad():
        again = image_grid(generator(fixed_latents(SAMPLE_GRID**2, 100, 0)), SAMPLE_GRID, SAMPLE_GRID, scale=2)
    assert np.array_equal(np.asarray(again), np.asarray(last))


@pytest.mark.slow
def test_two_seeded_runs_are_identical(tmp_path):
    a = tiny_train(tmp_path / "a", 2)
    b = tiny_train(tmp_path / "b", 2)
    assert same_weights(a / "epoch-002", b / "epoch-002")
    c = tiny_train(tmp_path / "c", 1, "--seed", "1")
    assert not same_weights(a / "epoch-001", c / "epoch-001")


@pytest.mark.slow
def test_resume_continues_to_the_same_weights(tmp_path):
    full = tiny_train(tmp_path / "full", 3)
    part = tiny_train(tmp_path / "part", 1)
    tiny_train(part, 3, "--resume")
    assert same_weights(full / "epoch-003", part / "epoch-003")
    assert [r["epoch"] for r in json.loads((part / "metrics.json").read_text())["epochs"]] == [1, 2, 3]


def test_stable_recipe_exports_the_ema_generator(tmp_path):
    out = tiny_train(tmp_path / "stable", 1, "--recipe", "stable")
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    exported = weights(out / "epoch-001")
    assert (
        state["config"]["beta1"],
        state["config"]["ema"],
        state["config"]["label_smoothing"],
        state["config"]["r1"],
    ) == (0.5, 0.999, 0.0, 1.0)
    assert all(torch.equal(exported[k], state["ema_generator"][k]) for k in exported)
    assert not torch.equal(exported["linear3.weight"], state["generator"]["linear3.weight"])


def completed_epochs(out: Path) -> int:
    try:
        return len(json.loads((out / "metrics.json").read_text())["epochs"])
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_sigkill_twice_then_resume_equals_uninterrupted(tmp_path):
    epochs = 4
    reference = tiny_train(tmp_path / "reference", epochs)
    out = tmp_path / "killed"
    args = [*TINY_ARGS, "--epochs", str(epochs), "--out", str(out)]
    for kill_after in (1, 2):  # two lives, each killed just after an epoch's checkpoint
        process = start_trainer(*args, *(["--resume"] if kill_after > 1 else []))
        output = signal_after_epoch(process, kill_after)
        assert process.returncode == -signal.SIGKILL, output
        assert completed_epochs(out) >= kill_after
    assert cli(*args, "--resume") == 0
    assert same_weights(reference / f"epoch-{epochs:03d}", out / f"epoch-{epochs:03d}")
    assert [r["epoch"] for r in json.loads((out / "metrics.json").read_text())["epochs"]] == list(range(1, epochs + 1))
    for epoch in range(1, epochs + 1):
        Generator.from_pretrained(out / f"epoch-{epoch:03d}", strict=True)
    assert not list(out.glob(".tmp-*"))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--epochs", "-3"], "--epochs must be a positive integer"),
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--batch-size", "-1"], "--batch-size must be a positive integer"),
        (["--batch-size", "401"], "--batch-size 401 is larger than the 400 training images"),
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--r1", "-1"], "--r1 must be 0 (off) or a positive number"),
        (["--r1", "nan"], "--r1 must be 0 (off) or a positive number"),
    ],
)
def test_bad_flags(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    args = [*TINY_ARGS, "--epochs", "1", "--out", str(out)]
    assert cli(*args, *flags) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (out / "checkpoint.pt").exists()


def test_out_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    assert cli(*TINY_ARGS, "--epochs", "1", "--out", str(target)) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_existing_run_is_not_overwritten(tiny_weights, capsys):
    before = (tiny_weights / "epoch-001" / "model.safetensors").read_bytes()
    assert cli(*TINY_ARGS, "--epochs", "1", "--out", str(tiny_weights)) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert (tiny_weights / "epoch-001" / "model.safetensors").read_bytes() == before


def mnist_args(data_dir: Path, out: Path) -> list[str]:
    return [
        "--data-dir",
        str(data_dir),
        "--epochs",
        "1",
        "--batch-size",
        "50",
        "--no-progress",
        "--classifier",
        "",
        "--out",
        str(out),
    ]


def test_trains_from_idx_files(tmp_path):
    data = tmp_path / "data"
    write_fake_mnist(data, train_count=200, test_count=50)
    assert cli(*mnist_args(data, tmp_path / "out")) == 0
    assert (tmp_path / "out" / "epoch-001" / "model.safetensors").is_file()


def test_missing_mnist_says_where_to_put_it(tmp_path, capsys):
    assert cli(*mnist_args(tmp_path / "nothing", tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "MNIST/raw" in err and "train-images-idx3-ubyte" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage", ["truncate", "bad-magic", "count-mismatch"])
def test_corrupt_idx_files(tmp_path, capsys, damage):
    data = tmp_path / "data"
    raw = write_fake_mnist(data, train_count=200, test_count=50)
    images = raw / "train-images-idx3-ubyte"
    if damage == "truncate":
        images.write_bytes(images.read_bytes()[:5000])
    elif damage == "bad-magic":
        images.write_bytes(b"\x00\x00\x00\x00" + images.read_bytes()[4:])
    else:
        write_idx(data, torch.zeros(150, 28, 28, dtype=torch.uint8), torch.zeros(100, dtype=torch.long), train=True)
    assert cli(*mnist_args(data, tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "MNIST" in err
    assert not (tmp_path / "out" / "epoch-001").exists()


def test_resume_with_a_different_architecture(tiny_weights, capsys, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_weights, copy)
    before = (copy / "checkpoint.pt").read_bytes()
    assert cli(*TINY_ARGS, "--epochs", "5", "--hidden-dim", "128", "--out", str(copy), "--resume") == 2
    err = capsys.readouterr().err
    assert "hidden_dim=256" in err and "(now 128)" in err
    assert (copy / "checkpoint.pt").read_bytes() == before
    assert not (copy / "epoch-004").exists()


def test_resume_with_a_checkpoint_of_other_shapes(tiny_weights, capsys, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_weights, copy)
    state = torch.load(copy / "checkpoint.pt", weights_only=True)
    state["generator"]["linear1.weight"] = torch.zeros(256, 64)
    torch.save(state, copy / "checkpoint.pt")
    assert cli(*TINY_ARGS, "--epochs", "5", "--out", str(copy), "--resume") == 2
    assert "does not match this architecture" in capsys.readouterr().err
    assert not (copy / "epoch-004").exists()


@pytest.mark.slow
def test_help_documents_every_flag():
    result = subprocess.run([sys.executable, "-m", "gan.train", "--help"], cwd=ROOT, capture_output=True, text=True)
    for flag in (
        "--epochs",
        "--batch-size",
        "--lr",
        "--latent-dim",
        "--hidden-dim",
        "--seed",
        "--data-dir",
        "--out",
        "--device",
        "--resume",
        "--push-to-hub",
        "--recipe",
        "--step",
    ):
        assert flag in result.stdout
    assert "tutorial: 100" in result.stdout  # the fields' help metadata reaches --help
    assert "{fast,autograd}" in result.stdout and "(default: fast)" in result.stdout


def test_linear_lr_decay_schedule(tmp_path):
    cfg = TrainConfig(epochs=4, lr_decay="linear").resolved()
    assert [epoch_lr(cfg, e) for e in (1, 2, 3, 4)] == pytest.approx([2e-4, 1.5e-4, 1e-4, 0.5e-4])
    assert epoch_lr(TrainConfig(epochs=4).resolved(), 4) == 2e-4  # the tutorial keeps lr constant
    out = tiny_train(tmp_path / "decay", 2, "--lr-decay", "linear")
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["config"]["lr_decay"] == "linear"
    assert state["g_optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-4)  # epoch 2 of 2


def test_r1_penalty_is_the_squared_input_gradient():
    weight = torch.tensor([[3.0, -4.0]])  # a linear critic w.x: its input gradient is w everywhere, |w|^2 = 25
    x = torch.randn(5, 2, requires_grad=True)
    penalty = r1_penalty(x @ weight.T, x)
    assert penalty.item() == pytest.approx(25.0)
    x2 = torch.randn(5, 2, requires_grad=True)
    assert r1_penalty((x2**2).sum(1, keepdim=True), x2).item() == pytest.approx(
        (4 * x2**2).sum(1).mean().item()
    )  # grad 2x


def test_r1_changes_the_discriminator_and_is_recorded(tmp_path):
    from gan.card import recipe_table

    plain = tiny_train(tmp_path / "plain", 1)
    with_r1 = tiny_train(tmp_path / "r1", 1, "--r1", "10")
    plain_state = torch.load(plain / "checkpoint.pt", weights_only=True)
    r1_state = torch.load(with_r1 / "checkpoint.pt", weights_only=True)
    assert (plain_state["config"]["r1"], r1_state["config"]["r1"]) == (0.0, 10.0)
    assert not torch.equal(plain_state["discriminator"]["linear1.weight"], r1_state["discriminator"]["linear1.weight"])
    assert "| `r1` | `10.0` |" in recipe_table(r1_state["config"])  # the model card names it


def test_adam_step_matches_the_stock_step_bit_for_bit():
    torch.manual_seed(0)
    models = [torch.nn.Linear(5, 3) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-2, betas=(0.5, 0.999), fused=True) for m in models]
    for _step in range(5):
        x = torch.randn(4, 5)
        for model, optimizer, update in zip(models, optimizers, (lambda o: o.step(), adam_step), strict=True):
            optimizer.zero_grad()
            model(x).pow(2).sum().backward()
            update(optimizer)
    assert all(torch.equal(a, b) for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True))
    assert not torch.equal(models[0].weight, torch.nn.Linear(5, 3).weight)
    a, b = (o.state_dict()["state"] for o in optimizers)
    assert all(torch.equal(a[i][k], b[i][k]) for i in a for k in a[i])


def test_resume_of_a_decaying_run_keeps_its_length(tmp_path, capsys):
    out = tiny_train(tmp_path / "decay", 1, "--lr-decay", "linear")
    capsys.readouterr()
    assert cli(*TINY_ARGS, "--epochs", "3", "--out", str(out), "--lr-decay", "linear", "--resume") == 2
    assert "epochs=1 (now 3)" in capsys.readouterr().err
    assert completed_epochs(out) == 1


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param({}, id="tutorial", marks=pytest.mark.slow),
        pytest.param({"label_smoothing": 0.1, "beta1": 0.5, "ema": 0.999}, id="smoothing-ema", marks=pytest.mark.slow),
        pytest.param({"r1": 10.0}, id="r1", marks=pytest.mark.slow),
        pytest.param({"recipe": "stable"}, id="stable"),  # R1, beta1 0.5 and the EMA at once: the fast lane's case
    ],
)
def test_fast_step_computes_what_the_autograd_step_computes(flags):
    """The hand-written backward (R1 included) against autograd's, from the same weights and draws."""
    cfg = dataclasses.replace(TrainConfig(), batch_size=32, **flags).resolved()
    gans = [build_gan(cfg, torch.device("cpu")) for _ in range(2)]
    real = torch.rand(64, 784, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for step in range(6):
        records = []
        for gan, update in zip(gans, (autograd_step, fast_step), strict=True):
            torch.manual_seed(step)
            records.append(update(gan, real[step % 2 * 32 :][:32], cfg))
        for fast, reference in zip(records[1], records[0], strict=True):  # D's logits, then the G step's
            torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    # Adam moves every weight by about lr (2e-4) a step, so a wrong gradient would show far above 1e-6.
    for a, b in zip(gans[0].generator.parameters(), gans[1].generator.parameters(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for a, b in zip(gans[0].discriminator.parameters(), gans[1].discriminator.parameters(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for optimizer in ("g_optimizer", "d_optimizer"):
        a, b = (getattr(gan, optimizer).state_dict()["state"] for gan in gans)
        for i in a:
            torch.testing.assert_close(b[i]["exp_avg_sq"], a[i]["exp_avg_sq"], rtol=1e-4, atol=1e-12)
    if cfg.ema:
        for a, b in zip(gans[0].ema_generator.parameters(), gans[1].ema_generator.parameters(), strict=True):
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    assert not torch.equal(
        gans[1].generator.linear1.weight, build_gan(cfg, torch.device("cpu")).generator.linear1.weight
    )


@pytest.mark.slow
def test_thread_count_does_not_change_the_weights(tmp_path):
    """--threads 1, 2 and auto (which switches between them mid-epoch) train the same bits."""
    runs = [tiny_train(tmp_path / f"threads-{n}", 2, "--threads", str(n)) for n in (1, 2, 0)]
    assert same_weights(runs[0] / "epoch-002", runs[1] / "epoch-002")
    assert same_weights(runs[0] / "epoch-002", runs[2] / "epoch-002")
    assert torch.get_num_threads() == CORES  # the epoch hands the count back


def test_thread_picker_trains_at_the_faster_count(monkeypatch):
    current = []
    monkeypatch.setattr(torch, "set_num_threads", current.append)
    picker = ThreadPicker((1, 2), every=10, trial=2)
    seconds, threads_at = {1: 0.2, 2: 0.1}, []
    for step in range(60):
        picker.before(step)
        threads_at.append(current[-1])
        picker.after(step, seconds[current[-1]])
        if step == 29:
            seconds = {1: 0.2, 2: 1.0}  # another job takes a core
    assert threads_at[:18] == [1, 1, 2, 2] + [2] * 10 + [1, 1, 2, 2]  # trials at 0 and 14: two threads win
    assert threads_at[18:31] == [2] * 13  # the same choice twice: no trial at 28 (20 steps on, not 10)
    # Step 30 is 10x slower: a trial at once, where two threads lose after one step; the next one 10 on.
    assert threads_at[31:47] == [1, 1, 2] + [1] * 10 + [1, 1, 2]
    assert threads_at[47:] == [1] * 13


def test_thread_picker_tries_again_when_a_step_turns_slow(monkeypatch):
    current = []
    monkeypatch.setattr(torch, "set_num_threads", current.append)
    picker = ThreadPicker((1, 2), every=10, trial=2)
    seconds, threads_at = {1: 0.2, 2: 0.1}, []
    for step in range(12):
        picker.before(step)
        threads_at.append(current[-1])
        picker.after(step, seconds[current[-1]])
        if step == 5:
            seconds = {1: 0.2, 2: 1.0}
    assert threads_at == [1, 1, 2, 2, 2, 2, 2, 1, 1, 2, 1, 1]  # step 6 is 10x slower: a trial from step 7


@pytest.mark.parametrize("recipe", ["tutorial", pytest.param("stable", marks=pytest.mark.slow)])
def test_bf16_precision_stays_close_to_fp32_and_keeps_fp32_weights(recipe):
    cfg = dataclasses.replace(TrainConfig(recipe=recipe), batch_size=32).resolved()
    gans = [build_gan(cfg, torch.device("cpu")) for _ in range(2)]
    real = torch.rand(32, 784, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for step in range(3):
        logits = []
        for gan, precision in zip(gans, ("fp32", "bf16"), strict=True):
            torch.manual_seed(step)
            logits.append(fast_step(gan, real, dataclasses.replace(cfg, precision=precision)))
        for fast, reference in zip(logits[1], logits[0], strict=True):
            assert fast.dtype == torch.float32
            torch.testing.assert_close(fast, reference, rtol=0.05, atol=0.05)  # bf16 keeps 8 bits of mantissa
    for a, b in zip(gans[0].generator.parameters(), gans[1].generator.parameters(), strict=True):
        assert b.dtype == torch.float32 and b.grad.dtype == torch.float32
        torch.testing.assert_close(b, a, rtol=0, atol=2e-3)  # 3 Adam steps of lr 2e-4 each


@pytest.mark.slow
def test_step_autograd_flag_trains_the_same_weights_as_the_fast_step(tmp_path):
    """`--step autograd` (the definition) and the default fast step, whole runs through main()."""
    args = [*TINY_ARGS, "--fake-size", "200", "--epochs", "2"]
    assert main([*args, "--step", "autograd", "--out", str(tmp_path / "autograd")]) == 0
    assert main([*args, "--out", str(tmp_path / "fast")]) == 0
    states = [torch.load(tmp_path / run / "checkpoint.pt", weights_only=True) for run in ("autograd", "fast")]
    assert (states[0]["config"]["step"], states[1]["config"]["step"]) == ("autograd", "fast")
    for model in ("generator", "discriminator"):
        for name, reference in states[0][model].items():
            torch.testing.assert_close(states[1][model][name], reference, rtol=0, atol=1e-6)
    exported = [weights(tmp_path / run / "epoch-002") for run in ("autograd", "fast")]
    for name, reference in exported[0].items():
        torch.testing.assert_close(exported[1][name], reference, rtol=0, atol=1e-6)
    assert not torch.equal(exported[1]["linear1.weight"], weights(tmp_path / "fast" / "epoch-001")["linear1.weight"])


@pytest.mark.parametrize("step", [fast_step, autograd_step], ids=["fast", "autograd"])
def test_ema_is_the_decayed_average_of_the_generator(step):
    """After each step, ema = decay * ema + (1 - decay) * weight, worked out here from the weights."""
    decay = 0.9
    cfg = dataclasses.replace(TrainConfig(), batch_size=16, ema=decay).resolved()
    gan = build_gan(cfg, torch.device("cpu"))
    expected = [p.detach().clone() for p in gan.generator.parameters()]  # the average starts as G's copy
    real = torch.rand(16, 784, generator=torch.Generator().manual_seed(2)) * 2 - 1
    for _ in range(3):
        step(gan, real, cfg)
        weights_now = [p.detach() for p in gan.generator.parameters()]
        expected = [
            decay * average + (1 - decay) * weight for average, weight in zip(expected, weights_now, strict=True)
        ]
        for average, want in zip(gan.ema_generator.parameters(), expected, strict=True):
            torch.testing.assert_close(average, want, rtol=0, atol=1e-7)
    assert not torch.equal(gan.ema_generator.linear1.weight, gan.generator.linear1.weight)  # it lags behind G


def test_epoch_statistics_are_the_mean_of_each_steps_figures():
    batch, steps = 4, 3
    targets = {"d": torch.tensor([[0.9]] * batch + [[0.0]] * batch), "g": torch.ones(batch, 1)}
    d_logits, g_logits = torch.randn(steps, 2 * batch), torch.randn(steps, batch)
    per_step = {
        "d_loss": [F.binary_cross_entropy(torch.sigmoid(d), targets["d"].view(-1)) * 2 for d in d_logits],
        "g_loss": [F.binary_cross_entropy(torch.sigmoid(g), torch.ones(batch)) for g in g_logits],
        "d_real": [torch.sigmoid(d[:batch]).mean() for d in d_logits],
        "d_fake": [torch.sigmoid(d[batch:]).mean() for d in d_logits],
    }
    figures = epoch_statistics(d_logits, g_logits, targets)
    assert figures.keys() == per_step.keys()
    for name, values in per_step.items():
        assert figures[name] == pytest.approx(float(torch.stack(values).mean()), abs=2e-5), name


def test_epoch_record_is_the_mean_of_the_autograd_steps_figures():
    """train_epoch's losses and scores against the autograd step, figures taken per step."""
    cfg = dataclasses.replace(TrainConfig(), batch_size=20, label_smoothing=0.1, progress=False).resolved()
    data = torch.rand(100, 784, generator=torch.Generator().manual_seed(3)) * 2 - 1
    gans = [build_gan(cfg, torch.device("cpu")) for _ in range(2)]
    torch.manual_seed(7)
    record = train_epoch(gans[0], data, cfg, 1)
    torch.manual_seed(7)
    order = torch.randperm(len(data))
    figures = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    for step in range(5):
        d_logits, g_logits = autograd_step(gans[1], data[order[step * 20 : (step + 1) * 20]], cfg)
        d_scores = torch.sigmoid(d_logits).view(-1)
        real_loss = F.binary_cross_entropy(d_scores[:20], torch.full((20,), 0.9))  # smoothed target
        figures["d_loss"].append(real_loss + F.binary_cross_entropy(d_scores[20:], torch.zeros(20)))
        figures["g_loss"].append(F.binary_cross_entropy(torch.sigmoid(g_logits).view(-1), torch.ones(20)))
        figures["d_real"].append(d_scores[:20].mean())
        figures["d_fake"].append(d_scores[20:].mean())
    assert record["steps"] == 5
    for name, values in figures.items():
        assert record[name] == pytest.approx(float(torch.stack(values).mean()), abs=1e-4), name


def cpu_model() -> str:
    """The CPU's model name (GEMM kernels, so float rounding, differ between CPU families)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


# sha256 of a 2-epoch run on 600 generated digits at the default batch of 100 (epoch-002's safetensors,
# G's and D's checkpointed weights, each epoch's four losses), by platform: the bits `python -m gan.train`
# produced before the step was sped up. Speed-ups of the default fp32 path must keep them; anything that
# rounds differently is opt-in. Recorded on: (torch version, CPU capability, CPU model).
PINNED_RUNS = {
    ("2.14.1+cu130", "AVX512", "AMD EPYC"): {
        "tutorial": "74a911378d7bfbb48708d1e21176d26d251eab0bdecdad6a2bb0c3eb33709170",
        "stable": "2a35af3086205db6bf3d280c3fdd64127265e885dfc7bca49b5e05bd52beb876",
    }
}


@pytest.mark.parametrize("recipe", ["tutorial", "stable"])
def test_default_fp32_training_is_bit_identical_to_the_pinned_run(tmp_path, recipe):
    platform = (torch.__version__, torch.backends.cpu.get_cpu_capability(), cpu_model())
    if platform not in PINNED_RUNS:
        pytest.skip(f"no pinned run for {platform} (pinned: {list(PINNED_RUNS)})")
    out = tmp_path / recipe
    train(parse_args(["--dataset", "fake", "--epochs", "2", "--no-progress", "--classifier", ""]
                     + ["--recipe", recipe, "--device", "cpu", "--out", str(out)]))  # fmt: skip
    digest = hashlib.sha256((out / "epoch-002" / "model.safetensors").read_bytes())
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    for name in ("generator", "discriminator"):
        for value in state[name].values():
            digest.update(value.numpy().tobytes())
    for record in json.loads((out / "metrics.json").read_text())["epochs"]:
        digest.update(repr([record[k] for k in ("d_loss", "g_loss", "d_real", "d_fake")]).encode())
    assert digest.hexdigest() == PINNED_RUNS[platform][recipe]


def test_a_warm_start_reads_its_flags_from_one_line_and_ends_quietly_on_no_input(monkeypatch):
    monkeypatch.setattr("gan.train.SETTINGS_CAME", {"at": None, "cpu_s": 0.0, "warm_first": False, "flags": None})
    flags = ["--recipe", "fast", "--epochs", "1"]
    assert wait_for_start(io.StringIO(json.dumps(flags) + "\n")) == flags
    assert wait_for_start(io.StringIO("")) is None  # whoever kept it ready has gone
    for bad in ("not json\n", '{"recipe": "fast"}\n', "[1, 2]\n"):
        with pytest.raises(UsageError, match="--warm-start expects one line with a JSON list of flags"):
            wait_for_start(io.StringIO(bad))
