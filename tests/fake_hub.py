"""A local fake of the Hub's HTTP endpoints, for tests (the fixtures `fake_hub` and `online` in conftest.py use it).

The fake speaks the endpoints huggingface_hub 2.x calls for push, pull, train --push-to-hub and Space deploys (LFS
"basic" transfer; Xet is disabled): repo creation, preupload, LFS batch + PUT, commit, tag, repo info, tree listing,
resolve (HEAD/GET), Space variables. It enforces the rules the real Hub does that matter here: a binary file sent as a
regular (inline) file is refused, preupload sends binary files to LFS, a Space needs an SDK.
"""

import base64
import codecs
import functools
import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import yaml
from huggingface_hub.utils import sha

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
