"""gan.hub against a local fake of the Hub's HTTP endpoints: push, pull, train --push-to-hub, Space deploys, offline.

The fake speaks the endpoints huggingface_hub 2.x calls for these operations (LFS "basic" transfer; Xet is
disabled): repo creation, preupload, LFS batch + PUT, commit, tag, repo info, tree listing, resolve (HEAD/GET),
Space variables. It enforces the rules the real Hub does that matter here: a binary file sent as a regular
(inline) file is refused, preupload sends binary files to LFS, a Space needs an SDK.
"""

import base64
import codecs
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import torch
import yaml
from conftest import tiny_train
from huggingface_hub import HfApi, constants
from huggingface_hub.utils import sha

import gan.hub
import gan.hub.repo
import gan.hub.space
import gan.hub.upload
from gan import Generator
from gan.errors import UsageError, run_cli
from gan.hub import EpochUploader, check_repo_id, pull, push, resolve_weights
from gan.hub.space import SHARED_VARIABLE, WEIGHTS_VARIABLE, deploy_space, readme_pictures, space_files

# huggingface_hub's own LFS PUT passes data=<file> to httpx2, which warns; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

TOKEN = "hf_fake_token_for_tests"
REPO_ROOT = Path(__file__).resolve().parent.parent
LFS_THRESHOLD = 10 * 2**20  # the Hub sends text files this large to LFS too
BINARY_REJECTED = (
    "Your push was rejected because it contains binary files. Please use https://git-lfs.github.com/ or "
    "https://huggingface.co/docs/hub/xet to store binary files."
)


def is_binary(data: bytes, complete: bool = True) -> bool:
    """The Hub's test: a NUL byte, or not UTF-8 (`complete=False` for a prefix that may end inside a character)."""
    if b"\0" in data:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return True
    return False


def repo_key(kind: str | None, repo_id: str) -> str:
    """Where the fake keeps a repo: model repos by owner/name, others under their URL prefix (spaces/owner/name)."""
    return repo_id if kind in (None, "model", "models") else f"{kind.rstrip('s')}s/{repo_id}"


