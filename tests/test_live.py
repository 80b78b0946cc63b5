"""The live run manager (demo.live): a real `python -m gan.train` child on generated digits, started, watched,
stopped, killed, starved of disk, orphaned by a dying app, idled out and cleaned up."""

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from demo.engine import load_run
from demo.live import PRESETS, LiveOptions, LiveSettings, LiveTrainer, check_settings, preset, set_autogroup_nice
from demo.validation import InputError
from gan.config import RECIPES, parse_args
from gan.layout import read_events

pytestmark = pytest.mark.slow  # real trainers as child processes, waited on epoch by epoch
ROOT = Path(__file__).resolve().parent.parent
FAKE = ("--dataset", "fake", "--fake-size", "400", "--batch-size", "50", "--classifier", "")
LONG = 1000  # epochs: far more than a test waits for, so the run is still going when the test acts


@contextlib.contextmanager
def small_filesystem(tmp_path: Path, megabytes: int):
    """A real tmpfs of a few MB (needs root and mount rights; the test skips otherwise)."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(mount_point)])
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def options(root: Path, **changes) -> LiveOptions:
    return LiveOptions(root=root, max_epochs=LONG, trainer_args=FAKE, threads=1, **changes)


def wait_for(predicate, timeout: float = 60.0, every: float = 0.05):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s")


def epochs_reached(trainer: LiveTrainer, count: int):
    return lambda: (status := trainer.status()).epoch >= count and status


@pytest.fixture
def trainer(tmp_path):
    live = LiveTrainer(options(tmp_path / "live", stop_grace_s=30))  # a busy machine may be slow to stop
    yield live
    live.close()


def test_stop_works_when_the_app_was_started_with_ctrl_c_ignored(trainer):
    """A shell without job control starts background commands (`python app.py &`) with SIGINT ignored, and a child
    inherits that; the trainer still takes Stop's SIGINT as its Ctrl-C (exit 130, no SIGKILL after the grace)."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        trainer.start(LiveSettings(epochs=LONG))
    finally:
        signal.signal(signal.SIGINT, before)
    wait_for(epochs_reached(trainer, 1))
    stopped = trainer.stop()
    assert stopped.state == "stopped", stopped.message
    assert trainer._run.done.wait(60) and trainer._run.returncode == 130


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recipe": "fancy"}, "recipe must be one of 'tutorial', 'stable', 'fast'"),
        ({"lr": float("nan")}, "lr must be a number from 1e-05 to 0.01; got nan"),
        ({"lr": 0.5}, "lr must be a number from 1e-05 to 0.01; got 0.5"),
        ({"beta1": True}, "beta1 must be a number"),
        ({"ema": "0.9"}, "ema must be a number from 0 to 0.9999"),
        ({"label_smoothing": -0.1}, "label_smoothing must be a number from 0 to 0.4"),
        ({"r1": float("inf")}, "r1 must be a number from 0 to 100"),
        ({"seed": 2.5}, "seed must be a whole number"),
        ({"epochs": 0}, "epochs must be a whole number from 1 to 20"),
        ({"epochs": 21}, "epochs must be a whole number from 1 to 20; got 21"),
    ],
)
def test_settings_out_of_range_get_one_line(change, message):
    values = {**vars(LiveSettings()), **change}
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        check_settings(**values, max_epochs=20)
    assert "\n" not in str(caught.value)


