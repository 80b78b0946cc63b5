"""gan.hub against a local fake of the Hub's HTTP endpoints: push, pull, train --push-to-hub, offline paths.

The fake speaks the endpoints huggingface_hub 2.x calls for these operations (LFS "basic" transfer; Xet is
disabled): repo creation, preupload, LFS batch + PUT, commit, tag, repo info, tree listing, resolve (HEAD/GET).
"""

import base64
import functools
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
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
import gan.hub.upload
from gan import Generator
from gan.errors import UsageError, run_cli
from gan.hub import EpochUploader, check_repo_id, pull, push, resolve_weights

# huggingface_hub's own LFS PUT passes data=<file> to httpx2, which warns; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

TOKEN = "hf_fake_token_for_tests"
REPO_ROOT = Path(__file__).resolve().parent.parent
LFS_SUFFIXES = (".safetensors", ".png", ".bin", ".pt")


class FakeHub:
    """In-memory model repos: commits (path -> bytes), branch main, tags, LFS objects by sha256."""

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.lfs: dict[str, bytes] = {}
        self.fail_commits = 0  # answer this many commit calls with 503 first
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(FakeHubHandler, hub=self))
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_repo(self, repo_id: str, files: dict[str, bytes] | None = None) -> None:
        self.repos[repo_id] = {"commits": {}, "main": None, "tags": {}, "log": []}
        self.commit(
            repo_id,
            {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", **(files or {})},
            "initial commit",
        )

    def commit(self, repo_id: str, changes: dict[str, bytes], message: str) -> str:
        repo = self.repos[repo_id]
        files = dict(repo["commits"][repo["main"]]) if repo["main"] else {}
        files.update(changes)
        oid = hashlib.sha1(f"{repo['main']}{message}{sorted(changes)}{len(repo['log'])}".encode()).hexdigest()
        repo["commits"][oid] = files
        repo["main"] = oid
        repo["log"].append((oid, message))
        return oid

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return repo["commits"][self.resolve(repo_id, revision)]

    def resolve(self, repo_id: str, revision: str) -> str | None:
        repo = self.repos[repo_id]
        if revision == "main":
            return repo["main"]
        return repo["tags"].get(revision) or (revision if revision in repo["commits"] else None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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

    def route(self, method: str) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        self.hub.calls.append(f"{method} {path}")
        routes = [
            ("POST", r"/api/repos/create", self.create_repo),
            ("POST", r"/api/validate-yaml", self.validate_yaml),
            ("POST", r"/api/models/([^/]+/[^/]+)/preupload/([^/]+)", self.preupload),
            ("POST", r"/([^/]+/[^/]+)\.git/info/lfs/objects/batch", self.lfs_batch),
            ("PUT", r"/lfs-upload/([0-9a-f]{64})", self.lfs_put),
            ("POST", r"/api/models/([^/]+/[^/]+)/commit/([^/]+)", self.create_commit),
            ("POST", r"/api/models/([^/]+/[^/]+)/tag/([^/]+)", self.create_tag),
            ("GET", r"/api/models/([^/]+/[^/]+)/revision/([^/]+)", self.repo_info),
            ("GET", r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", self.tree),
            ("GET", r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", self.resolve_file),
            ("HEAD", r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", self.resolve_file),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(*match.groups(), query=parse_qs(url.query))
        self.error(404, message=f"fake hub: no route for {method} {path}")

    # -- endpoints
    def create_repo(self, query):
        if not self.authorised():
            return
        payload = json.loads(self.body())
        repo_id = f"{payload['organization']}/{payload['name']}"
        with self.hub.lock:
            if repo_id in self.hub.repos:
                # The real Hub's 409 carries the url too; create_repo(exist_ok=True) reads it.
                return self.reply(
                    409, {"error": "You already created this model repo", "url": f"{self.hub.url}/{repo_id}"}
                )
            self.hub.add_repo(repo_id)
        self.reply(200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id})

    def validate_yaml(self, query):
        content = json.loads(self.body())["content"]
        match = re.match(r"---\n(.*?)\n---\n", content, flags=re.DOTALL)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else None
        except yaml.YAMLError as err:
            return self.reply(400, {"errors": [{"message": str(err)}]})
        if not isinstance(metadata, dict):
            return self.reply(400, {"errors": [{"message": "no metadata block"}]})
        self.reply(200, {"errors": [], "warnings": []})

    def preupload(self, repo_id, revision, query):
        if not self.authorised() or (repo := self.repo_or_404(repo_id)) is None:
            return
        current = self.hub.files(repo_id) if repo["main"] else {}
        answer = []
        for item in json.loads(self.body())["files"]:
            mode = "lfs" if item["path"].endswith(LFS_SUFFIXES) else "regular"
            data = current.get(item["path"])
            # The remote oid as huggingface_hub compares it: sha256 for LFS files, git blob sha1 for others.
            oid = None if data is None else (hashlib.sha256(data).hexdigest() if mode == "lfs" else sha.git_hash(data))
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
            changes, message = {}, ""
            for line in lines:
                value = line["value"]
                if line["key"] == "header":
                    message = value["summary"]
                elif line["key"] == "file":
                    changes[value["path"]] = base64.b64decode(value["content"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in self.hub.lfs:
                        return self.error(422, message=f"LFS object {value['oid']} was not uploaded")
                    changes[value["path"]] = self.hub.lfs[value["oid"]]
                else:
                    return self.error(400, message=f"fake hub: unsupported commit op {line['key']}")
            oid = self.hub.commit(repo_id, changes, message)
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
        if self.repo_or_404(repo_id) is None:
            return
        oid = self.hub.resolve(repo_id, revision)
        if oid is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id")
        siblings = [{"rfilename": path} for path in self.hub.files(repo_id, oid)]
        self.reply(200, {"id": repo_id, "modelId": repo_id, "sha": oid, "private": False, "siblings": siblings})

    def tree(self, repo_id, revision, prefix, query):
        if self.repo_or_404(repo_id) is None:
            return
        oid = self.hub.resolve(repo_id, revision)
        if oid is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id")
        entries, folders = [], set()
        for path, data in sorted(self.hub.files(repo_id, oid).items()):
            parts = path.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            entry = {"type": "file", "path": path, "size": len(data), "oid": sha.git_hash(data)}
            if path.endswith(LFS_SUFFIXES):
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
        etag = hashlib.sha256(data).hexdigest() if path.endswith(LFS_SUFFIXES) else sha.git_hash(data)
        self.reply(
            200,
            headers={"X-Repo-Commit": oid, "ETag": f'"{etag}"', "Content-Type": "application/octet-stream"},
            raw=data,
        )


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
