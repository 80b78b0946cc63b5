"""The app as a Gradio Space in one command: upload what the Space runs through the HTTP API, only what changed.

Binary files (weights, PNGs) go through LFS/Xet as the Hub's preupload step decides; the Hub refuses them
as regular git blobs.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from gan.errors import UsageError
from gan.hub.repo import check_repo_id, hub_errors, remote_files, require_token, same_content
from gan.layout import CARD, CHECKPOINT, EPOCH_DIR, EPOCH_FILES

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder above gan/, wherever the command runs from
SPACE_FILES = ("app.py", "requirements.txt", CARD)  # the card is the Space's README: its front matter configures it
SPACE_FOLDERS = ("demo", "gan")
WEIGHTS_FOLDER = "weights"  # the judge classifier and the bundled run folders
# Data the app reads whatever serves its runs: the 1,000 MNIST test digits the Discriminator views score (a Space
# has no MNIST), sent also when the runs come from a weights repo.
APP_DATA = (f"{WEIGHTS_FOLDER}/real-digits.safetensors",)
SKIPPED_SUFFIXES = (".pyc", ".pyo")
WEIGHTS_VARIABLE = "GAN_WEIGHTS"  # app.py reads the weights repo from this environment variable
# The deployed Space's own id, as a Space variable: a duplicate copies the variable but gets another SPACE_ID, so the
# app tells the shared original (capped live runs, no live training for agents) from someone's own copy.
SHARED_VARIABLE = "GAN_SHARED_SPACE"
SPACE_URL = "{endpoint}/spaces/{repo_id}"
# A picture in the README: ![alt](path "title") (or 'title' or (title)), or <img ... src="path"> (either quote).
PICTURE_LINK = re.compile(
    r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)"""
    r"""|<img\b[^>]*?(?<![\w-])src\s*=\s*["']([^"']+)["']""",
    re.IGNORECASE,
)
DOCS_FOLDER = "docs"  # where the README's own pictures live; a deploy also removes those it no longer shows


def _wanted(relative: Path) -> bool:
    """Not a cache, a hidden or temporary file, compiled Python or a training checkpoint."""
    return (
        not any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
        and relative.suffix not in SKIPPED_SUFFIXES
        and relative.name != CHECKPOINT
    )


def readme_pictures(root: Path) -> list[str]:
    """The project's own pictures the README shows (relative links, in Markdown or <img>), as repo paths: without
    them the README, as the Space shows it, would show none. A link's query and fragment are not part of the file;
    one that leads out of the project folder is refused, as is one to a missing file."""
    text = (root / CARD).read_text(encoding="utf-8")
    base = root.resolve()
    paths, missing = [], []
    for markdown, html in PICTURE_LINK.findall(text):
        link = urlsplit(markdown or html)
        if link.scheme or link.netloc or not link.path or link.path.startswith("/"):
            continue  # on the web, or an absolute path that means nothing on the Space
        local = (base / unquote(link.path)).resolve()
        if not local.is_relative_to(base):
            raise UsageError(f"{CARD} shows {link.path}, which is outside {root}: a Space can only hold its own files")
        if not local.is_file():
            missing.append(link.path)
        elif (path := local.relative_to(base).as_posix()) not in paths:
            paths.append(path)
    if missing:
        raise UsageError(f"{CARD} shows {', '.join(missing)}, not found in {root}: the Space would show none")
    return paths


def space_files(root: str | Path | None = None, with_weights: bool = True) -> dict[str, Path]:
    """Repo path -> local file for everything the Space runs (default: this project) and the pictures its README
    shows, in path order."""
    root = Path(root or PROJECT_ROOT)
    missing = [name for name in (*SPACE_FILES, *SPACE_FOLDERS, *APP_DATA) if not (root / name).exists()]
    if missing:
        raise UsageError(f"{root} is not the project folder: it has no {', '.join(missing)}")
    files = {name: root / name for name in (*SPACE_FILES, *APP_DATA)}
    files.update({path: root / path for path in readme_pictures(root)})
    folders = [*SPACE_FOLDERS, *([WEIGHTS_FOLDER] if with_weights else [])]
    for folder in folders:
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and _wanted(relative):
                files[relative.as_posix()] = path
    return dict(sorted(files.items()))


def space_readme(text: str, weights_repo: str | None) -> str:
    """The project README as the Space's config; with a weights repo, its front matter also names that model."""
    match = re.match(r"---\n(.*?\n)---\n", text, flags=re.DOTALL)
    if not match or not re.search(r"^sdk:\s*gradio\s*$", match.group(1), flags=re.MULTILINE):
        raise UsageError(f"{CARD} needs front matter with `sdk: gradio`: it is the Space's configuration")
    if weights_repo is None or re.search(r"^models:", match.group(1), flags=re.MULTILINE):
        return text
    return f"---\n{match.group(1)}models: [{weights_repo}]\n---\n{text[match.end() :]}"


