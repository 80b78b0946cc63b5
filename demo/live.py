"""The live run: `python -m gan.train` as a child process that the app starts, watches and stops.

The app never trains in its own process. It starts the trainer with `--out ROOT/live-HHMMSS/` and reads
that run folder as it grows: the epochs (each written atomically) and the trainer's events file (start,
each epoch, an interruption, an error's message, the end; gan.layout.EVENTS). What the trainer prints
goes to the log file and is never parsed: its exit code and its events say how it is doing.
One live run at a time per server; everyone sees the same one.

ROOT/live-HHMMSS/      the trainer's run folder (gan.layout), usable by every tab once an epoch exists
ROOT/live-HHMMSS.json who started it, with which settings, its process id, and how it ended
ROOT/live-HHMMSS.log  the trainer's stdout and stderr (for people; the app does not read it)

Stop sends SIGINT (the trainer finishes nothing more, keeps the finished epochs and exits with 130),
then SIGKILL after a grace period. A run nobody watches (no status request for `idle_s`) is stopped.
Only the newest `keep` finished runs are kept. If the app dies, the trainer's next line of output
(the end of its current epoch) meets a closed pipe and it exits, its finished epochs intact; the next
app start lists that run as stopped.

With `LiveOptions.warm` (app.py --live-warm, on by default) one trainer waits, warmed up, while no run trains:
`python -m gan.train --warm-start`, which reads its flags as one JSON line on stdin when Start comes (and exits
when its stdin closes, as it does when the app goes). After each run the next one starts.
"""

import atexit
import contextlib
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from demo.validation import SEED_MAX, InputError, choice, real_number, whole_number
from gan.config import RECIPES
from gan.layout import METRICS, epoch_folders, read_events, sample_path
from gan.train import STOP_ON_SIGINT, WARM_START

log = logging.getLogger("demo")

ROOT = Path(__file__).resolve().parent.parent  # the trainer runs from the project root (weights/classifier)
DEFAULT_ROOT = "runs/live"
NAME = re.compile(r"live-\d{4}(?:\d{2})?(?:-\d+)?")  # live-HHMMSS (older runs: live-HHMM), -2 on a clash
RUNNING = ("starting", "training", "stopping")
KILL_WAIT_S = 10.0  # how long a SIGKILLed trainer may take to be gone (the kernel delivers it asynchronously)
# What a visitor may set, and the bounds that keep a run sane: (low, high) per setting.
BOUNDS = {
    "lr": (1e-5, 1e-2),
    "beta1": (0.0, 0.99),
    "ema": (0.0, 0.9999),
    "label_smoothing": (0.0, 0.4),
    "r1": (0.0, 100.0),
}
# the judge's per-epoch verdict
SCORES = ("fid", "inception_score", "digits_present", "class_histogram", "not_a_digit", "eval_samples")


# The presets a visitor starts from are the trainer's recipes (gan.config.RECIPES): tutorial, stable and fast, the
# live run's default, tuned to draw all ten digits soon after Start.
PRESETS = {name: {key: recipe[key] for key in BOUNDS} for name, recipe in RECIPES.items()}


@dataclass(frozen=True)
class LiveSettings:
    """What a visitor chooses for a live run; the defaults are the fast preset."""

    recipe: str = "fast"  # a preset's name (gan.config.RECIPES): tutorial, stable or fast
    lr: float = PRESETS["fast"]["lr"]
    beta1: float = PRESETS["fast"]["beta1"]
    ema: float = PRESETS["fast"]["ema"]
    label_smoothing: float = PRESETS["fast"]["label_smoothing"]
    r1: float = PRESETS["fast"]["r1"]
    seed: int = 0
    epochs: int = 12

    def trainer_args(self) -> list[str]:
        """The trainer's flags for these settings: the recipe, and every setting a visitor may change explicit."""
        return [
            *("--recipe", self.recipe, "--lr", repr(self.lr), "--beta1", repr(self.beta1)),
            *("--ema", repr(self.ema), "--label-smoothing", repr(self.label_smoothing), "--r1", repr(self.r1)),
            *("--seed", str(self.seed), "--epochs", str(self.epochs)),
        ]

    def describe(self) -> str:
        """'fast', or 'stable, changed' when a setting differs from the preset's."""
        values = PRESETS[self.recipe]
        same = all(getattr(self, name) == values[name] for name in BOUNDS)
        return self.recipe if same else f"{self.recipe}, changed"