class FakeHub:
    """In-memory repos: commits (path -> bytes), which paths are LFS, branch main, tags, LFS objects by sha256."""

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.lfs: dict[str, bytes] = {}
        self.fail_commits = 0  # answer this many commit calls with 503 first
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(FakeHubHandler, hub=self))
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_repo(self, repo_id: str, files: dict[str, bytes] | None = None, **settings) -> None:
        """A repo as the Hub creates it (its .gitattributes), plus `files` (binary ones stored as LFS)."""
        self.repos[repo_id] = {"commits": {}, "lfs_paths": {}, "main": None, "tags": {}, "log": [], **settings}
        files = {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", **(files or {})}
        self.commit(repo_id, files, "initial commit", lfs={path for path, data in files.items() if is_binary(data)})

    def commit(
        self, repo_id: str, changes: dict[str, bytes], message: str, lfs: set[str] = frozenset(), deleted=()
    ) -> str:
        repo = self.repos[repo_id]
        files = dict(repo["commits"][repo["main"]]) if repo["main"] else {}
        lfs_paths = set(repo["lfs_paths"][repo["main"]]) if repo["main"] else set()
        for prefix in deleted:
            for path in [p for p in files if p == prefix or p.startswith(prefix.rstrip("/") + "/")]:
                del files[path]
                lfs_paths.discard(path)
        files.update(changes)
        lfs_paths = (lfs_paths - set(changes)) | set(lfs)
        oid = hashlib.sha1(f"{repo['main']}{message}{sorted(changes)}{len(repo['log'])}".encode()).hexdigest()
        repo["commits"][oid] = files
        repo["lfs_paths"][oid] = frozenset(lfs_paths)
        repo["main"] = oid
        repo["log"].append((oid, message))
        return oid

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return repo["commits"][self.resolve(repo_id, revision)]

    def lfs_paths(self, repo_id: str, revision: str = "main") -> frozenset[str]:
        """Paths whose content the repo stores as LFS objects (a pointer in git)."""
        return self.repos[repo_id]["lfs_paths"][self.resolve(repo_id, revision)]

    def resolve(self, repo_id: str, revision: str) -> str | None:
        repo = self.repos[repo_id]
        if revision == "main":
            return repo["main"]
        return repo["tags"].get(revision) or (revision if revision in repo["commits"] else None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


API = r"/api/(?P<kind>models|spaces|datasets)/(?P<repo>[^/]+/[^/]+)"
GIT = r"/(?:(?P<kind>spaces|datasets)/)?(?P<repo>[^/]+/[^/]+)"


class FakeHubHandler(BaseHTTPRequestHandler):
    def __init__(self, *args, hub: FakeHub, **kwargs):
        self.hub = hub
        super().__init__(*args, **kwargs)

    def log_message(self, *args):  # keep pytest output clean
        pass

    # -- helpers
    def reply(self, status: int, body: object = None, headers: dict | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status: int, code: str | None = None, message: str = "error") -> None:
        self.reply(status, {"error": message}, {"X-Error-Code": code} if code else {})

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self.error(401, message="Invalid credentials in Authorization header")
        return False

    def repo_or_404(self, repo_id: str) -> dict | None:
        with self.hub.lock:
            repo = self.hub.repos.get(repo_id)
        if repo is None:
            self.error(404, "RepoNotFound", "Repository not found")
        return repo

    # -- routing
    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_GET(self):
        self.route("GET")

    def do_HEAD(self):
        self.route("HEAD")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method: str) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        self.hub.calls.append(f"{method} {path}")
        variables = r"/api/(?P<kind>spaces)/(?P<repo>[^/]+/[^/]+)/variables"
        routes = [
            ("POST", r"/api/repos/create", self.create_repo),
            ("POST", r"/api/validate-yaml", self.validate_yaml),
            ("POST", API + r"/preupload/(?P<revision>[^/]+)", self.preupload),
            ("POST", GIT + r"\.git/info/lfs/objects/batch", self.lfs_batch),
            ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", self.lfs_put),
            ("POST", API + r"/commit/(?P<revision>[^/]+)", self.create_commit),
            ("POST", API + r"/tag/(?P<revision>[^/]+)", self.create_tag),
            ("GET", API + r"/revision/(?P<revision>[^/]+)", self.repo_info),
            ("GET", API + r"/tree/(?P<revision>[^/]+)(?:/(?P<prefix>.*))?", self.tree),
            ("GET", GIT + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", self.resolve_file),
            ("HEAD", GIT + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", self.resolve_file),
            ("GET", variables, self.get_variables),
            ("POST", variables, self.add_variable),
            ("DELETE", variables, self.delete_variable),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                args = match.groupdict()
                if "repo" in args:
                    args["repo_id"] = repo_key(args.pop("kind"), args.pop("repo"))
                return handler(**args, query=parse_qs(url.query))
        self.error(404, message=f"fake hub: no route for {method} {path}")

    # -- endpoints
    def create_repo(self, query):
        if not self.authorised():
            return
        payload = json.loads(self.body())
        kind = payload.get("type", "model")
        if kind == "space" and payload.get("sdk") not in ("gradio", "streamlit", "docker", "static"):
            return self.error(400, message="Invalid Space SDK: choose one of gradio, streamlit, docker, static")
        repo_id = repo_key(kind, f"{payload['organization']}/{payload['name']}")
        with self.hub.lock:
            if repo_id in self.hub.repos:
                # The real Hub's 409 carries the url too; create_repo(exist_ok=True) reads it.
                return self.reply(
                    409, {"error": f"You already created this {kind} repo", "url": f"{self.hub.url}/{repo_id}"}
                )
            settings = {"type": kind, "private": payload.get("visibility") == "private", "variables": {}}
            if kind == "space":
                settings["sdk"] = payload["sdk"]
            self.hub.add_repo(repo_id, **settings)
        self.reply(200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id})

    def validate_yaml(self, query):
        request = json.loads(self.body())
        match = re.match(r"---\n(.*?)\n---\n", request["content"], flags=re.DOTALL)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else None
        except yaml.YAMLError as err:
            return self.reply(400, {"errors": [{"message": str(err)}]})
        if not isinstance(metadata, dict):
            return self.reply(400, {"errors": [{"message": "no metadata block"}]})
        if request.get("repoType") == "space" and "sdk" not in metadata:
            return self.reply(400, {"errors": [{"message": '"sdk" is required'}]})
        self.reply(200, {"errors": [], "warnings": []})

    def preupload(self, repo_id, revision, query):
        if not self.authorised() or (repo := self.repo_or_404(repo_id)) is None:
            return
        current = self.hub.files(repo_id) if repo["main"] else {}
        stored_lfs = self.hub.lfs_paths(repo_id) if repo["main"] else frozenset()
        answer = []
        for item in json.loads(self.body())["files"]:
            # As the Hub decides: binary content (judged on the first 512 bytes) or a large file goes to LFS.
            sample = base64.b64decode(item["sample"])
            binary = is_binary(sample, complete=item["size"] <= len(sample))
            mode = "lfs" if binary or item["size"] >= LFS_THRESHOLD else "regular"
            data = current.get(item["path"])
            # The remote oid as huggingface_hub compares it: sha256 for LFS files, git blob sha1 for others.
            if data is None:
                oid = None
            else:
                oid = hashlib.sha256(data).hexdigest() if item["path"] in stored_lfs else sha.git_hash(data)
            answer.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self.reply(200, {"files": answer, "commitOid": repo["main"]})

    def lfs_batch(self, repo_id, query):
        if not self.authorised() or self.repo_or_404(repo_id) is None:
            return
        objects = []
        for obj in json.loads(self.body())["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.hub.lfs:
                entry["actions"] = {"upload": {"href": f"{self.hub.url}/lfs-upload/{obj['oid']}"}}
            objects.append(entry)
        self.reply(200, {"transfer": "basic", "objects": objects})

    def lfs_put(self, oid, query):
        data = self.body()
        if hashlib.sha256(data).hexdigest() != oid:
            return self.error(400, message="sha256 mismatch")
        self.hub.lfs[oid] = data
        self.reply(200, {})

    def create_commit(self, repo_id, revision, query):
        if not self.authorised() or self.repo_or_404(repo_id) is None:
            return
        lines = [json.loads(line) for line in self.body().splitlines() if line.strip()]
        with self.hub.lock:
            if self.hub.fail_commits > 0:
                self.hub.fail_commits -= 1
                return self.error(503, message="Service Unavailable")
            changes, lfs, deleted, message, binaries = {}, set(), [], "", []
            for line in lines:
                value = line["value"]
                if line["key"] == "header":
                    message = value["summary"]
                elif line["key"] == "file":
                    changes[value["path"]] = base64.b64decode(value["content"])
                    if is_binary(changes[value["path"]]):
                        binaries.append(value["path"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in self.hub.lfs:
                        return self.error(422, message=f"LFS object {value['oid']} was not uploaded")
                    changes[value["path"]] = self.hub.lfs[value["oid"]]
                    lfs.add(value["path"])
                elif line["key"] in ("deletedFile", "deletedFolder"):
                    deleted.append(value["path"])
                else:
                    return self.error(400, message=f"fake hub: unsupported commit op {line['key']}")
            if binaries:
                return self.error(400, message=f"{BINARY_REJECTED} Offending files: {', '.join(binaries)}")
            oid = self.hub.commit(repo_id, changes, message, lfs=lfs, deleted=deleted)
        self.reply(200, {"commitUrl": f"{self.hub.url}/{repo_id}/commit/{oid}", "commitOid": oid})

    def create_tag(self, repo_id, revision, query):
        if not self.authorised() or (repo := self.repo_or_404(repo_id)) is None:
            return
        tag = json.loads(self.body())["tag"]
        with self.hub.lock:
            if tag in repo["tags"]:
                return self.error(409, message="Tag already exists")
            repo["tags"][tag] = self.hub.resolve(repo_id, unquote(revision))
        self.reply(200, {})

    def repo_info(self, repo_id, revision, query):
        if (repo := self.repo_or_404(repo_id)) is None:
            return
        oid = self.hub.resolve(repo_id, revision)
        if oid is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id")
        siblings = [{"rfilename": path} for path in self.hub.files(repo_id, oid)]
        name = repo_id.split("/", 1)[1] if repo_id.count("/") == 2 else repo_id
        info = {"id": name, "sha": oid, "private": repo.get("private", False), "siblings": siblings}
        self.reply(200, {**info, "modelId": name})

    def tree(self, repo_id, revision, prefix, query):
        if self.repo_or_404(repo_id) is None:
            return
        oid = self.hub.resolve(repo_id, revision)
        if oid is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id")
        entries, folders, lfs_paths = [], set(), self.hub.lfs_paths(repo_id, oid)
        for path, data in sorted(self.hub.files(repo_id, oid).items()):
            parts = path.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            entry = {"type": "file", "path": path, "size": len(data), "oid": sha.git_hash(data)}
            if path in lfs_paths:
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            entries.append(entry)
        entries += [{"type": "directory", "path": folder, "oid": "0" * 40} for folder in sorted(folders)]
        self.reply(200, entries)

    def resolve_file(self, repo_id, revision, path, query):
        if self.repo_or_404(repo_id) is None:
            return
        oid = self.hub.resolve(repo_id, unquote(revision))
        files = self.hub.files(repo_id, oid) if oid else {}
        if path not in files:
            return self.error(404, "EntryNotFound", f"{path} does not exist")
        data = files[path]
        etag = hashlib.sha256(data).hexdigest() if path in self.hub.lfs_paths(repo_id, oid) else sha.git_hash(data)
        self.reply(
            200,
            headers={"X-Repo-Commit": oid, "ETag": f'"{etag}"', "Content-Type": "application/octet-stream"},
            raw=data,
        )

    def space_variables(self, repo_id) -> dict | None:
        if not self.authorised() or (repo := self.repo_or_404(repo_id)) is None:
            return None
        return repo["variables"]

    def get_variables(self, repo_id, query):
        if (variables := self.space_variables(repo_id)) is not None:
            self.reply(200, variables)

    def add_variable(self, repo_id, query):
        if (variables := self.space_variables(repo_id)) is None:
            return
        payload = json.loads(self.body())
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        variables[payload["key"]] = {"value": payload["value"], "updatedAt": now}
        if "description" in payload:
            variables[payload["key"]]["description"] = payload["description"]
        self.reply(200, variables)

    def delete_variable(self, repo_id, query):
        if (variables := self.space_variables(repo_id)) is None:
            return
        variables.pop(json.loads(self.body())["key"], None)
        self.reply(200, variables)


@pytest.fixture
def fake_hub():
    hub = FakeHub()
    yield hub
    hub.close()


@pytest.fixture
def online(monkeypatch, tmp_path):
    """Lift the suite's HF_HUB_OFFLINE for this test; LFS basic transfer instead of Xet; a private cache."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(gan.hub.upload, "RETRY_DELAYS", (0.05, 0.05))
    monkeypatch.setattr(gan.hub.upload, "MIN_COMMIT_INTERVAL", 0.0)
    return tmp_path / "hub-cache"


def fake_api(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.url, token=TOKEN)


def hub_env(hub_url: str, home: Path) -> dict[str, str]:
    """Environment for a CLI subprocess talking to the fake hub, with its own HF_HOME (cache and login)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return {
        **env,
        "HF_ENDPOINT": hub_url,
        "HF_TOKEN": TOKEN,
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HOME": str(home),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }


def run_hub_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gan.hub", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def outputs(folder: Path, epochs: list[int]) -> dict[int, torch.Tensor]:
    noise = torch.randn(64, 100, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return {e: Generator.from_pretrained(folder / f"epoch-{e:03d}", strict=True)(noise) for e in epochs}


def test_push_pull_round_trip_through_the_cli(tiny_weights, fake_hub, tmp_path):
    env = hub_env(fake_hub.url, tmp_path / "pusher-home")
    pushed = run_hub_cli(env, "push", str(tiny_weights), "alice/tiny-gan")
    assert pushed.returncode == 0, pushed.stderr
    assert TOKEN not in pushed.stdout + pushed.stderr
    files = fake_hub.files("alice/tiny-gan")
    for epoch in (1, 2, 3):
        for name in ("config.json", "model.safetensors"):
            assert files[f"epoch-{epoch:03d}/{name}"] == (tiny_weights / f"epoch-{epoch:03d}" / name).read_bytes()
        assert (
            files[f"samples/epoch-{epoch:03d}.png"]
            == (tiny_weights / "samples" / f"epoch-{epoch:03d}.png").read_bytes()
        )
    assert files["metrics.json"] == (tiny_weights / "metrics.json").read_bytes()
    card = files["README.md"].decode()
    assert card.startswith("---\n") and "library_name: pytorch" in card and "- mnist" in card and "license: mit" in card
    assert "| 3 |" in card and "samples/epoch-003.png" in card and 'allow_patterns=["epoch-003/*"]' in card
    assert "checkpoint.pt" not in files  # run plumbing stays local
    head = fake_hub.repos["alice/tiny-gan"]["main"]
    assert fake_hub.repos["alice/tiny-gan"]["tags"] == {"epoch-001": head, "epoch-002": head, "epoch-003": head}

    again = run_hub_cli(env, "push", str(tiny_weights), "alice/tiny-gan")
    assert again.returncode == 0 and "up to date" in again.stdout, again.stderr
    assert fake_hub.repos["alice/tiny-gan"]["main"] == head  # nothing unchanged is sent, no empty commit

    fresh = tmp_path / "puller-home"  # a fresh cache: everything below comes over HTTP
    pulled = run_hub_cli({**hub_env(fake_hub.url, fresh), "HF_TOKEN": ""}, "pull", "alice/tiny-gan")
    assert pulled.returncode == 0, pulled.stderr
    folder = Path(pulled.stdout.strip())
    assert folder.is_relative_to(fresh) and (folder / "metrics.json").is_file()
    local, remote = outputs(tiny_weights, [1, 2, 3]), outputs(folder, [1, 2, 3])
    for epoch in (1, 2, 3):
        assert torch.equal(local[epoch], remote[epoch]), f"epoch {epoch} differs after the round trip"


def test_pull_names_a_missing_epoch(tiny_weights, fake_hub, online, monkeypatch, capsys):
    push(tiny_weights, "alice/tiny-gan", api=fake_api(fake_hub))
    with pytest.raises(UsageError) as caught:
        pull("alice/tiny-gan", [2, 9], api=fake_api(fake_hub))
    assert str(caught.value) == "epoch 9 not in alice/tiny-gan (it has epochs 1-3)"
    folder = pull("alice/tiny-gan", [2], api=fake_api(fake_hub))
    assert gan.hub.local_epochs(folder) == [2] and (folder / "samples" / "epoch-002.png").is_file()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # offline, part of the repo cached: use that part
    assert resolve_weights("alice/tiny-gan") == folder
    assert "found in the cache" in capsys.readouterr().err


def test_push_sends_only_what_changed(tiny_weights, fake_hub, online, tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    for item in ("epoch-001", "epoch-002"):
        (weights / item).mkdir()
        for name in ("config.json", "model.safetensors"):
            (weights / item / name).write_bytes((tiny_weights / item / name).read_bytes())
    metrics = json.loads((tiny_weights / "metrics.json").read_text())
    metrics["epochs"] = metrics["epochs"][:2]
    (weights / "metrics.json").write_text(json.dumps(metrics))
    first = push(weights, "bob/gan", api=fake_api(fake_hub))
    assert len(first.uploaded) == 6 and first.commit  # 2 x (config, weights) + metrics + card

    (weights / "epoch-003").mkdir()
    for name in ("config.json", "model.safetensors"):
        (weights / "epoch-003" / name).write_bytes((tiny_weights / "epoch-003" / name).read_bytes())
    (weights / "metrics.json").write_text((tiny_weights / "metrics.json").read_text())
    puts_before = sum(call.startswith("PUT") for call in fake_hub.calls)
    second = push(weights, "bob/gan", api=fake_api(fake_hub))
    assert sorted(second.uploaded) == [
        "README.md",
        "epoch-003/config.json",
        "epoch-003/model.safetensors",
        "metrics.json",
    ]
    assert second.unchanged == 4
    assert sum(call.startswith("PUT") for call in fake_hub.calls) == puts_before + 1  # one new LFS object
    assert fake_hub.repos["bob/gan"]["tags"]["epoch-003"] == second.commit
    assert fake_hub.repos["bob/gan"]["tags"]["epoch-001"] == first.commit


def test_train_pushes_every_epoch_and_retries(fake_hub, online, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gan.hub.upload, "HfApi", functools.partial(HfApi, endpoint=fake_hub.url, token=TOKEN))
    fake_hub.fail_commits = 1  # the first commit meets a 503 and is retried
    out = tiny_train(tmp_path / "run", 3, "--push-to-hub", "carol/live-gan")
    err = capsys.readouterr().err
    files = fake_hub.files("carol/live-gan")
    assert {f"epoch-{e:03d}/model.safetensors" for e in (1, 2, 3)} <= set(files)
    assert files["metrics.json"] == (out / "metrics.json").read_bytes()
    assert "| 3 |" in files["README.md"].decode()
    repo = fake_hub.repos["carol/live-gan"]
    assert set(repo["tags"]) == {"epoch-001", "epoch-002", "epoch-003"}
    for tag, oid in repo["tags"].items():  # each tag marks the commit that added its epoch
        assert f"{tag}/model.safetensors" in repo["commits"][oid]
        parent = [o for o, _ in repo["log"]][[o for o, _ in repo["log"]].index(oid) - 1]
        assert f"{tag}/model.safetensors" not in repo["commits"][parent]
    assert "retrying in the background" in err and "uploaded to" in err and "not uploaded" not in err
    assert TOKEN not in err


def test_unreachable_hub_never_stops_training(online, tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:  # a port with nothing listening: connection refused
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(gan.hub.upload, "HfApi", functools.partial(HfApi, endpoint=dead, token=TOKEN))
    out = tiny_train(tmp_path / "run", 3, "--push-to-hub", "dave/offline-gan")
    err = capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3]
    for epoch in (1, 2, 3):
        Generator.from_pretrained(out / f"epoch-{epoch:03d}", strict=True)
    report = [line for line in err.splitlines() if "not uploaded" in line]
    assert len(report) == 1 and "epochs 1-3 not uploaded to dave/offline-gan" in report[0]
    assert f"python -m gan.hub push {out} dave/offline-gan" in report[0]


def test_uploader_reports_offline_mode(tmp_path, capsys):
    (tmp_path / "epoch-001").mkdir()
    uploader = EpochUploader("erin/gan", tmp_path, api=HfApi(token=TOKEN))  # the suite runs with HF_HUB_OFFLINE=1
    uploader.submit(1)
    assert uploader.close(timeout=30) == [1]
    assert "HF_HUB_OFFLINE is set" in capsys.readouterr().err


def test_resolve_weights_from_cache_offline_and_fallback(tiny_weights, fake_hub, online, tmp_path, monkeypatch, capsys):
    api = fake_api(fake_hub)
    push(tiny_weights, "frank/gan", api=api)
    snapshot = pull("frank/gan", api=api)  # warms the cache at `online`
    capsys.readouterr()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert resolve_weights("frank/gan") == snapshot
    assert resolve_weights(tiny_weights) == tiny_weights  # a local folder stays as is
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    assert resolve_weights("frank/gan", fallback=tmp_path / "bundled") == tmp_path / "bundled"
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "frank/gan" in lines[0] and "bundled" in lines[0]


def test_resolve_weights_downloads_like_the_app(tiny_weights, fake_hub, tmp_path, monkeypatch):
    fake_hub.add_repo("gina/gan")  # an existing repo: create_repo(exist_ok=True) meets a 409
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    push(tiny_weights, "gina/gan", api=fake_api(fake_hub))
    app_env = {**hub_env(fake_hub.url, tmp_path / "app-home"), "HF_TOKEN": ""}
    code = (
        "from gan.hub import resolve_weights, local_epochs; p = resolve_weights('gina/gan'); print(p, local_epochs(p))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=app_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[1, 2, 3]") and str(tmp_path / "app-home") in done.stdout


@pytest.mark.parametrize(
    "repo_id",
    ["alice", "alice/", "a/b/c", "alice/my gan", "-alice/gan", "alice/gan--x", "https://huggingface.co/alice/gan"],
)
def test_bad_repo_ids_are_named(repo_id):
    with pytest.raises(UsageError, match="is not a Hub repo id"):
        check_repo_id(repo_id)
    assert check_repo_id("alice-b/mnist_gan.v2") == "alice-b/mnist_gan.v2"


def test_cli_errors_are_one_line(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(gan.hub.repo, "get_token", lambda: None)
    cases = [
        (["push", str(tiny_weights), "not-a-repo"], "'not-a-repo' is not a Hub repo id"),
        (["push", str(tiny_weights), "alice/gan"], "push needs a Hugging Face token"),
        (["push", str(tmp_path), "alice/gan"], "is not in the weights layout"),
        (["push", str(tmp_path / "nope"), "alice/gan"], "does not exist"),
        (["pull", "alice/gan"], "cannot reach the Hub and alice/gan is not in the cache"),
        (["card", str(tmp_path)], "is not in the weights layout"),
        (["space", "alice/gan"], "space needs a Hugging Face token: set HF_TOKEN or run `hf auth login`"),
        (["space", "alice/gan", "--weights-repo", "nope"], "'nope' is not a Hub repo id"),
        (["space", "alice"], "'alice' is not a Hub repo id"),
    ]
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    for argv, message in cases:
        assert run_cli(lambda argv=argv: gan.hub.main(argv)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and message in err, (argv, err)
    with pytest.raises(UsageError, match="needs a Hugging Face token"):
        EpochUploader("alice/gan", tmp_path)


def test_repo_not_in_layout(fake_hub, online, tiny_weights):
    fake_hub.add_repo("hank/bert", {"pytorch_model.bin": b"\0" * 10, "config.json": b"{}"})
    with pytest.raises(UsageError, match="Hub repo hank/bert is not in the weights layout"):
        pull("hank/bert", api=fake_api(fake_hub))
    with pytest.raises(UsageError, match="Hub repo hank/bert is not in the weights layout"):
        push(tiny_weights, "hank/bert", api=fake_api(fake_hub))


def test_card_command_writes_the_root_card(tiny_weights, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    for item in ("epoch-003", "samples"):
        (folder / item).mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / "epoch-003" / name).write_bytes((tiny_weights / "epoch-003" / name).read_bytes())
    (folder / "samples" / "epoch-003.png").write_bytes((tiny_weights / "samples" / "epoch-003.png").read_bytes())
    metrics = json.loads((tiny_weights / "metrics.json").read_text())
    metrics["reference"] = {"fid": 0.51, "inception_score": 9.7, "digits_present": 10}
    metrics["epochs"][-1].update(fid=12.345, inception_score=7.5, digits_present=9)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert gan.hub.main(["card", str(folder), "--repo-id", "ivy/gan"]) == 0
    card = (folder / "README.md").read_text()
    from huggingface_hub import ModelCard

    data = ModelCard(card).data
    assert data.library_name == "pytorch" and data.license == "mit" and data.datasets == ["mnist"]
    assert {"gan", "mnist"} <= set(data.tags) and data.pipeline_tag == "unconditional-image-generation"
    assert "| real data (floor) | 0.51 | 9.70 | 10/10 |" in card
    assert "| 3 | 12.35 | 7.50 | 9/10 |" in card
    assert "![" in card and "(samples/epoch-003.png)" in card
    assert "`batch_size` | `50`" in card
    assert 'snapshot_download("ivy/gan", allow_patterns=["epoch-003/*"])' in card


def post(hub: FakeHub, path: str, body: bytes, token: str = TOKEN) -> tuple[int, str]:
    """A raw POST to the fake Hub, for requests huggingface_hub itself would never send."""
    request = urllib.request.Request(
        f"{hub.url}{path}", data=body, method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_fake_hub_enforces_the_hub_rules(fake_hub, online):
    api = fake_api(fake_hub)
    api.create_repo("kim/rules")
    png = (REPO_ROOT / "weights" / "classifier" / "model.safetensors").read_bytes()[:4096]
    inline = [
        {"key": "header", "value": {"summary": "inline binary", "description": ""}},
        {"key": "file", "value": {"path": "w.bin", "content": base64.b64encode(png).decode(), "encoding": "base64"}},
    ]
    status, text = post(fake_hub, "/api/models/kim/rules/commit/main", "\n".join(map(json.dumps, inline)).encode())
    assert status == 400 and "Your push was rejected because it contains binary files" in text and "w.bin" in text
    for data in (b"caf\xe9 latin-1", b"text with a \0 NUL"):
        assert is_binary(data)
    assert not is_binary("naïve ✍️ text\n".encode()) and not is_binary("✍".encode()[:2], complete=False)

    # Through the client: preupload sends the binary file to LFS and the text file inline, and both land.
    from huggingface_hub import CommitOperationAdd

    api.create_commit(
        "kim/rules",
        [CommitOperationAdd("w.bin", png), CommitOperationAdd("notes.md", "naïve ✍️\n".encode())],
        commit_message="both",
    )
    assert fake_hub.files("kim/rules")["w.bin"] == png
    assert "w.bin" in fake_hub.lfs_paths("kim/rules") and "notes.md" not in fake_hub.lfs_paths("kim/rules")

    no_sdk = json.dumps({"name": "space", "organization": "kim", "type": "space"}).encode()
    status, text = post(fake_hub, "/api/repos/create", no_sdk)
    assert status == 400 and "SDK" in text and "spaces/kim/space" not in fake_hub.repos


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of this project as a deploy sees it, plus what a deploy must leave out."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("app.py", "requirements.txt", "README.md"):
        shutil.copy2(REPO_ROOT / name, root / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("demo", "gan", "weights", "docs"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=skip)
    left_out = {
        "gan/__pycache__/models.cpython-311.pyc": b"\0compiled",
        "demo/.DS_Store": b"\0",
        "weights/tutorial/checkpoint.pt": b"\0checkpoint",
        "weights/tutorial/.tmp-epoch-201.abc/model.safetensors": b"\0half written",
        "tests/test_app.py": b"assert True\n",
        "runs/mnist/metrics.json": b"{}\n",
        ".cache/x": b"cache",
    }
    for path, data in left_out.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


@pytest.fixture
def space_api(fake_hub, online, project, monkeypatch) -> HfApi:
    """gan.hub.space deploys `project` to the fake Hub."""
    monkeypatch.setattr(gan.hub.space, "PROJECT_ROOT", project)
    monkeypatch.setattr(gan.hub.space, "HfApi", functools.partial(HfApi, endpoint=fake_hub.url, token=TOKEN))
    return fake_api(fake_hub)


def front_matter(readme: bytes) -> dict:
    return yaml.safe_load(re.match(r"---\n(.*?)\n---\n", readme.decode(), flags=re.DOTALL).group(1))


def test_space_deploy_with_weights(fake_hub, space_api, project, capsys):
    assert run_cli(lambda: gan.hub.main(["space", "lena/watch-a-gan"])) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == f"{fake_hub.url}/spaces/lena/watch-a-gan"
    space = "spaces/lena/watch-a-gan"
    assert fake_hub.repos[space]["sdk"] == "gradio" and not fake_hub.repos[space]["private"]
    files, lfs = fake_hub.files(space), fake_hub.lfs_paths(space)
    expected = space_files(project)
    assert set(files) - {".gitattributes"} == set(expected)
    for path, local in expected.items():
        assert files[path] == local.read_bytes(), path
    assert {"app.py", "requirements.txt", "README.md", "gan/hub/space.py", "demo/ui.py"} <= set(files)
    assert "weights/classifier/model.safetensors" in files and "weights/tutorial/epoch-200/model.safetensors" in files
    # The README goes up with every picture it shows, so they show on the Space too (docs/ is not part of the app).
    pictures = readme_pictures(project)
    assert "docs/app-timeline.png" in pictures and "weights/stable/progression.png" in pictures
    assert all(files[path] == (project / path).read_bytes() for path in pictures)
    assert not [p for p in files if p.startswith("docs/") and p not in pictures]
    assert not [p for p in files if p.startswith(("tests/", "runs/", ".cache/")) or "__pycache__" in p or "/." in p]
    assert not [p for p in files if p.endswith("checkpoint.pt")]
    binaries = {path for path, data in files.items() if is_binary(data)}
    assert binaries and binaries <= lfs  # every weight and picture went through LFS, none inline
    assert "app.py" not in lfs and "README.md" not in lfs
    assert files["README.md"] == (project / "README.md").read_bytes()  # front matter intact: the Space's config
    config = front_matter(files["README.md"])
    assert config["sdk"] == "gradio" and config["app_file"] == "app.py" and "models" not in config
    # The Space records its own id: the app tells this shared original from a duplicate (demo/spaces.py).
    assert {key: v["value"] for key, v in fake_hub.repos[space]["variables"].items()} == {
        SHARED_VARIABLE: "lena/watch-a-gan"
    }
    assert f"set the Space variable {SHARED_VARIABLE}=lena/watch-a-gan" in out
    assert f"uploaded {len(expected)} files" in out


def test_space_redeploy_sends_only_what_changed(fake_hub, space_api, project, capsys):
    first = deploy_space("lena/gan-space")
    assert first.commit and first.unchanged == 0
    commits = len(fake_hub.repos["spaces/lena/gan-space"]["log"])
    puts_before = sum(call.startswith("PUT") for call in fake_hub.calls)

    assert run_cli(lambda: gan.hub.main(["space", "lena/gan-space"])) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert len(fake_hub.repos["spaces/lena/gan-space"]["log"]) == commits  # no empty commit

    with (project / "demo" / "ui.py").open("a") as handle:
        handle.write("# edited\n")
    (project / "gan" / "milestones.py").unlink()
    third = deploy_space("lena/gan-space")
    assert third.uploaded == ["demo/ui.py"] and third.deleted == ["gan/milestones.py"]
    assert sum(call.startswith("PUT") for call in fake_hub.calls) == puts_before  # no binary sent again
    files = fake_hub.files("spaces/lena/gan-space")
    assert files["demo/ui.py"].endswith(b"# edited\n") and "gan/milestones.py" not in files


def test_space_redeploy_removes_a_picture_the_readme_no_longer_shows(fake_hub, space_api, project):
    deploy_space("lena/pictures")
    assert "docs/app-train.png" in fake_hub.files("spaces/lena/pictures")
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(re.sub(r"!\[[^\]]*\]\(docs/app-train\.png\)", "", text), encoding="utf-8")
    again = deploy_space("lena/pictures")
    assert again.deleted == ["docs/app-train.png"] and again.uploaded == ["README.md"]
    assert "docs/app-train.png" not in fake_hub.files("spaces/lena/pictures")


def test_space_deploy_with_a_weights_repo(fake_hub, space_api, project, tiny_weights, capsys):
    push(tiny_weights, "lena/tiny-gan", api=space_api)
    assert run_cli(lambda: gan.hub.main(["space", "lena/app", "--weights-repo", "lena/tiny-gan", "--private"])) == 0
    out = capsys.readouterr().out
    space = "spaces/lena/app"
    assert fake_hub.repos[space]["private"]
    files = fake_hub.files(space)
    assert "app.py" in files and "gan/models.py" in files
    # No weights/ but the pictures the README shows.
    assert {path for path in files if path.startswith("weights/")} == {
        path for path in readme_pictures(project) if path.startswith("weights/")
    }
    calls = fake_hub.calls
    assert calls.index("POST /api/spaces/lena/app/variables") < calls.index("POST /api/spaces/lena/app/commit/main")
    assert space_api.get_space_variables("lena/app")[WEIGHTS_VARIABLE].value == "lena/tiny-gan"
    assert f"{WEIGHTS_VARIABLE}=lena/tiny-gan" in out
    config = front_matter(files["README.md"])
    assert config["models"] == ["lena/tiny-gan"] and config["sdk"] == "gradio"

    same = deploy_space("lena/app", weights_repo="lena/tiny-gan")
    assert same.commit is None and not same.variables and not same.deleted

    # Back to the bundled weights: weights/ goes up and the variable goes away.
    back = deploy_space("lena/app")
    assert "weights/classifier/model.safetensors" in back.uploaded and "README.md" in back.uploaded
    assert WEIGHTS_VARIABLE not in space_api.get_space_variables("lena/app")
    # ... and to the repo again: weights/ is removed from the Space.
    again = deploy_space("lena/app", weights_repo="lena/tiny-gan")
    assert again.deleted and all(path.startswith("weights/") for path in again.deleted)
    with pytest.raises(UsageError, match="weights repo lena/nothing not found"):
        deploy_space("lena/app", weights_repo="lena/nothing")


def test_space_deploy_refuses_a_readme_picture_that_is_missing(fake_hub, space_api, project, capsys):
    """A picture the README shows but the folder lacks would be broken on the Space: one line naming it,
    and nothing created."""
    readme = project / "README.md"
    readme.write_text(
        readme.read_text(encoding="utf-8")
        + '\n![gone](docs/gone.png "a title")\n<img alt="x" src="docs/also-gone.png">\n![web](https://x.org/a.png)\n',
        encoding="utf-8",
    )
    assert run_cli(lambda: gan.hub.main(["space", "lena/broken"])) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "README.md shows docs/gone.png, docs/also-gone.png, not found" in err[0]
    assert "spaces/lena/broken" not in fake_hub.repos


def test_readme_pictures_are_files_of_the_project_under_their_repo_paths(tmp_path):
    """Each way of linking a picture gives the file's path in the project, once; web links and anchors are not
    files; a link out of the project folder is refused."""
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    for name in ("a.png", "b c.png", "d.png", "e.png"):
        (root / "docs" / name).write_bytes(b"\x89PNG")
    links = [
        "![a](docs/a.png)",
        "![again](./docs/a.png 'same file')",
        "![spaced](docs/b%20c.png)",
        "![query](docs/d.png?raw=true#gh-dark-mode-only)",
        "<IMG width=200 data-src='no.png' SRC='docs/e.png'>",
        "![web](HTTPS://example.org/x.png) ![anchor](#top) [not a picture](docs/missing.png)",
    ]
    (root / "README.md").write_text("\n".join(links) + "\n", encoding="utf-8")
    assert readme_pictures(root) == ["docs/a.png", "docs/b c.png", "docs/d.png", "docs/e.png"]
    (root / "README.md").write_text("![out](../secret.png)\n", encoding="utf-8")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    with pytest.raises(UsageError, match=r"shows \.\./secret\.png, which is outside"):
        readme_pictures(root)


def test_space_dry_run_from_any_folder(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HF_")}, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "gan.hub", "space", "lena/app", "--dry-run"],
        env={**env, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *rows, total = done.stdout.strip().splitlines()
    listed = {row.split()[1]: int(row.split()[0].replace(",", "")) for row in rows}
    assert {
        "app.py",
        "README.md",
        "requirements.txt",
        "gan/hub/space.py",
        "weights/classifier/model.safetensors",
    } <= set(listed)
    assert not [path for path in listed if "__pycache__" in path or path.startswith(("tests/", "runs/"))]
    assert listed["app.py"] == (REPO_ROOT / "app.py").stat().st_size
    assert total.startswith(f"{len(listed)} files, {sum(listed.values()):,} bytes")


def test_card_snippet_runs_as_written(tiny_weights, fake_hub, online, tmp_path):
    push(tiny_weights, "ivy/snippet-gan", api=fake_api(fake_hub))
    card = fake_hub.files("ivy/snippet-gan")["README.md"].decode()
    assert "## Epochs and tags" in card and "Epochs: 1-3." in card and "`epoch-001` … `epoch-003`" in card
    assert {"gan", "mnist"} <= set(front_matter(card.encode())["tags"])
    snippet = re.search(r"```python\n(.*?)```", card, flags=re.DOTALL).group(1)
    assert 'folder = snapshot_download("ivy/snippet-gan", allow_patterns=["epoch-003/*"])' in snippet
    assert 'Generator.from_pretrained(f"{folder}/epoch-003", strict=True)' in snippet
    reference = tiny_weights / "epoch-003" / "model.safetensors"
    check = (
        "from safetensors.torch import load_file\n"
        f"expected = load_file({str(reference)!r})\n"
        "assert all(torch.equal(generator.state_dict()[k], v) for k, v in expected.items())\n"
        "print(tuple(images.shape), folder)\n"
    )
    env = {**hub_env(fake_hub.url, tmp_path / "reader-home"), "HF_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-c", snippet + check], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("(16, 784) " + str(tmp_path / "reader-home"))
