"""Which runs the app serves: run folders, folders of runs and Hub repos, each run called by its name.

A run folder holds epoch-NNN/ folders; a folder of runs holds run folders (anything else in it, such as
weights/classifier/, is passed over); a Hub repo id (owner/name) is one run, called by the repo's name.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from demo.engine import Engine, RunError, load_run
from gan.layout import epoch_folders

log = logging.getLogger("demo")

DEFAULT_RUN = "tutorial"  # chosen first in every tab when it is loaded


@dataclass
class Runs:
    """The loaded runs by name, in the order found, and the runs left out (one line each, with the reason)."""

    engines: dict[str, Engine]
    skipped: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # how a run choice shows a run (default: its name)

    @property
    def names(self) -> list[str]:
        return list(self.engines)

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) of every run, for a dropdown: live runs say their recipe and epochs."""
        return [(self.labels.get(name, name), name) for name in self.engines]

    @property
    def default(self) -> str:
        return DEFAULT_RUN if DEFAULT_RUN in self.engines else self.names[0]


def split_specs(values: str | list[str]) -> list[str]:
    """'weights/a, owner/b' or ['weights/a owner/b'] -> ['weights/a', 'owner/b'] (commas or spaces)."""
    texts = [values] if isinstance(values, str) else values
    return [spec for text in texts for spec in re.split(r"[,\s]+", text) if spec]


def find_runs(folder: Path) -> dict[str, Path]:
    """A run folder -> {its name: it}; a folder of runs -> each subfolder with epoch-NNN/ folders, by name."""
    if epoch_folders(folder):
        return {folder.resolve().name: folder}
    return {sub.name: sub for sub in sorted(folder.iterdir()) if sub.is_dir() and epoch_folders(sub)}


def hub_folder(spec: str, fallback: str) -> Path:
    """A Hub repo id fetched (or read from the cache) as a local run folder; offline and uncached, `fallback`."""
    from gan.hub import resolve_weights  # huggingface_hub's downloader only when a spec needs it

    return Path(resolve_weights(spec, fallback=fallback))


def run_folders(
    specs: list[str], fallback: str = "weights", fetch: Callable[[str, str], Path] = hub_folder
) -> tuple[dict[str, Path], list[str]]:
    """Every run the specs name, by run name, and a line for each spec with no run in it.

    A name met twice becomes name-2, name-3, ...; a folder met twice counts once.
    """
    found: dict[str, Path] = {}
    empty: list[str] = []
    for spec in specs:
        folder = Path(spec).expanduser()
        if folder.is_dir():
            runs = find_runs(folder)
        else:
            local = fetch(spec, fallback)
            runs = find_runs(local) if local == Path(fallback) else {spec.rstrip("/").rsplit("/", 1)[-1]: local}
        if not runs:
            empty.append(f"no usable epoch-NNN/ folders in {spec}")
        for name, path in runs.items():
            if any(path.resolve() == seen.resolve() for seen in found.values()):
                continue
            unique, count = name, 1
            while unique in found:
                count += 1
                unique = f"{name}-{count}"
            found[unique] = path
    return found, empty


def load_runs(folders: dict[str, Path], skipped: list[str] | None = None) -> Runs:
    """Load each run once; a run with nothing usable is left out and reported. RunError when none loads."""
    engines: dict[str, Engine] = {}
    reasons = list(skipped or [])
    lines = list(reasons)
    for name, folder in folders.items():
        try:
            engines[name] = Engine(load_run(folder))
        except RunError as err:
            reasons.append(str(err))
            lines.append(f"run {name}: {err}")
            log.warning("skipped run %s: %s", name, err)
    if not engines:
        raise RunError(reasons[0] if len(reasons) == 1 else "no usable run" + "".join(f"; {line}" for line in lines))
    return Runs(engines, lines)


def load_specs(specs: list[str], fallback: str = "weights") -> Runs:
    """run_folders then load_runs: what app.py serves for --weights."""
    return load_runs(*run_folders(specs, fallback))