def space_payload(root: str | Path | None = None, weights_repo: str | None = None) -> dict[str, bytes]:
    """Repo path -> bytes of every file a deploy sends (no weights/ when the Space reads a weights repo)."""
    payload = {path: local.read_bytes() for path, local in space_files(root, weights_repo is None).items()}
    payload[CARD] = space_readme(payload[CARD].decode(), weights_repo).encode()
    return payload


@dataclass
class DeployReport:
    url: str  # the Space's page
    uploaded: list[str]  # repo paths sent in this commit
    deleted: list[str]  # files of an earlier deploy that the app no longer has
    unchanged: int  # files already on the Space with the same content
    commit: str | None  # the new commit, None when no file changed
    variables: list[str] = field(default_factory=list)  # what changed in the Space's variables, one line each


def check_weights_repo(api: HfApi, weights_repo: str) -> bool:
    """A UsageError unless `weights_repo` holds epochs in the weights layout; returns whether it is private."""
    try:
        info = api.model_info(weights_repo, revision="main")
    except RepositoryNotFoundError:
        raise UsageError(f"weights repo {weights_repo} not found (or private, and the token cannot read it)") from None
    paths = {sibling.rfilename for sibling in info.siblings or []}
    if not any(EPOCH_DIR.fullmatch(path.split("/")[0]) and path.endswith(EPOCH_FILES[1]) for path in paths):
        raise UsageError(f"weights repo {weights_repo} is not in the weights layout: no epoch-NNN/ folders")
    return bool(info.private)


def deploy_space(
    repo_id: str,
    *,
    private: bool = False,
    weights_repo: str | None = None,
    root: str | Path | None = None,
    api: HfApi | None = None,
) -> DeployReport:
    """Create or update the Gradio Space `repo_id` with the app, sending only files missing or different there."""
    check_repo_id(repo_id)
    if weights_repo is not None:
        check_repo_id(weights_repo)
    payload = space_payload(root, weights_repo)
    api = api or HfApi()
    require_token(api, "space")
    report = DeployReport(SPACE_URL.format(endpoint=api.endpoint, repo_id=repo_id), [], [], 0, None)
    with hub_errors("deploy", repo_id, api.endpoint):
        if weights_repo is not None and check_weights_repo(api, weights_repo):
            report.variables.append(
                f"{weights_repo} is private: add a Space secret HF_TOKEN that can read it (Settings of the Space)"
            )
        # private only counts when the Space is created; None leaves the owner's default.
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private or None)
        # The variable goes in before the files (the first build already reads the weights repo) and out after
        # them (the Space keeps serving the repo until weights/ is there).
        variables = api.get_space_variables(repo_id)
        shared = variables.get(SHARED_VARIABLE)
        if shared is None or shared.value != repo_id:
            api.add_space_variable(
                repo_id, SHARED_VARIABLE, repo_id, description="this Space's id (a duplicate is not the shared one)"
            )
            report.variables.append(f"set the Space variable {SHARED_VARIABLE}={repo_id} (the shared original)")
        current = variables.get(WEIGHTS_VARIABLE)
        if weights_repo is not None and (current is None or current.value != weights_repo):
            api.add_space_variable(
                repo_id, WEIGHTS_VARIABLE, weights_repo, description="Hub repo of the Generator weights the app serves"
            )
            report.variables.append(f"set the Space variable {WEIGHTS_VARIABLE}={weights_repo}")
        remote = remote_files(api, repo_id, repo_type="space")
        changed = [path for path, data in payload.items() if path not in remote or not same_content(remote[path], data)]
        # Files an earlier deploy sent that the app no longer has (a removed module, weights now read from a repo).
        managed = (*SPACE_FOLDERS, WEIGHTS_FOLDER, DOCS_FOLDER)
        stale = sorted(path for path in remote if path.split("/")[0] in managed and path not in payload)
        report.uploaded, report.deleted = changed, stale
        report.unchanged = len(payload) - len(changed)
        if changed or stale:
            operations = [CommitOperationAdd(path, payload[path]) for path in changed]
            operations += [CommitOperationDelete(path) for path in stale]
            message = f"Deploy the app: {len(changed)} files added or changed, {len(stale)} removed"
            report.commit = api.create_commit(repo_id, operations, commit_message=message, repo_type="space").oid
        if weights_repo is None and current is not None:
            api.delete_space_variable(repo_id, WEIGHTS_VARIABLE)
            report.variables.append(
                f"removed the Space variable {WEIGHTS_VARIABLE} (it serves the uploaded {WEIGHTS_FOLDER}/ now)"
            )
    return report
