"""What every tab's handlers share: the loaded runs, the checks on raw input values, GIF files, errors."""

import functools
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from demo.engine import MAX_GRID, Engine
from demo.runs import Runs
from demo.validation import SEED_MAX, InputError, choice, shown, whole_number

log = logging.getLogger("demo")

GIF_MAX_AGE_S = 1800  # our GIF temp files older than this are deleted (Gradio keeps its own copy)


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
    """The loaded runs and the input checks their endpoints share; read-only after start-up."""

    def __init__(self, runs: Runs):
        self.runs = runs
        self.names = runs.names
        self.gif_dir = Path(tempfile.mkdtemp(prefix="gan-demo-gifs-"))

    def engine(self, value: object, name: str = "run") -> Engine:
        """The loaded run called `value`; a wrong name gets the list of valid ones."""
        return self.runs.engines[choice(value, name, self.names)]

    def second_engine(self, value: object, name: str) -> Engine | None:
        """An optional second run: '' (or None) for none."""
        if value in ("", None):
            return None
        if not isinstance(value, str) or value not in self.names:
            names = ", ".join(repr(n) for n in self.names)
            raise InputError(f"{name} must be '' (none) or one of {names}; got {shown(value)}")
        return self.runs.engines[value]

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
        """Write a GIF to a fresh, uniquely named temp file (Gradio copies it into its own cache)."""
        cutoff = time.time() - GIF_MAX_AGE_S
        for old in self.gif_dir.glob("*.gif"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.gif_dir, prefix=f"{name}-", suffix=".gif", delete=False) as handle:
            handle.write(data)
        return handle.name