def preset(recipe: str, **changes) -> LiveSettings:
    """The settings of a preset (tutorial, stable or fast), with `changes`."""
    values = PRESETS[choice(recipe, "recipe", tuple(PRESETS))]
    return replace(LiveSettings(recipe=recipe, **{name: values[name] for name in BOUNDS}), **changes)


def check_settings(
    recipe: object,
    lr: object,
    beta1: object,
    ema: object,
    label_smoothing: object,
    r1: object,
    seed: object,
    epochs: object,
    max_epochs: int,
) -> LiveSettings:
    """Raw values from the page or the API -> LiveSettings; InputError saying what is allowed otherwise."""
    numbers = {
        name: real_number(value, name, *BOUNDS[name])
        for name, value in zip(BOUNDS, (lr, beta1, ema, label_smoothing, r1), strict=True)
    }
    return LiveSettings(
        recipe=choice(recipe, "recipe", tuple(PRESETS)),
        seed=whole_number(seed, "seed", 0, SEED_MAX),
        epochs=whole_number(epochs, "epochs", 1, max_epochs),
        **numbers,
    )


@dataclass
class LiveOptions:
    """How the app runs live training (app.py's --live-* flags)."""

    root: Path = Path(DEFAULT_ROOT)  # live run folders go here
    max_epochs: int = 50  # the most epochs a visitor may ask for
    keep: int = 3  # finished live runs kept on disk; older ones are deleted
    idle_s: float = 300.0  # a run with no status request for this long is stopped
    data_dir: str = "data"  # the trainer's --data-dir (MNIST/raw/*-ubyte)
    trainer_args: tuple[str, ...] = ()  # more trainer flags, e.g. ("--dataset", "fake") in tests
    threads: int = 0  # the trainer's --threads: 0 = its own choice, re-timed as it trains (one per core, or one)
    nice: int = 10  # the trainer's scheduling niceness: the server's requests come first
    stop_grace_s: float = 3.0  # after SIGINT, wait this long before SIGKILL
    python: str = sys.executable
    # Keep one trainer ready (`gan.train --warm-start`: torch imported, its optimiser machinery loaded) while no run
    # trains, so that Start hands it the settings instead of starting a Python: the first training step comes
    # about 3 s sooner. It costs an idle process (about 380 MB of memory of its own: RssAnon) and a few CPU
    # seconds after each run.
    warm: bool = False


@dataclass
class LiveRun:
    """One live run: its folder, its settings, and (while this app watches it) its process."""

    name: str
    folder: Path
    settings: LiveSettings
    started: float  # wall clock, seconds since the epoch
    state: str = "starting"  # starting, training, stopping, finished, stopped, crashed, failed
    message: str = ""
    ended: float | None = None
    pid: int | None = None
    returncode: int | None = None
    stop_reason: str | None = None
    epoch_times: dict[int, float] = field(default_factory=dict)  # epoch -> wall clock of its epoch event
    error: dict | None = None  # the trainer's error event: {"kind": "usage" or "crash", "message": one line}
    trainer_started: float | None = None  # wall clock of its start event (set up, about to train)
    done: threading.Event = field(default_factory=threading.Event)  # set once the process has ended
    interrupted: threading.Event = field(default_factory=threading.Event)  # the trainer said it was interrupted
    events_read: int = 0  # bytes of the events file read so far
    events_lock: threading.Lock = field(default_factory=threading.Lock)

    def meta(self) -> dict:
        keys = ("name", "started", "state", "message", "ended", "pid", "returncode", "stop_reason")
        return {"settings": asdict(self.settings), "app_pid": os.getpid(), **{key: getattr(self, key) for key in keys}}


