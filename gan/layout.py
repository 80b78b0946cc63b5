"""The run-folder layout every part shares: epoch-NNN/ folders, samples/epoch-NNN.png, metrics.json."""

import json
import re
from pathlib import Path

from gan.errors import UsageError

EPOCH_DIR = re.compile(r"epoch-(\d{3,})")
EPOCH_FILES = ("config.json", "model.safetensors")
METRICS = "metrics.json"


def epoch_name(epoch: int) -> str:
    """1 -> 'epoch-001' (the folder of that epoch's Generator, and the stem of its sample grid)."""
    return f"epoch-{epoch:03d}"


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