def test_presets_and_trainer_flags():
    tutorial = LiveSettings(recipe="tutorial", lr=2e-4, beta1=0.9, ema=0.0, label_smoothing=0.0, r1=0.0)
    assert preset("tutorial") == tutorial
    assert preset("stable") == LiveSettings(recipe="stable", lr=2e-4, ema=0.999)
    assert preset("fast", seed=3) == LiveSettings(seed=3)  # the default: stable, 5x the lr, a shorter EMA
    assert check_settings(**vars(LiveSettings()), max_epochs=20) == LiveSettings()
    args = LiveSettings(lr=1e-3, epochs=7).trainer_args()
    assert args[args.index("--lr") + 1] == "0.001" and args[args.index("--epochs") + 1] == "7"
    assert args[args.index("--recipe") + 1] == "fast" and args[args.index("--ema") + 1] == "0.99"
    # The presets are the trainer's recipes: what the Train tab runs, python -m gan.train --recipe NAME runs too.
    assert list(PRESETS) == list(RECIPES) == ["tutorial", "stable", "fast"]
    for name in RECIPES:
        cfg = parse_args(preset(name).trainer_args())
        assert cfg.recipe == name and parse_args(["--recipe", name]) == dataclasses.replace(cfg, seed=0, epochs=200)
    assert LiveSettings().describe() == "fast" and LiveSettings(lr=5e-4).describe() == "fast, changed"


def test_start_watch_stop_keeps_the_finished_epochs(trainer):
    assert trainer.status().state == "idle"
    started = trainer.start(LiveSettings(epochs=LONG))
    assert started.state == "starting" and started.name.startswith("live-")
    with pytest.raises(
        InputError, match=r"already training .* only one may train at a time per server\. The trainer is free in"
    ):
        trainer.start(LiveSettings(epochs=3))
    status = wait_for(epochs_reached(trainer, 2))
    assert status.state == "training" and status.grid is not None and status.images_per_sec > 0
    assert status.eta_s is not None and status.eta_s > 0 and [r["epoch"] for r in status.records][:2] == [1, 2]
    assert f"Training: epoch {status.epoch} of {LONG} done." == status.message
    stopped = trainer.stop()
    assert stopped.state == "stopped", stopped.message
    assert trainer._run.done.wait(30) and trainer._run.returncode == 130  # its Ctrl-C exit: no SIGKILL needed
    assert stopped.message.startswith("Stopped (Stop pressed) after") and f"epochs 1-{stopped.epoch} are kept" in (
        stopped.message
    )
    run = load_run(stopped.folder)  # what every other tab reads
    # Every finished epoch loads; a Stop between an epoch's export and its record leaves that epoch's weights too.
    assert list(run.generators)[: stopped.epoch] == list(range(1, stopped.epoch + 1))
    meta = json.loads((trainer.root / f"{stopped.name}.json").read_text())
    assert meta["state"] == "stopped" and meta["settings"]["epochs"] == LONG
    assert "epoch   1" in (trainer.root / f"{stopped.name}.log").read_text()
    with pytest.raises(InputError, match="Nothing is training: press Start"):
        trainer.stop()
    folder, label = trainer.runs()[stopped.name]
    assert folder == stopped.folder and label == f"{stopped.name} (fast, {stopped.epoch} epochs)"


def test_a_run_that_ends_by_itself_is_finished(trainer):
    trainer.start(LiveSettings(recipe="tutorial", epochs=2))
    status = wait_for(lambda: (s := trainer.status()).state == "finished" and s, timeout=90)
    assert status.epoch == 2 and status.message.startswith("Finished: all 2 epochs in")
    assert status.eta_s is None
    second = trainer.start(LiveSettings(epochs=1))  # free again
    assert second.name != status.name
    trainer.stop()


def test_kill_9_of_the_trainer_is_reported_and_epochs_survive(trainer):
    status = trainer.start(LiveSettings(epochs=LONG))
    wait_for(epochs_reached(trainer, 1))
    os.kill(trainer._process.pid, signal.SIGKILL)
    crashed = wait_for(lambda: (s := trainer.status()).state == "crashed" and s)
    assert crashed.message.startswith("The trainer was killed (SIGKILL) during epoch")
    assert "are kept" in crashed.message or "is kept" in crashed.message
    assert "\n" not in crashed.message and "Traceback" not in crashed.message
    assert list(load_run(status.folder).generators)[0] == 1
    trainer.start(LiveSettings(epochs=1))  # the server is free again
    trainer.stop()