@dataclass(frozen=True)
class LiveStatus:
    """What the page and /live_status show: one snapshot of the live run (or of none)."""

    state: str  # idle (no live run yet), or a LiveRun state
    name: str | None = None
    folder: Path | None = None
    settings: LiveSettings | None = None
    epoch: int = 0  # the last finished epoch
    epochs: int = 0  # the epochs asked for
    elapsed_s: float = 0.0
    eta_s: float | None = None  # until the run ends by itself
    images_per_sec: float | None = None
    message: str = ""
    records: tuple[dict, ...] = ()
    reference: dict = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def grid(self) -> Path | None:
        """The fixed latent bank drawn by the last finished epoch."""
        if self.folder is None or not self.epoch:
            return None
        path = sample_path(self.folder, self.epoch)
        return path if path.is_file() else None

    def summary(self) -> dict:
        """The JSON-friendly part, for the API (scores: the judge's verdict on the last finished epoch)."""
        last = self.records[-1] if self.records else {}
        return {
            "state": self.state,
            "run": self.name,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "images_per_sec": self.images_per_sec,
            "message": self.message,
            "settings": asdict(self.settings) if self.settings else None,
            "scores": {key: last[key] for key in SCORES if key in last},
        }


def span(count: int) -> str:
    """'epochs 1-7 are kept' / 'epoch 1 is kept' / 'no epoch was finished'."""
    if count <= 0:
        return "no epoch was finished"
    return "epoch 1 is kept" if count == 1 else f"epochs 1-{count} are kept"


