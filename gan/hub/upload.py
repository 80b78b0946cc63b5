"""Weights to the Hub: the background uploader that training uses, and push/pull of a whole run folder.

The repo layout is the run folder's layout (gan.layout); only the files missing or changed on the Hub are sent.
"""

import json
import queue
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, get_cached_repo_tree, snapshot_download
from huggingface_hub.errors import (
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from gan.card import render_card
from gan.errors import UsageError
from gan.hub.repo import (
    check_layout,
    check_repo_id,
    describe,
    hub_errors,
    is_transient,
    local_epochs,
    remote_files,
    require_token,
    same_content,
)
from gan.hub.resolve import WEIGHTS_PATTERNS
from gan.layout import (
    CARD,
    DISCRIMINATOR_FILES,
    EPOCH_DIR,
    EPOCH_FILES,
    FIGURES,
    METRICS,
    SAMPLES,
    discriminator_folder,
    epoch_name,
    sample_path,
)

RETRY_DELAYS = (2.0, 10.0, 30.0)  # seconds before each retry of a failed upload (transient errors only)
CLOSE_TIMEOUT = 300.0  # the most close() waits for uploads still in flight, in seconds
MIN_COMMIT_INTERVAL = 10.0  # seconds between commits: fast epochs go up together, within the Hub's rate limits
SEND_LATER = "python -m gan.hub push {out} {repo_id}"


def layout_files(folder: Path, epochs: list[int]) -> list[str]:
    """Repo paths of the files that make up `epochs` (G's weights, D's when the run saved them, the sample grid),
    as found in `folder`."""
    paths = []
    for epoch in epochs:
        paths += [f"{epoch_name(epoch)}/{name}" for name in EPOCH_FILES]
        if discriminator_folder(folder / epoch_name(epoch)) is not None:  # runs trained before D was exported: none
            paths += [f"{epoch_name(epoch)}/{name}" for name in DISCRIMINATOR_FILES]
        if sample_path(folder, epoch).is_file():
            paths.append(sample_path("", epoch).as_posix())
    paths += [name for name in FIGURES if (folder / name).is_file()]
    return paths


def commit_operations(
    folder: Path, epochs: list[int], metrics_bytes: bytes | None, repo_id: str
) -> list[CommitOperationAdd]:
    """Additions for `epochs` plus the metrics and the root card, read into memory now (files may be replaced later)."""
    operations = [CommitOperationAdd(path, (folder / path).read_bytes()) for path in layout_files(folder, epochs)]
    metrics = json.loads(metrics_bytes) if metrics_bytes else {"epochs": []}
    if metrics_bytes:
        operations.append(CommitOperationAdd(METRICS, metrics_bytes))
    operations.append(CommitOperationAdd(CARD, render_card(metrics, folder, repo_id).encode()))
    return operations


def epoch_span(epochs: list[int]) -> str:
    if len(epochs) == 1:
        return f"epoch {epochs[0]}"
    if epochs == list(range(epochs[0], epochs[-1] + 1)):
        return f"epochs {epochs[0]}-{epochs[-1]}"
    return "epochs " + ", ".join(map(str, epochs))


class EpochUploader:
    """Uploads each finished epoch to a Hub repo from a background thread; never raises into the training loop.

    Epochs that queue up while an upload is in flight go up together in the next commit. Transient failures
    are retried with backoff; epochs that still fail stay local and are named by close(), which also says
    how to send them later.
    """

    def __init__(self, repo_id: str, out_dir: str | Path, api: HfApi | None = None):
        self.repo_id = check_repo_id(repo_id)
        self.api = api or HfApi()
        require_token(self.api, "--push-to-hub")
        self.out_dir = Path(out_dir)
        self.uploaded: list[int] = []
        self.untagged: list[int] = []
        self.last_error: str | None = None
        self._pending: set[int] = set()
        self._metrics_bytes: bytes | None = None
        self._repo_ready = False
        self._fatal: str | None = None
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._stop = threading.Event()  # close() gave up waiting: end backoff sleeps
        self._closing = threading.Event()  # close() was called: no more pacing between commits
        self._worker = threading.Thread(target=self._run, name="hub-uploader", daemon=True)
        self._worker.start()

    def submit(self, epoch: int) -> None:
        """Queue a finished epoch (its folder, sample grid, the metrics and the card); returns at once."""
        try:
            # Snapshot the metrics now: the next epoch rewrites it before this upload may have started.
            self._metrics_bytes = (self.out_dir / METRICS).read_bytes()
        except OSError:
            pass
        self._queue.put(epoch)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while not self._queue.empty():
                items.append(self._queue.get_nowait())
            closing = None in items
            fresh = {item for item in items if item is not None}
            self._pending |= fresh
            if fresh and self._fatal is None and not self._stop.is_set():
                started = time.monotonic()
                self._upload(sorted(self._pending))
                self._closing.wait(max(0.0, MIN_COMMIT_INTERVAL - (time.monotonic() - started)))
            if closing:
                return

    def _upload(self, epochs: list[int]) -> None:
        """Commit `epochs` (and any earlier ones that failed) in one commit, retrying transient failures."""
        for _attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
            if delay and self._stop.wait(delay):
                return
            try:
                if not self._repo_ready:
                    self.api.create_repo(self.repo_id, exist_ok=True)
                    self._repo_ready = True
                operations = commit_operations(self.out_dir, epochs, self._metrics_bytes, self.repo_id)
                commit = self.api.create_commit(self.repo_id, operations, commit_message=f"Add {epoch_span(epochs)}")
            except Exception as err:  # noqa: BLE001 - the training loop must never see a Hub error
                first_failure = self.last_error is None
                self.last_error = describe(err)
                if not is_transient(err):
                    self._fatal = self.last_error
                    print(
                        f"hub: cannot upload to {self.repo_id} ({self.last_error}); training goes on, "
                        "epochs stay local",
                        file=sys.stderr,
                    )
                    return
                if first_failure:
                    print(
                        f"hub: upload of {epoch_span(epochs)} failed ({self.last_error}); "
                        "training goes on, retrying in the background",
                        file=sys.stderr,
                    )
                continue
            self._pending -= set(epochs)
            self.uploaded += epochs
            self.last_error = None
            self._tag(epochs, commit.oid)
            return

    def _tag(self, epochs: list[int], revision: str) -> None:
        """Tag epoch-NNN on the commit that added it: one small request each, not retried."""
        for epoch in epochs:
            try:
                self.api.create_tag(self.repo_id, tag=epoch_name(epoch), revision=revision, exist_ok=True)
            except Exception:  # noqa: BLE001 - a missing tag costs nothing but convenience
                self.untagged.append(epoch)

    @property
    def failed(self) -> list[int]:
        """Epochs submitted but not (yet) on the Hub."""
        return sorted(self._pending)

    def close(self, timeout: float | None = None) -> list[int]:
        """Wait (at most `timeout` seconds) for queued uploads, print what happened, return the epochs that failed."""
        self._closing.set()
        self._queue.put(None)
        timeout = CLOSE_TIMEOUT if timeout is None else timeout
        try:
            self._worker.join(min(timeout, 1.0))
            if self._worker.is_alive():
                print(
                    f"hub: finishing uploads to {self.repo_id} (up to {timeout:.0f} s; Ctrl-C stops waiting)",
                    file=sys.stderr,
                )
                self._worker.join(max(timeout - 1.0, 0.0))
        except KeyboardInterrupt:
            pass
        if self._worker.is_alive():
            self._stop.set()  # end any backoff sleep; an HTTP call in flight finishes on its own (daemon thread)
        pending = self.failed
        not_done = sorted(set(pending) | {e for e in self._drain()})
        if self.uploaded:
            print(
                f"hub: {epoch_span(sorted(self.uploaded))} uploaded to {self.api.endpoint}/{self.repo_id}",
                file=sys.stderr,
            )
        if self.untagged:
            print(f"hub: tags not created for {epoch_span(sorted(self.untagged))} (the files are up)", file=sys.stderr)
        if not_done:
            reason = self.last_error or (
                "still uploading when close() stopped waiting" if self._worker.is_alive() else "unknown"
            )
            print(
                f"hub: {epoch_span(not_done)} not uploaded to {self.repo_id} ({reason}); the files in {self.out_dir} "
                f"are intact. Send them later with: {SEND_LATER.format(out=self.out_dir, repo_id=self.repo_id)}",
                file=sys.stderr,
            )
        return not_done

    def _drain(self) -> list[int]:
        """Epochs still sitting in the queue (only when close() gave up on the worker)."""
        items = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                items.append(item)
        return items


# Paths a weights repo may hold besides the epochs (the Hub itself adds .gitattributes).
LAYOUT_PATH = re.compile(
    "|".join(
        [r"epoch-\d{3,}/.+", rf"{re.escape(SAMPLES)}/.+", *map(re.escape, (METRICS, CARD, *FIGURES, ".gitattributes"))]
    )
)


@dataclass
class PushReport:
    uploaded: list[str]  # repo paths sent in this commit
    unchanged: int  # files already on the Hub with the same content
    commit: str | None  # the new commit, None when nothing changed


def push(weights_dir: str | Path, repo_id: str, api: HfApi | None = None) -> PushReport:
    """Upload a finished weights folder, only the files missing from the repo or different there, in one commit."""
    check_repo_id(repo_id)
    folder = Path(weights_dir)
    epochs = check_layout(folder, str(folder))
    require_token(api, "push")
    api = api or HfApi()
    with hub_errors("push", repo_id, api.endpoint):
        api.create_repo(repo_id, exist_ok=True)
        remote = remote_files(api, repo_id)
        foreign = sorted(path for path in remote if not LAYOUT_PATH.fullmatch(path))
        if foreign and not any(EPOCH_DIR.match(path) for path in remote):
            raise UsageError(
                f"Hub repo {repo_id} is not in the weights layout (it holds {', '.join(foreign[:3])}); "
                "push to another repo"
            )
        metrics_path = folder / METRICS
        metrics_bytes = metrics_path.read_bytes() if metrics_path.is_file() else None
        operations = commit_operations(folder, epochs, metrics_bytes, repo_id)
        changed = [
            op
            for op in operations
            if op.path_in_repo not in remote or not same_content(remote[op.path_in_repo], op.path_or_fileobj)
        ]
        report = PushReport([op.path_in_repo for op in changed], len(operations) - len(changed), None)
        if not changed:
            return report
        new_epochs = sorted({int(m.group(1)) for op in changed if (m := EPOCH_DIR.match(op.path_in_repo))})
        message = f"Add {epoch_span(new_epochs)}" if new_epochs else "Update metrics and card"
        report.commit = api.create_commit(repo_id, changed, commit_message=message).oid
        for epoch in new_epochs:
            api.create_tag(repo_id, tag=epoch_name(epoch), revision=report.commit, exist_ok=True)
    return report


def pull(repo_id: str, epochs: list[int] | None = None, api: HfApi | None = None) -> Path:
    """Download the repo (or only `epochs`) into the Hugging Face cache; returns the snapshot folder."""
    check_repo_id(repo_id)
    if epochs:
        names = [epoch_name(epoch) for epoch in sorted(set(epochs))]
        patterns = [f"{name}/*" for name in names] + [f"{SAMPLES}/{name}.png" for name in names] + [METRICS]
    else:
        patterns = WEIGHTS_PATTERNS
    endpoint = {"endpoint": api.endpoint, "token": api.token} if api is not None else {}
    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=patterns, **endpoint))
    except RepositoryNotFoundError:
        raise UsageError(f"Hub repo {repo_id} not found (or private, and no token is set)") from None
    except RevisionNotFoundError:
        raise UsageError(f"Hub repo {repo_id} is empty (no main branch)") from None
    except LocalEntryNotFoundError:
        raise UsageError(f"cannot reach the Hub and {repo_id} is not in the cache") from None
    available = remote_epochs(repo_id, folder)
    if not available:
        raise UsageError(
            f"Hub repo {repo_id} is not in the weights layout: no epoch-NNN/ folder with {' and '.join(EPOCH_FILES)}"
        )
    missing = sorted(set(epochs or []) - set(local_epochs(folder)))
    if missing:
        raise UsageError(f"{epoch_span(missing)} not in {repo_id} (it has {epoch_span(available)})")
    return folder


def remote_epochs(repo_id: str, snapshot: Path) -> list[int]:
    """Complete epochs of the repo per the tree listing that snapshot_download cached (no network call)."""
    revision = snapshot.name  # the snapshot folder is named after its commit
    try:
        paths = {
            item.path
            for item in get_cached_repo_tree(repo_id, revision=revision, cache_dir=snapshot.parent.parent.parent)
        }
    except Exception:  # noqa: BLE001 - no cached listing: judge by what was downloaded
        return local_epochs(snapshot)
    found = {int(m.group(1)) for path in paths if (m := EPOCH_DIR.match(path))}
    return sorted(e for e in found if all(f"{epoch_name(e)}/{name}" in paths for name in EPOCH_FILES))