def test_a_trainer_error_is_one_line(tmp_path):
    trainer = LiveTrainer(LiveOptions(root=tmp_path / "live", data_dir=str(tmp_path / "no-mnist"), threads=1))
    trainer.start(LiveSettings(epochs=2))
    failed = wait_for(lambda: (s := trainer.status()).state == "failed" and s, timeout=90)
    assert failed.message.startswith("The trainer stopped: ") and "\n" not in failed.message
    assert "no epoch was finished" in failed.message
    assert trainer.runs() == {}  # nothing to show in the other tabs


def test_full_disk_in_the_live_folder(tmp_path):
    with small_filesystem(tmp_path, 6) as fs:
        trainer = LiveTrainer(options(fs / "live"))
        status = trainer.start(LiveSettings(epochs=LONG))
        failed = wait_for(lambda: (s := trainer.status()).state in ("failed", "crashed") and s, timeout=120)
        assert failed.state == "failed", failed.message
        assert "No space left on device" in failed.message and "\n" not in failed.message
        saved = list(load_run(status.folder).generators)
        assert failed.epoch >= 1 and saved[: failed.epoch] == list(range(1, failed.epoch + 1))
        trainer.close()


def test_an_app_that_dies_during_a_run_leaves_it_stopped_and_usable(tmp_path):
    root = tmp_path / "live"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from demo.live import LiveOptions, LiveSettings, LiveTrainer
        trainer = LiveTrainer(LiveOptions(root={str(root)!r}, max_epochs={LONG}, trainer_args={FAKE!r}, threads=1))
        trainer.start(LiveSettings(epochs={LONG}))
        while trainer.status().epoch < 1:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGKILL)  # the app dies without cleaning up
        """
    )
    app = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert app.returncode == -signal.SIGKILL
    (meta_path,) = root.glob("live-*.json")
    meta = json.loads(meta_path.read_text())
    assert meta["state"] == "starting"  # as the dead app left it
    trainer = LiveTrainer(LiveOptions(root=root, trainer_args=FAKE, threads=1))  # the app starts again
    assert not trainer._is_our_trainer(meta["pid"], root / meta["name"])  # the orphan is gone
    status = trainer.status()
    assert status.state == "stopped" and status.message.startswith("Stopped: the app restarted during this run")
    (name,) = trainer.runs()
    assert name == meta["name"] and status.epoch >= 1
    # Every finished epoch loads (as above, a stop during an export can leave one more).
    assert list(load_run(root / name).generators)[: status.epoch] == list(range(1, status.epoch + 1))


def test_a_run_nobody_watches_stops(tmp_path):
    trainer = LiveTrainer(options(tmp_path / "live", idle_s=1.0))
    trainer.start(LiveSettings(epochs=LONG))
    stopped = wait_for(lambda: (s := trainer.status(watched=False)).state == "stopped" and s, timeout=60)
    assert "Stopped (nobody watched for" in stopped.message


def test_only_the_newest_finished_runs_are_kept(tmp_path):
    trainer = LiveTrainer(options(tmp_path / "live", keep=2))
    names = []
    for _ in range(3):
        names.append(trainer.start(LiveSettings(epochs=1)).name)
        wait_for(lambda: trainer.status().state == "finished", timeout=90)
    assert list(trainer.runs()) == names[1:]
    assert not (trainer.root / names[0]).exists() and not (trainer.root / f"{names[0]}.json").exists()


def test_a_second_app_on_the_same_folder_leaves_a_running_run_alone(trainer):
    status = trainer.start(LiveSettings(epochs=LONG))
    wait_for(epochs_reached(trainer, 1))
    meta_path = trainer.root / f"{status.name}.json"
    meta = json.loads(meta_path.read_text())
    assert meta["app_pid"] == os.getpid() and meta["state"] == "starting"
    meta_path.write_text(json.dumps({**meta, "app_pid": os.getppid()}))  # as if another app, still running, wrote it
    other = LiveTrainer(options(trainer.root, keep=0))  # e.g. python app.py twice with one --live-dir
    other._cleanup()
    assert trainer.status().state == "training" and status.folder.is_dir()  # neither stopped nor deleted
    assert json.loads(meta_path.read_text())["state"] == "starting"
    trainer.stop()


# Loaded by the trainer's interpreter at start-up (sitecustomize on its PYTHONPATH): every line it prints, to stdout or
# stderr, comes out in other words, so nothing the app does can hang on the trainer's wording.
REWORDING = """
import sys