def duration(seconds: float) -> str:
    """75 -> '1 min 15 s'; 40 -> '40 s'."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def signal_name(number: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(number).name
    return f"signal {number}"


def write_json(path: Path, data: dict) -> None:
    """Best effort: the live run's bookkeeping must never take the app down (a full disk, say)."""
    try:
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(tmp, path)
    except OSError as err:
        log.warning("cannot write %s: %s", path, err.strerror)


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def set_autogroup_nice(pid: int, nice: int) -> bool:
    """Give the trainer's session its own nice value on Linux; returns whether it was set.

    The trainer runs in a session of its own (so the terminal's Ctrl-C reaches the app first), and Linux's
    scheduler autogroups put each session in a group that shares the CPU equally with the app's group, whatever
    the processes' own nice values: niceness counts only inside a group. So a nice-10 trainer took as much CPU as
    the server and /generate's p95 at 20 clients rose 1.71x while it trained (`python -m benchmarks.bench_live
    --only serving`; 1.86x at nice 19). Writing the nice value to /proc/PID/autogroup lowers the whole group (every
    thread torch makes later joins it), and p95 rose 1.25-1.33x in three runs. Raising a nice value needs no
    privilege; Stop puts it back to 0 where that is allowed. Without autogroups (another OS,
    or sched_autogroup_enabled = 0) the file is missing or ignored and the process's own nice value counts."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n")
    except OSError:
        return False
    return True


class LiveTrainer:
    """Starts, watches and stops the one live training run of this server. Thread-safe."""

    def __init__(self, options: LiveOptions | None = None):
        self.options = options or LiveOptions()
        self.root = Path(self.options.root).expanduser().resolve()
        self._lock = threading.Lock()
        self._run: LiveRun | None = None  # the live run being trained, or the last one
        self._process: subprocess.Popen | None = None
        self._watched = time.monotonic()
        self._metrics_cache: dict[Path, tuple[tuple[int, int], dict]] = {}
        self._ready: subprocess.Popen | None = None  # a warm trainer waiting for its settings (options.warm)
        self._closed = False
        self._recover()
        self._keep_ready()
        atexit.register(self.close)

    # ---- the folders -------------------------------------------------------------------------

    def _meta_path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def _folders(self) -> list[tuple[str, Path, dict]]:
        """Every live run folder under root with its bookkeeping, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for item in self.root.iterdir():
            if item.is_dir() and NAME.fullmatch(item.name):
                meta = read_json(self._meta_path(item.name))
                started = meta.get("started")
                found.append((item.name, item, meta, started if isinstance(started, (int, float)) else 0.0))
        return [(name, folder, meta) for name, folder, meta, _ in sorted(found, key=lambda f: (f[3], f[0]))]

    def _recover(self) -> None:
        """Runs a previous app left unfinished (it stopped or died during them) are marked stopped; a trainer
        it left running (when its pipe has not closed yet) is stopped first."""
        for name, folder, meta in self._folders():
            if meta.get("state") not in RUNNING or self._app_alive(meta.get("app_pid")):
                continue  # finished, or another app sharing this folder is running it
            pid = meta.get("pid")
            if isinstance(pid, int) and self._is_our_trainer(pid, folder):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)
                deadline = time.monotonic() + self.options.stop_grace_s
                while time.monotonic() < deadline and self._is_our_trainer(pid, folder):
                    time.sleep(0.1)
                with contextlib.suppress(OSError):
                    if self._is_our_trainer(pid, folder):
                        os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + KILL_WAIT_S  # SIGKILL is delivered asynchronously: see it land
                while time.monotonic() < deadline and self._is_our_trainer(pid, folder):
                    time.sleep(0.05)
            done = self._finished_epochs(folder)
            meta.update(state="stopped", message=f"Stopped: the app restarted during this run; {span(done)}.")
            meta.setdefault("ended", time.time())
            write_json(self._meta_path(name), meta)
            log.info("live run %s was left unfinished by a previous start; marked stopped", name)
        latest = self._folders()[-1:] if self._folders() else []
        for name, folder, meta in latest:
            with contextlib.suppress(TypeError, ValueError):
                settings = LiveSettings(**meta["settings"])
                run = LiveRun(name, folder, settings, float(meta.get("started", 0.0)))
                run.state, run.message = meta.get("state", "stopped"), meta.get("message", "")
                run.ended = meta.get("ended")
                run.done.set()
                self._run = run

    @staticmethod
    def _app_alive(pid: object) -> bool:
        """Whether `pid` is another process that is still running (the app that started a run)."""
        if not isinstance(pid, int) or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # alive, someone else's
            return True
        stat = Path(f"/proc/{pid}/stat")
        return not (stat.is_file() and stat.read_text().rsplit(")", 1)[-1].split()[:1] == ["Z"])

    @staticmethod
    def _is_our_trainer(pid: int, folder: Path) -> bool:
        """Whether process `pid` is alive and is a gan.train writing into `folder` (Linux's /proc; else False): its
        command line names the folder, or (a warm trainer, given its settings on stdin) its start event there
        names its pid."""
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        zombie = stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
        if zombie or b"gan.train" not in command:
            return False
        if str(folder).encode() in command:
            return True
        if WARM_START.encode() not in command:
            return False
        return any(event.get("event") == "start" and event.get("pid") == pid for event in read_events(folder)[0])

    def _new_folder(self) -> tuple[str, Path]:
        base = f"live-{time.strftime('%H%M%S')}"  # seconds: two runs started in one minute get two names
        name, count = base, 1
        while (self.root / name).exists() or self._meta_path(name).exists():
            count += 1
            name = f"{base}-{count}"
        return name, self.root / name

    def _cleanup(self) -> None:
        """Delete live runs beyond the newest `keep` finished ones, and finished runs with no epoch."""
        current = self._run.name if self._run is not None and self._run.state in RUNNING else None
        finished = [
            (n, f)
            for n, f, meta in self._folders()
            if n != current and not (meta.get("state") in RUNNING and self._app_alive(meta.get("app_pid")))
        ]
        empty = [(n, f) for n, f in finished if not self._finished_epochs(f)]
        kept = [(n, f) for n, f in finished if (n, f) not in empty]
        old = kept[: max(0, len(kept) - self.options.keep)]
        for name, folder in empty + old:
            shutil.rmtree(folder, ignore_errors=True)
            for suffix in (".json", ".log"):
                with contextlib.suppress(OSError):
                    (self.root / f"{name}{suffix}").unlink()
            self._metrics_cache.pop(folder, None)
            log.info("deleted live run %s (keeping the newest %d)", name, self.options.keep)

    # ---- reading a run folder ----------------------------------------------------------------

    def _metrics(self, folder: Path) -> dict:
        """metrics.json, read again only when it changed; {} while there is none (or it is unreadable)."""
        path = folder / METRICS
        try:
            stat = path.stat()
        except OSError:
            return {}
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._metrics_cache.get(folder)
        if cached and cached[0] == key:
            return cached[1]
        metrics = read_json(path)
        self._metrics_cache[folder] = (key, metrics)
        return metrics

    def _records(self, folder: Path) -> list[dict]:
        records = self._metrics(folder).get("epochs", [])
        return [r for r in records if isinstance(r, dict) and isinstance(r.get("epoch"), int)]

    def _finished_epochs(self, folder: Path) -> int:
        """The last epoch whose record is in metrics.json and whose folder exists (0 for none)."""
        saved = set(epoch_folders(folder)) if folder.is_dir() else set()
        return max((r["epoch"] for r in self._records(folder) if r["epoch"] in saved), default=0)

    def runs(self) -> dict[str, tuple[Path, str]]:
        """Live runs with at least one finished epoch, oldest first: name -> (folder, label for a run choice),
        e.g. 'live-061205 (stable, 12 epochs)'."""
        with self._lock:
            current = self._run.name if self._run is not None and self._run.state in RUNNING else None
        found = {}
        for name, folder, meta in self._folders():
            done = self._finished_epochs(folder)
            if not done:
                continue
            try:
                recipe = LiveSettings(**meta["settings"]).describe()
            except (KeyError, TypeError, ValueError):
                recipe = "?"
            training = ", training" if name == current else ""
            found[name] = (folder, f"{name} ({recipe}{training}, {done} epoch{'s' if done > 1 else ''})")
        return found

    # ---- start, stop, status -----------------------------------------------------------------

    def busy_message(self, status: "LiveStatus") -> str:
        free = f"about {duration(status.eta_s)}" if status.eta_s is not None else "a minute or two"
        where = f"epoch {status.epoch} of {status.epochs}" if status.epoch else "starting up"
        return (
            f"A live run is already training ({status.name}, {where}); only one may train at a time per server. "
            f"The trainer is free in {free}: watch this one until then."
        )

    def command(self, folder: Path, settings: LiveSettings) -> list[str]:
        """The trainer's command line for a live run into `folder`."""
        return [
            *(self.options.python, "-m", "gan.train", *settings.trainer_args()),
            *("--out", str(folder), "--data-dir", self.options.data_dir, "--threads", str(self.options.threads)),
            "--no-progress",
            *self.options.trainer_args,
        ]

    def start(self, settings: LiveSettings) -> LiveStatus:
        """Start a live run; InputError (with when the trainer is free) while one runs, or when it cannot start."""
        if settings.epochs > self.options.max_epochs:
            raise InputError(
                f"epochs must be a whole number from 1 to {self.options.max_epochs}; got {settings.epochs}"
            )
        with self._lock:
            if self._closed:
                raise InputError("The app is shutting down: no live run can start now.")
            if self._run is not None and self._run.state in RUNNING:
                raise InputError(self.busy_message(self._status(self._run)))
            self._cleanup()
            name, folder = self._new_folder()
            try:
                folder.mkdir(parents=True)
            except OSError as err:
                raise InputError(f"Cannot create the live run folder {folder}: {err.strerror}") from None
            run = LiveRun(name, folder, settings, time.time())
            command = self.command(folder, settings)
            process = self._hand_over(command[3:])  # the flags after `python -m gan.train`
            if process is None:
                try:
                    process = self._spawn(command)
                except OSError as err:
                    shutil.rmtree(folder, ignore_errors=True)
                    raise InputError(f"Cannot start the trainer: {err.strerror or err}") from None
            run.pid = process.pid
            run.message = "Starting: loading the data and the judge."
            self._run, self._process = run, process
            self._watched = time.monotonic()
            write_json(self._meta_path(name), run.meta())
        log.info("live run %s started (pid %d): %s", name, process.pid, " ".join(self.command(folder, settings)))
        threading.Thread(target=self._watch, args=(run, process), name=f"live-{name}", daemon=True).start()
        return self.status(watched=False)

    def _spawn(self, command: list[str], stdin: int = subprocess.DEVNULL) -> subprocess.Popen:
        """A trainer child: its own session, the options' threads, and (where allowed) the options' niceness."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            STOP_ON_SIGINT: "1",  # Stop's SIGINT is its Ctrl-C even where the app runs with SIGINT ignored
        }
        if self.options.threads:
            env.update(OMP_NUM_THREADS=str(self.options.threads), MKL_NUM_THREADS=str(self.options.threads))
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # the terminal's Ctrl-C reaches the app, which stops the trainer
        )
        if self.options.nice and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):  # before torch makes its threads, which inherit it
                os.setpriority(os.PRIO_PROCESS, process.pid, self.options.nice)
            set_autogroup_nice(process.pid, self.options.nice)
        return process

    def _keep_ready(self) -> None:
        """With options.warm, and while no run trains: a warm trainer waits for the next Start."""
        with self._lock:
            busy = self._run is not None and self._run.state in RUNNING
            if not self.options.warm or self._closed or busy:
                return
            if self._ready is not None and self._ready.poll() is None:
                return
            try:
                self._ready = self._spawn([self.options.python, "-m", "gan.train", WARM_START], stdin=subprocess.PIPE)
            except OSError as err:
                self._ready = None
                log.warning("could not keep a trainer ready (%s); Start will start one", err.strerror or err)

    def _hand_over(self, flags: list[str]) -> subprocess.Popen | None:
        """The warm trainer, given `flags` (it starts training at once), or None when there is none alive."""
        process, self._ready = self._ready, None
        if process is None:
            return None
        try:
            process.stdin.write(json.dumps(flags) + "\n")
            process.stdin.close()
        except (OSError, ValueError):  # it has died since (a broken pipe): Start starts a new one
            with contextlib.suppress(OSError):
                process.kill()
            try:
                said = process.communicate(timeout=KILL_WAIT_S)[1] or ""
            except (subprocess.TimeoutExpired, OSError, ValueError):
                said = ""
            last = said.strip().splitlines()[-1:] or ["nothing on stderr"]
            log.warning(
                "the trainer kept ready had ended (exit code %s: %s); starting one", process.returncode, last[0]
            )
            return None
        return process

    def _end_ready(self) -> None:
        with self._lock:
            process, self._ready = self._ready, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # once warm, it reads the end of its input and exits; it holds nothing to keep
            process.terminate()  # so it need not finish warming up first
        try:
            process.wait(timeout=self.options.stop_grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=KILL_WAIT_S)

    def stop(self, reason: str = "Stop pressed") -> LiveStatus:
        """Stop the live run; its finished epochs stay. SIGINT, and the run counts as stopped as soon as the
        trainer says it was interrupted (at once: it trains no further), while its interpreter winds down in
        the background; SIGKILL if it neither says so nor ends within the grace period. InputError when
        nothing is training."""
        with self._lock:
            run, process = self._run, self._process
            if run is None or process is None or run.state not in RUNNING:
                raise InputError("Nothing is training: press Start to begin a live run.")
            first = run.state != "stopping"  # a second Stop waits for the first one
            if first:
                run.stop_reason, run.state = reason, "stopping"
        if first:
            if self.options.nice and hasattr(os, "setpriority"):
                with contextlib.suppress(OSError):  # back to normal priority to exit quickly (where allowed)
                    os.setpriority(os.PRIO_PROCESS, process.pid, 0)
                set_autogroup_nice(process.pid, 0)  # likewise its session's group (where allowed)
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.options.stop_grace_s
        while process.poll() is None and not self._follow(run).interrupted.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None and not run.interrupted.is_set():
            log.warning(
                "live run %s did not stop within %.1f s of SIGINT; killing it", run.name, self.options.stop_grace_s
            )
            with contextlib.suppress(OSError):
                process.kill()
            run.done.wait(timeout=5)
        with self._lock:
            if not run.done.is_set() and run.state == "stopping":  # interrupted; the process is still ending
                run.ended = time.time()
                run.state, run.message = self._ending(run, 130)
                write_json(self._meta_path(run.name), run.meta())
        if first and not run.done.is_set():
            threading.Thread(target=self._reap, args=(run, process), daemon=True).start()
        return self.status(watched=False)

    def _reap(self, run: LiveRun, process: subprocess.Popen) -> None:
        """SIGKILL a trainer that was interrupted but has not ended within the grace period."""
        if not run.done.wait(timeout=self.options.stop_grace_s):
            log.warning(
                "live run %s did not end within %.1f s of stopping; killing it", run.name, self.options.stop_grace_s
            )
            with contextlib.suppress(OSError):
                process.kill()

    def status(self, watched: bool = True) -> LiveStatus:
        """The live run now (a visitor asking counts as watching: it keeps the run from idling out)."""
        with self._lock:
            if watched:
                self._watched = time.monotonic()
            run = self._run
            if run is None:
                return LiveStatus("idle", message="No live run yet: choose the settings and press Start.")
            return self._status(run)

    def _status(self, run: LiveRun) -> LiveStatus:
        self._follow(run)
        metrics = self._metrics(run.folder)
        saved = set(epoch_folders(run.folder)) if run.folder.is_dir() else set()
        records = tuple(r for r in self._records(run.folder) if r["epoch"] in saved)
        epoch = records[-1]["epoch"] if records else 0
        if run.state == "starting" and (epoch or run.trainer_started is not None):
            run.state = "training"  # the trainer said it is set up (its start event), or an epoch is done
        now = time.time()
        elapsed = (run.ended or now) - run.started
        eta = None
        if run.state in RUNNING and epoch:
            times = [run.epoch_times[e] for e in sorted(run.epoch_times)[-4:]]
            per_epoch = (
                (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else records[-1].get("epoch_seconds")
            )
            if isinstance(per_epoch, (int, float)) and math.isfinite(per_epoch):
                since = now - (times[-1] if times else now)
                eta = max(0.0, (run.settings.epochs - epoch) * per_epoch - since)
        message = run.message
        if run.state == "training":
            message = (
                f"Training: epoch {epoch} of {run.settings.epochs} done."
                if epoch
                else f"Training: epoch 1 of {run.settings.epochs} under way."
            )
        rate = records[-1].get("images_per_sec") if records else None
        return LiveStatus(
            state=run.state,
            name=run.name,
            folder=run.folder,
            settings=run.settings,
            epoch=epoch,
            epochs=run.settings.epochs,
            elapsed_s=elapsed,
            eta_s=eta,
            images_per_sec=rate if isinstance(rate, (int, float)) else None,
            message=message,
            records=records,
            reference=metrics.get("reference") if isinstance(metrics.get("reference"), dict) else {},
        )

    # ---- watching the child ------------------------------------------------------------------

    @staticmethod
    def _follow(run: LiveRun) -> LiveRun:
        """Read the trainer's new events (its own: a line from another process in the folder is skipped)."""
        with run.events_lock:
            events, run.events_read = read_events(run.folder, run.events_read)
            for event in events:
                if event.get("pid") != run.pid:
                    continue
                kind, when = event["event"], event.get("time")
                when = when if isinstance(when, (int, float)) else time.time()
                if kind == "start":
                    run.trainer_started = when
                elif kind == "epoch" and isinstance(event.get("epoch"), int):
                    run.epoch_times[event["epoch"]] = when
                elif kind == "interrupted":
                    run.interrupted.set()
                elif kind == "error" and isinstance(event.get("message"), str):
                    run.error = {"kind": event.get("kind"), "message": " ".join(event["message"].split())}
        return run

    @staticmethod
    def _copy(stream, log_file) -> None:
        """One of the child's pipes, until it closes, copied to the log file (for people: it is not parsed)."""
        for line in stream:
            if log_file is not None:
                with contextlib.suppress(OSError, ValueError):
                    log_file.write(line)
                    log_file.flush()

    def _watch(self, run: LiveRun, process: subprocess.Popen) -> None:
        """Follow the child until it ends: its output, the idle stop, and the line that says how it ended."""
        try:
            log_file = (self.root / f"{run.name}.log").open("a")
        except OSError:
            log_file = None
        readers = [
            threading.Thread(target=self._copy, args=(stream, log_file), daemon=True)
            for stream in (process.stdout, process.stderr)
        ]
        for reader in readers:
            reader.start()
        while True:
            try:
                returncode = process.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                self._follow(run)
                idle = time.monotonic() - self._watched
                if idle > self.options.idle_s and run.state != "stopping":
                    minutes = self.options.idle_s / 60
                    threading.Thread(
                        target=self._stop_quietly, args=(f"nobody watched for {minutes:g} min",), daemon=True
                    ).start()
        for reader in readers:
            reader.join(timeout=5)
        self._follow(run)
        if log_file is not None:
            with contextlib.suppress(OSError):
                log_file.close()
        with self._lock:
            run.returncode, run.ended = returncode, run.ended if run.state == "stopped" else time.time()
            run.state, run.message = self._ending(run, returncode)
            write_json(self._meta_path(run.name), run.meta())
            if self._process is process:  # (a new run may already have started after a Stop)
                self._process = None
            self._cleanup()
        run.done.set()
        log.info("live run %s ended (exit code %s): %s", run.name, returncode, run.message)
        self._keep_ready()  # for the next Start

    def _stop_quietly(self, reason: str) -> None:
        with contextlib.suppress(InputError):
            self.stop(reason)

    def _ending(self, run: LiveRun, returncode: int) -> tuple[str, str]:
        """(state, one line for the page) from how the child ended."""
        done = self._finished_epochs(run.folder)
        kept = span(done)
        if returncode == 0:
            if done >= run.settings.epochs:
                return "finished", f"Finished: all {done} epochs in {duration(run.ended - run.started)}."
            return "finished", f"The trainer ended early; {kept}."  # e.g. nothing to do
        if run.stop_reason is not None:
            return "stopped", f"Stopped ({run.stop_reason}) after {duration(run.ended - run.started)}; {kept}."
        error = self._follow(run).error
        if error is not None and error["kind"] == "usage":
            return "failed", f"The trainer stopped: {error['message']} ({kept})."
        if returncode < 0:
            what = f"was killed ({signal_name(-returncode)})"
        else:
            said = f": {error['message'][:200]}" if error is not None else ""
            what = f"crashed (exit code {returncode}{said})"
        return "crashed", f"The trainer {what} during epoch {done + 1}; {kept}. The app keeps serving."

    def close(self) -> None:
        """Stop a live run before the app exits (its finished epochs stay), and wait for the trainer to end; a warm
        trainer waiting for settings ends too."""
        with self._lock:
            self._closed = True
        self._end_ready()
        process = self._process
        with contextlib.suppress(InputError):
            self.stop("the app was shut down")
        if process is not None:
            try:
                process.wait(timeout=self.options.stop_grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
