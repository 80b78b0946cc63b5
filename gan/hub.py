"""Per-epoch Generator weights on the Hugging Face Hub: the repo layout is the weights folder's layout.

    python -m gan.hub push runs/mnist USER/REPO      # upload what is missing or changed
    python -m gan.hub pull USER/REPO --epochs 1 5 10 # download into the cache, print the folder
    python -m gan.hub card runs/mnist                 # write the root model card README.md

The token comes from HF_TOKEN or the login cache (`hf auth login`), never from a flag.
"""

import re
import sys
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

from gan.errors import UsageError

# owner/name as the Hub accepts it: letters, digits, '-', '_', '.'; no leading/trailing '-' or '.', no '--' or '..'.
_NAME = r"(?!.*(?:--|\.\.))[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?"
REPO_ID = re.compile(rf"{_NAME}/{_NAME}")
EPOCH_DIR = re.compile(r"epoch-(\d{3,})")
EPOCH_FILES = ("config.json", "model.safetensors")
# What the app needs from a weights repo (the card README.md and anything else stays on the Hub).
WEIGHTS_PATTERNS = ["epoch-*/config.json", "epoch-*/model.safetensors", "metrics.json", "samples/*.png", "*.png"]


def check_repo_id(repo_id: str) -> str:
    """Return `repo_id` if it is owner/name, else raise a UsageError naming it."""
    if not REPO_ID.fullmatch(repo_id):
        raise UsageError(f"{repo_id!r} is not a Hub repo id: expected owner/name, e.g. alice/mnist-gan")
    return repo_id


def epoch_dir(epoch: int) -> str:
    return f"epoch-{epoch:03d}"


def local_epochs(folder: str | Path) -> list[int]:
    """Epoch numbers of the complete epoch-NNN/ folders (config.json + model.safetensors) in `folder`."""
    epochs = []
    for item in Path(folder).glob("epoch-*"):
        match = EPOCH_DIR.fullmatch(item.name)
        if match and all((item / name).is_file() for name in EPOCH_FILES):
            epochs.append(int(match.group(1)))
    return sorted(epochs)


def check_layout(folder: str | Path, source: str) -> list[int]:
    """The epochs in `folder`; a UsageError naming `source` when it holds none."""
    epochs = local_epochs(folder)
    if not epochs:
        raise UsageError(
            f"{source} is not in the weights layout: no epoch-NNN/ folder with {' and '.join(EPOCH_FILES)}"
        )
    return epochs


def resolve_weights(spec: str | Path, fallback: str | Path = "weights") -> Path:
    """A local weights folder as is; a Hub repo id (owner/name) fetched or read from the cache; else `fallback`.

    Offline with nothing cached, says so in one line on stderr and returns `fallback`.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    repo_id = str(spec)
    if not REPO_ID.fullmatch(repo_id):
        raise UsageError(f"weights {repo_id!r} is neither a folder nor a Hub repo id (owner/name)")
    try:
        local = snapshot_download(repo_id, allow_patterns=WEIGHTS_PATTERNS)
    except IncompleteSnapshotError as err:
        # Offline with part of the repo cached (e.g. an earlier `pull --epochs`): use what is there.
        if not local_epochs(err.snapshot_path):
            return _fallback(repo_id, fallback)
        print(f"weights: the Hub is unreachable; using the epochs of {repo_id} found in the cache", file=sys.stderr)
        return Path(err.snapshot_path)
    except RepositoryNotFoundError:
        raise UsageError(f"Hub repo {repo_id} not found (or private, and no token is set)") from None
    except RevisionNotFoundError:
        raise UsageError(f"Hub repo {repo_id} has no main branch") from None
    except LocalEntryNotFoundError:
        return _fallback(repo_id, fallback)
    check_layout(local, f"Hub repo {repo_id}")
    return Path(local)


def _fallback(repo_id: str, fallback: str | Path) -> Path:
    print(f"weights: cannot reach the Hub and {repo_id} is not in the cache; using {fallback}/", file=sys.stderr)
    return Path(fallback)
