"""Weights for the app: a local run folder as is, or a Hub repo id fetched (or read from the cache) into one."""

import sys
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import (
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from gan.errors import UsageError
from gan.hub.repo import REPO_ID, check_layout, local_epochs
from gan.layout import DISCRIMINATOR_FILES, EPOCH_FILES, METRICS, SAMPLES

# What the app needs from a weights repo (the card and anything else stays on the Hub): each epoch's G and, where
# the run saved it, its D; "*.png" takes the figures.
WEIGHTS_PATTERNS = [
    *(f"epoch-*/{name}" for name in (*EPOCH_FILES, *DISCRIMINATOR_FILES)),
    METRICS,
    f"{SAMPLES}/*.png",
    "*.png",
]


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
