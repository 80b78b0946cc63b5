"""What every Hub command shares: repo ids, the local weights layout, the token, one-line errors, remote hashes."""

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
from huggingface_hub import HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RevisionNotFoundError
from huggingface_hub.utils import sha

from gan.errors import UsageError
from gan.layout import EPOCH_FILES, epoch_folders

# owner/name as the Hub accepts it: letters, digits, '-', '_', '.'; no leading/trailing '-' or '.', no '--' or '..'.
_NAME = r"(?!.*(?:--|\.\.))[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?"
REPO_ID = re.compile(rf"{_NAME}/{_NAME}")


def check_repo_id(repo_id: str) -> str:
    """Return `repo_id` if it is owner/name, else raise a UsageError naming it."""
    if not REPO_ID.fullmatch(repo_id):
        raise UsageError(f"{repo_id!r} is not a Hub repo id: expected owner/name, e.g. alice/mnist-gan")
    return repo_id


def local_epochs(folder: str | Path) -> list[int]:
    """Epoch numbers of the complete epoch-NNN/ folders (config.json + model.safetensors) in `folder`."""
    if not Path(folder).is_dir():
        return []
    return [
        epoch for epoch, item in epoch_folders(folder).items() if all((item / name).is_file() for name in EPOCH_FILES)
    ]


def check_layout(folder: str | Path, source: str) -> list[int]:
    """The epochs in `folder`; a UsageError naming `source` when it holds none."""
    if not Path(folder).is_dir():
        raise UsageError(f"{source} does not exist")
    epochs = local_epochs(folder)
    if not epochs:
        raise UsageError(
            f"{source} is not in the weights layout: no epoch-NNN/ folder with {' and '.join(EPOCH_FILES)}"
        )
    return epochs


def require_token(api: HfApi | None, action: str) -> None:
    """A UsageError unless a token is set (HF_TOKEN or `hf auth login`); the token itself is never shown."""
    if (api is not None and api.token) or get_token():
        return
    raise UsageError(
        f"{action} needs a Hugging Face token: set HF_TOKEN or run `hf auth login` (never pass it as a flag)"
    )


def is_transient(err: BaseException) -> bool:
    """Worth retrying: the network, a timeout, rate limiting or a server-side error."""
    if isinstance(err, OfflineModeIsEnabled):
        return False
    if isinstance(err, HfHubHTTPError):
        status = err.response.status_code if err.response is not None else None
        return status is None or status in (408, 429) or status >= 500
    return isinstance(err, (httpx2.TransportError, ConnectionError, TimeoutError))


def describe(err: BaseException) -> str:
    """One line about a failed Hub call (HTTP errors name the URL and status, never the token)."""
    if isinstance(err, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def remote_files(api: HfApi, repo_id: str, repo_type: str | None = None) -> dict:
    """path -> RepoFile for every file on the repo's main branch ({} for a new, empty repo)."""
    try:
        return {
            item.path: item
            for item in api.list_repo_tree(repo_id, recursive=True, repo_type=repo_type)
            if hasattr(item, "blob_id")
        }
    except RevisionNotFoundError:  # no commit yet
        return {}


def same_content(remote, data: bytes) -> bool:
    """Compare with the Hub's hash: sha256 for LFS/Xet files, the git blob sha1 for small ones."""
    if remote.lfs is not None:
        return remote.lfs.sha256 == hashlib.sha256(data).hexdigest()
    return remote.blob_id == sha.git_hash(data)


@contextlib.contextmanager
def hub_errors(action: str, repo_id: str, endpoint: str) -> Iterator[None]:
    """Turn what the Hub (or the network) answers during `action` on `repo_id` into one-line UsageErrors."""
    try:
        yield
    except OfflineModeIsEnabled:
        raise UsageError(f"HF_HUB_OFFLINE is set: unset it to {action}") from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else None
        if status in (401, 403):
            raise UsageError(
                f"the Hub refused the token for {repo_id} (HTTP {status}): it needs write access"
            ) from None
        raise UsageError(f"{action} to {repo_id} failed: {describe(err)}") from None
    except (httpx2.TransportError, ConnectionError) as err:
        raise UsageError(f"cannot reach the Hub at {endpoint} ({describe(err)}); nothing was sent") from None
