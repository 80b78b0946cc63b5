"""gan.hub against a local fake of the Hub's HTTP endpoints (tests/fake_hub.py): push, pull, train --push-to-hub,
Space deploys, offline."""

import base64
import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
import yaml
from conftest import tiny_train
from fake_hub import REPO_ROOT, TOKEN, FakeHub, is_binary
from huggingface_hub import HfApi, constants

import gan.hub
import gan.hub.repo
import gan.hub.space
import gan.hub.upload
from gan import Discriminator, Generator
from gan.errors import UsageError, run_cli
from gan.hub import EpochUploader, check_repo_id, pull, push, resolve_weights
from gan.hub.space import SHARED_VARIABLE, WEIGHTS_VARIABLE, deploy_space, readme_pictures, space_files

# huggingface_hub's own LFS PUT passes data=<file> to httpx2, which warns; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")


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


@pytest.mark.slow
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


def test_push_pull_and_card_carry_the_discriminator(tiny_weights, fake_hub, online, tmp_path):
    """D goes up beside G in every epoch, comes back with pull (all epochs or some), loads strictly in float32 and
    scores as before; the card says it is stored in half precision. A run without D pushes and pulls as before."""
    report = push(tiny_weights, "dora/with-d", api=fake_api(fake_hub))
    files = fake_hub.files("dora/with-d")
    for epoch in (1, 2, 3):
        for name in ("config.json", "model.safetensors"):
            path = f"epoch-{epoch:03d}/discriminator/{name}"
            assert path in report.uploaded and files[path] == (tiny_weights / path).read_bytes()
    card = files["README.md"].decode()
    assert "stored in half precision (float16)" in card and "(every epoch)" in card
    assert 'Discriminator.from_pretrained(f"{folder}/epoch-003/discriminator", strict=True)' in card
    images = torch.randn(8, 784, generator=torch.Generator().manual_seed(0)).tanh()
    local = Discriminator.from_pretrained(tiny_weights / "epoch-002" / "discriminator", strict=True).float()
    for epochs in (None, [2]):
        folder = pull("dora/with-d", epochs, api=fake_api(fake_hub))
        remote = Discriminator.from_pretrained(folder / "epoch-002" / "discriminator", strict=True).float()
        assert next(remote.parameters()).dtype == torch.float32
        with torch.no_grad():
            assert torch.equal(local(images), remote(images))

    without = tmp_path / "without-d"
    shutil.copytree(tiny_weights, without)
    for folder in without.glob("epoch-*/discriminator"):
        shutil.rmtree(folder)
    report = push(without, "dora/no-d", api=fake_api(fake_hub))
    assert not [path for path in fake_hub.files("dora/no-d") if "discriminator" in path]
    assert "Discriminator" not in fake_hub.files("dora/no-d")["README.md"].decode().split("## Load one epoch")[1]
    assert gan.hub.local_epochs(pull("dora/no-d", api=fake_api(fake_hub))) == [1, 2, 3]


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


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert "| real data (floor) | 0.51 | 9.70 | – | 10/10 |" in card  # no not-a-digit share in this floor
    assert "| 3 | 12.35 | 7.50 | – | 9/10 |" in card
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
    assert "docs/app-timeline.png" in pictures  # the README's picture of the page
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
    picture = "docs/app-timeline.png"
    assert picture in fake_hub.files("spaces/lena/pictures")
    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(re.sub(rf"!\[[^\]]*\]\({re.escape(picture)}\)", "", text), encoding="utf-8")
    again = deploy_space("lena/pictures")
    assert again.deleted == [picture] and again.uploaded == ["README.md"]
    assert picture not in fake_hub.files("spaces/lena/pictures")


def test_space_deploy_with_a_weights_repo(fake_hub, space_api, project, tiny_weights, capsys):
    push(tiny_weights, "lena/tiny-gan", api=space_api)
    assert run_cli(lambda: gan.hub.main(["space", "lena/app", "--weights-repo", "lena/tiny-gan", "--private"])) == 0
    out = capsys.readouterr().out
    space = "spaces/lena/app"
    assert fake_hub.repos[space]["private"]
    files = fake_hub.files(space)
    assert "app.py" in files and "gan/models.py" in files
    # No weights/ but the pictures the README shows, and the real test digits the Discriminator views score.
    assert {path for path in files if path.startswith("weights/")} == {
        path for path in readme_pictures(project) if path.startswith("weights/")
    } | {"weights/real-digits.safetensors"}
    assert files["weights/real-digits.safetensors"] == (project / "weights" / "real-digits.safetensors").read_bytes()
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
    assert "weights/real-digits.safetensors" not in again.deleted  # the app reads it whatever serves the runs
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


@pytest.mark.slow
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


@pytest.mark.slow
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