class Reworded:
    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        for old, new in (("epoch", "round"), ("error", "trouble"), ("interrupted", "halted"), ("Traceback", "Trail")):
            text = text.replace(old, new)
        return self.stream.write(text.upper())

    def __getattr__(self, name):
        return getattr(self.stream, name)


sys.stdout, sys.stderr = Reworded(sys.stdout), Reworded(sys.stderr)
"""


@pytest.fixture
def reworded(tmp_path, monkeypatch):
    """The trainer's printed lines in other words (the app passes its PYTHONPATH on to the trainer)."""
    folder = tmp_path / "reworded"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(REWORDING)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))


def test_live_runs_do_not_hang_on_the_trainers_wording(tmp_path, reworded):
    """Stop, the epochs and the error line come from the trainer's events file and exit code, not its printed text."""
    trainer = LiveTrainer(options(tmp_path / "live", stop_grace_s=30))
    try:
        status = trainer.start(LiveSettings(epochs=LONG))
        reached = wait_for(epochs_reached(trainer, 2))
        assert reached.state == "training" and reached.eta_s is not None and reached.grid is not None
        stopped = trainer.stop()
        assert stopped.state == "stopped" and f"epochs 1-{stopped.epoch} are kept" in stopped.message
        assert trainer._run.done.wait(60) and trainer._run.returncode == 130  # seen as interrupted: no SIGKILL
        log = (trainer.root / f"{status.name}.log").read_text()
        assert "ROUND   1" in log and "epoch" not in log.lower()  # the trainer did speak in other words
    finally:
        trainer.close()
    broken = LiveTrainer(LiveOptions(root=tmp_path / "broken", data_dir=str(tmp_path / "no-mnist"), threads=1))
    broken.start(LiveSettings(epochs=2))
    failed = wait_for(lambda: (s := broken.status()).state == "failed" and s, timeout=90)
    assert failed.message.startswith(f"The trainer stopped: MNIST is not in {tmp_path / 'no-mnist'}"), failed.message
    assert "no epoch was finished" in failed.message and "TROUBLE" not in failed.message


def test_the_train_tab_shows_the_newest_drawing_with_when_it_was_drawn(tmp_path):
    """A mid-epoch preview newer than the last finished epoch is shown as 'epoch 2, step 240 of 600'; once that epoch
    is finished (or the run over) its grid is shown again."""
    from PIL import Image, PngImagePlugin

    from demo.live import LiveStatus
    from demo.tabs.train import picture
    from gan.layout import PREVIEW, sample_path

    sample_path(tmp_path, 1).parent.mkdir()
    Image.new("L", (8, 8), 10).save(sample_path(tmp_path, 1))
    text = PngImagePlugin.PngInfo()
    for key, value in (("epoch", "2"), ("step", "240"), ("steps", "600")):
        text.add_text(key, value)
    Image.new("L", (8, 8), 200).save(tmp_path / PREVIEW, pnginfo=text)
    training = LiveStatus("training", name="live-0001", folder=tmp_path, epoch=1, epochs=5)
    image, label, key = picture(training)
    assert label.endswith("epoch 2, step 240 of 600") and image.getpixel((0, 0)) == 200 and key == (2, 240)
    assert image.size == (16, 16)  # drawn at scale 1, shown at the epochs' grids' scale 2
    finished = dataclasses.replace(training, epoch=2)  # the preview is older than epoch 2's grid: not shown
    Image.new("L", (8, 8), 20).save(sample_path(tmp_path, 2))
    image, label, key = picture(finished)
    assert label == "The same 100 z after epoch 2" and image.getpixel((0, 0)) == 20 and key == (2, -1)
    stopped = dataclasses.replace(training, state="stopped")
    assert picture(stopped)[1] == "The same 100 z after epoch 1"
    (tmp_path / PREVIEW).write_bytes(b"half a png")  # unreadable: the grid stays
    assert picture(training)[1] == "The same 100 z after epoch 1"


