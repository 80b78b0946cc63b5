"""The run-folder layout every part shares; every name in a run folder is spelled here and only here.

RUN/epoch-NNN/{config.json, model.safetensors}   one Generator per epoch
RUN/epoch-NNN/discriminator/{config.json, model.safetensors}   that epoch's Discriminator (half precision)
RUN/samples/epoch-NNN.png                        the fixed latent bank drawn by that epoch
RUN/metrics.json                                 one record per epoch (+ config, reference floor)
RUN/README.md                                    the model card
RUN/progression.png, RUN/quality.png             figures drawn by python -m demo.figures
RUN/checkpoint.pt                                everything --resume needs (while training)
RUN/events.jsonl                                 the trainer's news, one JSON line per event (how the app follows it)
RUN/preview.png                                  while training: the fixed latent bank as drawn mid-epoch, every
                                                 second or so; its PNG text says when (epoch, step, steps)
"""

import json
import re
from pathlib import Path

from gan.errors import UsageError

EPOCH_DIR = re.compile(r"epoch-(\d{3,})")
EPOCH_FILES = ("config.json", "model.safetensors")
DISCRIMINATOR = "discriminator"  # epoch-NNN/discriminator/ holds EPOCH_FILES for D; older runs have none
DISCRIMINATOR_FILES = tuple(f"{DISCRIMINATOR}/{name}" for name in EPOCH_FILES)
METRICS = "metrics.json"
SAMPLES = "samples"
CARD = "README.md"
CHECKPOINT = "checkpoint.pt"
PROGRESSION = "progression.png"
QUALITY = "quality.png"
FIGURES = (PROGRESSION, QUALITY)
EVENTS = "events.jsonl"  # start, epoch, interrupted, error, end: one JSON object per line, appended
PREVIEW = "preview.png"  # replaced atomically; removed when the run ends by itself
PREVIEW_KEYS = ("epoch", "step", "steps")  # its PNG text: drawn in `epoch` after `step` of the epoch's `steps` steps


def epoch_name(epoch: int) -> str:
    """1 -> 'epoch-001' (the folder of that epoch's Generator, and the stem of its sample grid)."""
    return f"epoch-{epoch:03d}"


def discriminator_folder(epoch_folder: str | Path) -> Path | None:
    """EPOCH/discriminator/ when it holds a whole export, else None (a run trained before D was exported)."""
    folder = Path(epoch_folder) / DISCRIMINATOR
    return folder if all((folder / name).is_file() for name in EPOCH_FILES) else None


def sample_path(folder: str | Path, epoch: int) -> Path:
    """RUN/samples/epoch-NNN.png: the fixed latent bank as drawn by `epoch`."""
    return Path(folder) / SAMPLES / f"{epoch_name(epoch)}.png"


def epoch_folders(folder: str | Path) -> dict[int, Path]:
    """Every epoch-NNN/ folder in `folder`, by epoch number, in order (whole or not: callers check)."""
    found = {}
    for item in Path(folder).iterdir():
        match = EPOCH_DIR.fullmatch(item.name)
        if match and item.is_dir():
            found[int(match.group(1))] = item
    return dict(sorted(found.items()))


def read_metrics(folder: str | Path) -> dict:
    """FOLDER/metrics.json ({"epochs": []} when there is none); a UsageError when it is not JSON."""
    path = Path(folder) / METRICS
    if not path.is_file():
        return {"epochs": []}
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise UsageError(f"{path} is not valid JSON; repair it or move it away") from None


def read_events(folder: str | Path, offset: int = 0) -> tuple[list[dict], int]:
    """The whole lines of FOLDER/events.jsonl from byte `offset` on, parsed, and the offset after the last whole
    line (a last line without its newline is still being written: it is read next time). Lines that are not a JSON
    object are skipped; no file yet reads as no events."""
    try:
        with open(Path(folder) / EVENTS, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return [], offset
    whole = data[: data.rfind(b"\n") + 1]
    events = []
    for line in whole.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return events, offset + len(whole)
