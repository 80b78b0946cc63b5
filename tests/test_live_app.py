"""The Train tab end to end: the app launched with live training on (generated digits), driven through gradio_client.

Start a run and watch it grow, refuse a second Start, stop it, find it in the other tabs, survive a kill -9 of the
trainer, reject bad settings in one line, and save the run to a fake Hub.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
from conftest import free_port, launched
from fake_hub import TOKEN, FakeHub
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from demo.live import LiveOptions, LiveSettings, LiveTrainer
from demo.runs import load_specs
from demo.tabs import train
from demo.ui import build_demo

pytestmark = pytest.mark.slow  # a live trainer as a child process, app.py as one too
ROOT = Path(__file__).resolve().parent.parent
FAKE = ("--dataset", "fake", "--fake-size", "400", "--batch-size", "50")  # with the judge: FID, IS, histogram
LONG = 500  # epochs: more than any test waits for
SETTINGS = list(vars(LiveSettings(epochs=LONG)).values())


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LiveTrainer:
    trainer = LiveTrainer(
        LiveOptions(
            root=tmp_path_factory.mktemp("live"), max_epochs=LONG, trainer_args=FAKE, threads=1, stop_grace_s=30
        )
    )
    yield trainer
    trainer.close()


@pytest.fixture(scope="module")
def app_url(two_runs, live):
    with launched(build_demo(load_specs([str(two_runs)]), live=live).queue(default_concurrency_limit=8)) as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


@pytest.fixture
def idle(client, live):
    """No live run in progress when the test begins."""
    if live.status(watched=False).running:
        client.predict(api_name="/live_stop")
    return client


def wait_status(client: Client, predicate, timeout: float = 90.0) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.predict(api_name="/live_status")
        if predicate(answer[0]):
            return answer
        time.sleep(0.1)
    raise AssertionError(f"no such status within {timeout} s; last: {answer[0]}")


def test_the_api_lists_the_live_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/live_start"]["parameters"]] == list(train.SETTINGS)
    assert endpoints["/live_stop"]["parameters"] == endpoints["/live_status"]["parameters"] == []
    assert [p["parameter_name"] for p in endpoints["/live_push"]["parameters"]] == ["repo_id"]  # no token field


def test_start_watch_two_epochs_refuse_a_second_start_then_stop(idle, live):
    client = idle
    summary = client.predict(*SETTINGS, api_name="/live_start")[0]
    assert summary["state"] == "starting" and summary["run"].startswith("live-")
    seen = {}
    deadline = time.monotonic() + 120
    while len(seen) < 2 and time.monotonic() < deadline:  # two different epoch updates, each with its grid
        status, cards, grid, losses, outputs, fid, inception = client.predict(api_name="/live_status")
        if status["epoch"] and status["epoch"] not in seen:
            seen[status["epoch"]] = np.asarray(Image.open(grid))
            assert f"{status['epoch']} / {LONG}" in cards and "Everyone on this page watches this run" in cards
            assert {row[2] for row in losses["data"]} == {"D loss", "G loss"}
            assert max(row[0] for row in fid["data"]) == status["epoch"]
            assert set(status["scores"]) == {
                "fid",
                "inception_score",
                "digits_present",
                "class_histogram",
                "not_a_digit",
                "eval_samples",
            }
        time.sleep(0.05)
    assert len(seen) == 2, seen.keys()
    first, second = seen.values()
    assert first.shape == second.shape == (10 * 30 * 2 + 4, 10 * 30 * 2 + 4)  # 10x10 bank, 28 px tiles, scale 2
    with pytest.raises(AppError, match=r"A live run is already training .*The trainer is free in"):
        client.predict(*SETTINGS, api_name="/live_start")
    stopped, cards, *_ = client.predict(api_name="/live_stop")
    assert live._run.done.wait(30) and live._run.returncode == 130  # the trainer's Ctrl-C exit: no SIGKILL
    assert stopped["state"] == "stopped" and f"epochs 1-{stopped['epoch']} are kept" in stopped["message"]
    assert f"listed in the other tabs as {stopped['run']}" in cards
    again, cards_again, *_ = client.predict(api_name="/live_stop")  # nothing to stop: one line, not an error
    assert again["state"] == "stopped" and "Nothing is training: press Start" in cards_again
    assert cards_again.count('class="note live-line') == 1

    # The run is now one of the runs every other tab draws from.
    name, last = stopped["run"], stopped["epoch"]
    image, stats = client.predict(name, last, 5, 4, api_name="/generate")
    # (A Stop that lands between an epoch's export and its record leaves that epoch's weights too: "of last + 1".)
    assert Image.open(image).mode == "L" and any(f"<b>{last}</b><small>of {n}<" in stats for n in (last, last + 1))
    with pytest.raises(AppError, match=f"run must be one of .*'{name}'"):
        client.predict("nope", 1, 5, 4, api_name="/generate")
    fid_plot = client.predict(name, last, api_name="/plots")[2]
    assert [row[0] for row in fid_plot["data"] if row[2] == "FID"] == list(range(1, last + 1))


def test_every_run_choice_on_the_page_lists_the_live_run(idle, live):
    name = live.status(watched=False).name
    *dropdowns, _ = idle.predict(api_name="/run_choices")  # what an opening page (and its timer) gets
    assert len(dropdowns) >= 6  # Generate, Timeline (run and second run), Interpolate, Edit, Compare A and B
    for update in dropdowns:
        labels = {value: label for label, value in update["choices"]}
        assert labels[name].startswith(f"{name} (fast, ") and labels[name].endswith(" epochs)")


def test_kill_9_of_the_trainer_is_reported_and_the_app_keeps_serving(idle, live):
    client = idle
    client.predict(*SETTINGS, api_name="/live_start")
    wait_status(client, lambda s: s["epoch"] >= 1)
    os.kill(live._process.pid, signal.SIGKILL)
    status, cards, *_ = wait_status(client, lambda s: s["state"] == "crashed")
    assert status["message"].startswith("The trainer was killed (SIGKILL) during epoch")
    assert "The trainer was killed (SIGKILL)" in cards and "live-error" in cards
    image, _ = client.predict("tutorial", 3, 1, 2, api_name="/generate")
    assert Image.open(image).mode == "L"
    client.predict(*SETTINGS[:-1], 1, api_name="/live_start")  # free again


@pytest.mark.parametrize(
    ("position", "value", "message"),
    [
        (0, "fancy", "recipe must be one of 'tutorial', 'stable', 'fast'"),
        (1, 0.5, "lr must be a number from 1e-05 to 0.01; got 0.5"),
        (2, -1, "beta1 must be a number from 0 to 0.99"),
        (6, 2.5, "seed must be a whole number"),
        (7, LONG + 1, f"epochs must be a whole number from 1 to {LONG}"),
    ],
)
def test_bad_settings_get_one_line(idle, position, value, message):
    args = list(SETTINGS)
    args[position] = value
    with pytest.raises(AppError, match=message) as caught:
        idle.predict(*args, api_name="/live_start")
    assert "\n" not in str(caught.value)


def test_nan_settings_are_refused(idle, app_url):
    base = f"{app_url.rstrip('/')}/gradio_api/call/live_start"
    args = "[" + ", ".join("NaN" if i == 1 else json.dumps(v) for i, v in enumerate(SETTINGS)) + "]"
    event = httpx.post(base, content=f'{{"data": {args}}}', headers={"content-type": "application/json"}).json()
    assert "lr must be a number" in httpx.get(f"{base}/{event['event_id']}", timeout=30).text


def test_save_to_the_hub(idle, live, fake_hub, online, monkeypatch, tmp_path):
    client = idle
    if not live.status(watched=False).epoch:
        client.predict(*SETTINGS[:-1], 2, api_name="/live_start")
        wait_status(client, lambda s: s["state"] == "finished")
    name, epoch = live.status(watched=False).name, live.status(watched=False).epoch
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored login either
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(AppError, match="Saving to the Hub needs a token: set HF_TOKEN"):
        client.predict("erin/live-gan", api_name="/live_push")
    with pytest.raises(AppError, match="repo_id must be a Hub repo id"):
        client.predict("not a repo", api_name="/live_push")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(train, "hub_api", lambda token: fake_api(fake_hub, token))
    line = client.predict("erin/live-gan", api_name="/live_push")
    assert line.startswith(f"Saved {name} (epochs 1-{epoch},") and "[erin/live-gan]" in line
    files = fake_hub.files("erin/live-gan")
    assert {f"epoch-{e:03d}/model.safetensors" for e in range(1, epoch + 1)} <= set(files)
    again = client.predict("erin/live-gan", api_name="/live_push")
    assert "already holds" in again


def fake_api(hub: FakeHub, token: str):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=token)


def test_on_a_space_saving_uses_the_signed_in_token(live, fake_hub, online, monkeypatch):
    if not live.status(watched=False).epoch:
        live.start(LiveSettings(epochs=1))
        live._run.done.wait(90)
    monkeypatch.setattr(train, "on_space", lambda: True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # a Space's own secret is not the visitor's: never used for them
    monkeypatch.setattr(train, "hub_api", lambda token: fake_api(fake_hub, token))
    handlers = train.Handlers(None, live)
    with pytest.raises(gr.Error, match=r"Saving to the Hub needs a token: sign in with Hugging Face \(the button"):
        handlers.live_push("erin/space-live", None)
    signed_in = gr.OAuthToken(token=TOKEN, scope="openid profile manage-repos", expires_at=int(time.time()) + 600)
    assert handlers.live_push("erin/space-live", signed_in).startswith("Saved ")
    assert "epoch-001/model.safetensors" in fake_hub.files("erin/space-live")


def test_a_space_page_has_the_sign_in_button(two_runs, live, monkeypatch):
    import gradio.oauth

    monkeypatch.setenv("SPACE_ID", "erin/watch-a-gan-learn")
    monkeypatch.setattr(gradio.oauth, "get_space", lambda: "erin/watch-a-gan-learn")  # Gradio's own test of it
    for name, value in [
        ("OAUTH_CLIENT_ID", "id"),
        ("OAUTH_CLIENT_SECRET", "secret"),
        ("OAUTH_SCOPES", "openid profile manage-repos"),
        ("OPENID_PROVIDER_URL", "https://huggingface.co"),  # only asked at sign-in, which this test does not do
    ]:
        monkeypatch.setattr(gradio.oauth, name, value)
    demo = build_demo(load_specs([str(two_runs)]), live).queue()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        config = httpx.get(f"{url.rstrip('/')}/config").json()
        assert any(c.get("props", {}).get("value") == "Sign in with Hugging Face" for c in config["components"])
        routes = {getattr(route, "path", None) for route in demo.server_app.routes}
        assert {"/login/huggingface", "/login/callback"} <= routes  # the real sign-in (it needs the Hub to finish)
    finally:
        demo.close()


def test_app_py_stops_its_trainer_when_it_is_stopped(two_runs, tmp_path):
    """`python app.py` with its flags: a live run, then SIGTERM (how a Space or a container stops an app)."""
    port, root = free_port(), tmp_path / "live"
    command = [
        *(sys.executable, "app.py", "--weights", str(two_runs), "--port", str(port), "--live-dir", str(root)),
        *("--live-max-epochs", str(LONG), "--live-threads", "1", "--live-trainer-args", " ".join(FAKE)),
    ]
    cache, temp = tmp_path / "gradio-cache", tmp_path / "temp"  # Gradio's served files; the app's GIFs
    temp.mkdir()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(cache), "TMPDIR": str(temp)}
    app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while not ready(url):
            assert app.poll() is None and time.monotonic() < deadline, app.stderr.read() if app.poll() else "slow"
            time.sleep(0.2)
        client = Client(url, verbose=False, download_files=False)
        client.predict("tutorial", 1, 7, 3, False, api_name="/generate")  # seed 7: no picture on the page has it
        client.predict(*SETTINGS, api_name="/live_start")
        wait_status(client, lambda s: s["epoch"] >= 1)
        (meta_path,) = root.glob("live-*.json")
        pid = json.loads(meta_path.read_text())["pid"]
        assert [path for path in cache.rglob("*seed-7*.png")]  # the request's picture, in Gradio's cache
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 143
    meta = json.loads(meta_path.read_text())
    assert meta["state"] == "stopped" and meta["message"].startswith("Stopped (the app was shut down)")
    assert not LiveTrainer._is_our_trainer(pid, root / meta["name"])
    # Nothing left behind but the page's own pictures (Gradio keeps those): no copy of what requests got, no GIFs.
    left = sorted(path.name for path in cache.rglob("*") if path.is_file())
    assert left and not [name for name in left if "seed-7" in name], left
    assert not [path for path in temp.iterdir() if path.name.startswith("gan-demo-gifs-")]


def ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