def test_the_trainer_s_session_gets_the_nice_value_on_linux():
    """The trainer runs in a session of its own; its autogroup (Linux) is lowered, or niceness would not count."""
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        group = Path(f"/proc/{child.pid}/autogroup")
        if not group.exists():
            pytest.skip("no scheduler autogroups here (not Linux, or a kernel without them)")
        assert "nice 0" in group.read_text()  # a new session's group starts at 0, whatever the process's nice
        assert set_autogroup_nice(child.pid, 10)
        assert "nice 10" in group.read_text()
    finally:
        child.kill()
        child.wait()
    assert not set_autogroup_nice(child.pid, 10)  # gone: says so, raises nothing


def warmed_up(pid: int) -> bool:
    """The process has used CPU and used none more over half a second: it is waiting (Linux's /proc)."""

    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    before = ticks()
    time.sleep(0.5)
    return before > 0 and ticks() == before


def test_a_warm_trainer_takes_the_settings_at_start_and_another_waits_after_the_run(tmp_path):
    trainer = LiveTrainer(options(tmp_path / "live", warm=True))
    try:
        ready = trainer._ready
        assert ready is not None and ready.poll() is None  # waiting for settings
        command = Path(f"/proc/{ready.pid}/cmdline").read_bytes().split(b"\0")
        assert b"--warm-start" in command
        wait_for(lambda: warmed_up(ready.pid), timeout=120)  # done importing: it waits on its input
        started = trainer.start(LiveSettings(recipe="tutorial", epochs=2))
        assert trainer._run.pid == ready.pid and trainer._ready is None  # handed the settings, not a new Python
        status = wait_for(lambda: (s := trainer.status()).state == "finished" and s, timeout=90)
        assert status.epoch == 2 and status.name == started.name
        (start,) = [e for e in read_events(status.folder)[0] if e["event"] == "start"]
        assert start["warm"] is True and start["pid"] == ready.pid
        assert start["settings"]["recipe"] == "tutorial" and start["settings"]["out"] == str(status.folder)
        nxt = wait_for(lambda: trainer._ready)  # the next Start's trainer
        assert nxt.pid != ready.pid and nxt.poll() is None
        # A warm trainer alive but not named by the folder's start event is not that run's trainer.
        assert not trainer._is_our_trainer(nxt.pid, status.folder)
    finally:
        trainer.close()
    assert nxt.poll() is not None  # close() ended the waiting trainer


def test_a_warm_trainer_s_run_is_recognised_by_its_start_event_and_stopped(tmp_path):
    trainer = LiveTrainer(options(tmp_path / "live", warm=True, stop_grace_s=30))
    try:
        ready = trainer._ready
        status = trainer.start(LiveSettings(epochs=LONG))
        wait_for(epochs_reached(trainer, 1))
        assert trainer._is_our_trainer(ready.pid, status.folder)  # what an app restarting after a crash checks
        assert not trainer._is_our_trainer(ready.pid, tmp_path / "elsewhere")
        stopped = trainer.stop()
        assert stopped.state == "stopped" and trainer._run.done.wait(30) and trainer._run.returncode == 130
    finally:
        trainer.close()


def test_a_dead_warm_trainer_is_replaced_by_a_cold_start(tmp_path):
    trainer = LiveTrainer(options(tmp_path / "live", warm=True))
    try:
        ready = trainer._ready
        ready.kill()
        ready.wait(timeout=10)
        trainer.start(LiveSettings(recipe="tutorial", epochs=1))
        assert trainer._run.pid != ready.pid
        status = wait_for(lambda: (s := trainer.status()).state == "finished" and s, timeout=90)
        assert status.epoch == 1
    finally:
        trainer.close()
