"""What every tab's handlers share: the loaded runs, the checks on raw input values, GIF files, errors."""

import contextlib
import functools
import logging
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from demo.engine import MAX_GRID, Engine, RunError, load_run
from demo.live import LiveTrainer
from demo.runs import Runs
from demo.validation import SEED_MAX, InputError, choice, shown, whole_number
from gan.layout import epoch_folders

log = logging.getLogger("demo")

GIF_MAX_AGE_S = 1800  # our GIF temp files older than this are deleted (Gradio keeps its own copy)
LIVE_REFRESH_S = 1.0  # the live runs on disk are looked at again at most this often


@dataclass(frozen=True)
class Facts:
    """What valid example arguments are made from: a run's name and its first and last saved epochs, and a
    second run's name (for endpoints that take two; the same name when only one run is loaded)."""

    run: str
    first: int
    last: int
    other: str


def shown_errors(fn):
    """Bad input becomes a gr.Error with its message; anything unexpected becomes a short gr.Error too."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as err:
            raise gr.Error(str(err), title="Not allowed", print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong drawing that; please try again.", print_exception=False) from None

    return wrapper


class Context:
    """The loaded runs and the input checks their endpoints share. The runs given at start-up never change; with
    live training on, the live runs on disk join them (re-read at most every LIVE_REFRESH_S, each live run
    loaded again only when its epochs changed)."""

    def __init__(self, runs: Runs, live: LiveTrainer | None = None):
        self.base = runs
        self.live = live
        self.gif_dir = Path(tempfile.mkdtemp(prefix="gan-demo-gifs-"))
        # Gone with this context, or at the latest when the process exits: each start would leave one behind.
        self._remove_gifs = weakref.finalize(self, shutil.rmtree, self.gif_dir, ignore_errors=True)
        self.run_choices: list[tuple[gr.Dropdown, bool]] = []  # every run dropdown, and whether it offers "none"
        self.links: list = []  # each tab's link settings (demo.links.TabLink), as the tabs declare them
        self.tab_titles: dict[str, str] = {}  # the page's tabs, id -> title (set before they are built)
        self.tour: list = []  # the Tour's (button, link query) pairs, wired by demo.links once every tab is built
        self._runs = runs
        self._live_engines: dict[str, tuple[tuple[int, ...], Engine]] = {}
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self.refresh()

    @property
    def runs(self) -> Runs:
        self.refresh()
        return self._runs

    @property
    def names(self) -> list[str]:
        return self.runs.names

    def refresh(self) -> None:
        """Let live runs with a finished epoch join the runs (and deleted ones leave)."""
        if self.live is None or time.monotonic() - self._checked < LIVE_REFRESH_S:
            return
        with self._lock:
            if time.monotonic() - self._checked < LIVE_REFRESH_S:
                return
            engines, labels = dict(self.base.engines), dict(self.base.labels)
            for name, (folder, label) in self.live.runs().items():
                if name in engines:  # a run given at start-up keeps its name
                    continue
                epochs = tuple(epoch_folders(folder)) if folder.is_dir() else ()
                cached = self._live_engines.get(name)
                if cached is None or cached[0] != epochs:
                    try:
                        self._live_engines[name] = (epochs, Engine(load_run(folder)))
                    except (RunError, OSError) as err:
                        log.warning("live run %s not loaded: %s", name, err)
                        continue
                engines[name], labels[name] = self._live_engines[name][1], label
            for gone in set(self._live_engines) - set(engines):
                del self._live_engines[gone]
            self._runs = Runs(engines, self.base.skipped, labels)
            self._checked = time.monotonic()

    def watch_runs(self, dropdown: gr.Dropdown, none: bool = False) -> gr.Dropdown:
        """Keep `dropdown`'s run choices up to date as live runs come and go (`none`: it offers '' first)."""
        self.run_choices.append((dropdown, none))
        return dropdown

    def engine(self, value: object, name: str = "run") -> Engine:
        """The loaded run called `value`; a wrong name gets the list of valid ones."""
        runs = self.runs  # one snapshot: a refresh in between cannot take the name away
        return runs.engines[choice(value, name, runs.names)]

    def second_engine(self, value: object, name: str) -> Engine | None:
        """An optional second run: '' (or None) for none."""
        if value in ("", None):
            return None
        runs = self.runs
        if not isinstance(value, str) or value not in runs.engines:
            names = ", ".join(repr(n) for n in runs.names)
            raise InputError(f"{name} must be '' (none) or one of {names}; got {shown(value)}")
        return runs.engines[value]

    @staticmethod
    def epoch(engine: Engine, value: object) -> tuple[int, str]:
        """A whole epoch within the run's range, snapped to the nearest saved one, and a note when it moved."""
        asked = whole_number(value, "epoch", engine.epochs[0], engine.epochs[-1])
        epoch = engine.nearest_epoch(asked)
        note = "" if epoch == asked else f"Epoch {asked} was not saved; showing the nearest saved epoch, {epoch}."
        return epoch, note

    @staticmethod
    def seed(value: object, name: str = "seed") -> int:
        return whole_number(value, name, 0, SEED_MAX)

    @staticmethod
    def size(value: object) -> int:
        return whole_number(value, "grid size", 1, MAX_GRID)

    def gif_file(self, data: bytes, name: str) -> str:
        """Write a GIF as `name`.gif in a fresh temp folder (Gradio copies it into its own cache; a download keeps
        the name)."""
        cutoff = time.time() - GIF_MAX_AGE_S
        for old in self.gif_dir.glob("*/*.gif"):
            try:  # another request (or Gradio's sweep, when its cache holds this folder) may delete it first
                if old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        old.parent.rmdir()
            except FileNotFoundError:
                continue
        path = Path(tempfile.mkdtemp(dir=self.gif_dir)) / f"{name}.gif"
        path.write_bytes(data)
        return str(path)
