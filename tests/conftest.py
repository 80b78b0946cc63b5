"""Shared fixtures and helpers: a tiny real training run on generated digits (made once per test session), the app
launched in the test's process, a fake Hub, and Chromium for the browser tests.

Markers (declared in pytest.ini): `browser` for a test that drives Chromium (given to every test that asks for the
`browser` fixture, here), `slow` for one that starts processes, trains for real or runs for many seconds. The fast
lane, `python -m pytest -m "not slow and not browser"`, leaves both out; a plain `python -m pytest` (CI) runs all.
"""

import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's cache of served files (a gigabyte or two over the suite, apps started as children included) goes in a
# folder of the session's own, deleted at its end, rather than piling up in the shared /tmp/gradio.
OWN_GRADIO_TEMP = None if "GRADIO_TEMP_DIR" in os.environ else tempfile.mkdtemp(prefix="gan-tests-gradio-")
if OWN_GRADIO_TEMP:
    os.environ["GRADIO_TEMP_DIR"] = OWN_GRADIO_TEMP

import contextlib  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fake_hub import FakeHub  # noqa: E402

from gan.data import write_fake_mnist  # noqa: E402
from gan.train import STOP_ON_SIGINT, parse_args, train  # noqa: E402

# The Your digit tab's nearest training images come from a small generated MNIST (never a download, the same on
# every machine) unless GAN_DATA_DIR is set; tests that want the real one say so.
OWN_DATA_DIR = None if "GAN_DATA_DIR" in os.environ else tempfile.mkdtemp(prefix="gan-tests-mnist-")
if OWN_DATA_DIR:
    write_fake_mnist(OWN_DATA_DIR)
    os.environ["GAN_DATA_DIR"] = OWN_DATA_DIR

TINY_ARGS = ["--dataset", "fake", "--fake-size", "400", "--batch-size", "50", "--no-progress", "--classifier", ""]


def tiny_train(out: Path, epochs: int = 3, *extra: str) -> Path:
    """Train `epochs` real epochs on 400 generated digits into `out` (seconds on a CPU)."""
    train(parse_args([*TINY_ARGS, "--epochs", str(epochs), "--out", str(out), *extra]))
    return out


ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = ROOT / "artifacts"  # git-ignored; screenshots are handy to look at after a run


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(trylast=True)  # after pytest's own teardown of the fixtures still open (apps serving from it)
def pytest_sessionfinish(session, exitstatus):
    if OWN_GRADIO_TEMP:
        shutil.rmtree(OWN_GRADIO_TEMP, ignore_errors=True)
    if OWN_DATA_DIR:
        shutil.rmtree(OWN_DATA_DIR, ignore_errors=True)


def start_trainer(*args: str) -> subprocess.Popen:
    """`python -m gan.train ARGS` as a child process, stderr merged into stdout (one pipe to drain, so it
    cannot fill and stall the child); stdout carries one summary line per epoch."""
    return subprocess.Popen(
        [sys.executable, "-m", "gan.train", *args],
        cwd=ROOT,
        # SIGINT stands for Ctrl-C in these tests, also when pytest itself runs in the background with it ignored.
        env={**os.environ, "PYTHONPATH": str(ROOT), STOP_ON_SIGINT: "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def signal_after_epoch(process: subprocess.Popen, epoch: int, sig: int = signal.SIGKILL) -> str:
    """Send `sig` the moment the child reports epoch `epoch` done (its summary line comes after the
    checkpoint), then wait for it to end; returns everything it printed. A condition, not a timer, so
    machine speed does not matter as long as the run has more to do after that epoch."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("epoch ") and int(line.split()[1]) >= epoch:
            process.send_signal(sig)
            break
    rest, _ = process.communicate(timeout=120)
    return "".join(seen) + rest


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights folder in the shipped layout: epoch-001..003/, samples/, metrics.json."""
    return tiny_train(tmp_path_factory.mktemp("tiny-run"), 3)


def perturbed_run(source: Path, out: Path, noise: float = 0.1, seed: int = 0) -> Path:
    """A copy of run folder `source` with Gaussian noise added to every Generator weight: a second run
    with the same epochs and metrics that draws different digits from the same latents."""
    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(source, out)
    generator = torch.Generator().manual_seed(seed)
    for weights in sorted(out.glob("epoch-*/model.safetensors")):
        state = load_file(weights)
        noisy = {name: t + noise * torch.randn(t.shape, generator=generator) for name, t in state.items()}
        save_file(noisy, weights, metadata={"format": "pt"})
    return out


@pytest.fixture(scope="session")
def two_runs(tiny_weights, tmp_path_factory) -> Path:
    """A folder of runs as weights/ is: tutorial/ (the tiny run, epochs 1-3), stable/ (it perturbed, epochs 1-2
    only), classifier/ (not a run)."""
    root = tmp_path_factory.mktemp("two-runs")
    shutil.copytree(tiny_weights, root / "tutorial")
    shutil.rmtree(perturbed_run(tiny_weights, root / "stable") / "epoch-003")
    (root / "classifier").mkdir()
    (root / "classifier" / "info.json").write_text("{}")
    return root


@contextlib.contextmanager
def launched(demo):
    """Serve `demo` (a gr.Blocks, queued) on a free local port with the app's launch options; yields its URL."""
    from demo.ui import launch_options

    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **launch_options()
    )
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture
def fake_hub():
    """A fake of the Hub's HTTP endpoints on a local port (tests/fake_hub.py)."""
    hub = FakeHub()
    yield hub
    hub.close()


@pytest.fixture
def online(monkeypatch, tmp_path):
    """Lift the suite's HF_HUB_OFFLINE for this test; LFS basic transfer instead of Xet; a private cache."""
    from huggingface_hub import constants

    import gan.hub.upload

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(gan.hub.upload, "RETRY_DELAYS", (0.05, 0.05))
    monkeypatch.setattr(gan.hub.upload, "MIN_COMMIT_INTERVAL", 0.0)
    return tmp_path / "hub-cache"


def pytest_collection_modifyitems(items):
    """A test that asks for Chromium is a browser test, marked or not."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def sync_playwright():
    """Playwright's sync API; the test skips, saying how to get it, without playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    return sync_playwright


@pytest.fixture
def browser(sync_playwright):
    """A fresh Chromium for each test."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def two_runs_url(two_runs, sync_playwright):
    """The app in this process on `two_runs` (or on APP_WEIGHTS, any --weights value, when it is set)."""
    from demo.runs import load_specs, split_specs
    from demo.ui import build_demo

    specs = split_specs(os.environ.get("APP_WEIGHTS") or str(two_runs))
    with launched(build_demo(load_specs(specs)).queue(default_concurrency_limit=8)) as url:
        yield url


def src_changes(page, selector: str, before: str) -> None:
    """Wait until the picture at `selector` shows another file than `before`."""
    page.wait_for_function(
        "([selector, before]) => { const img = document.querySelector(selector); return img && img.src !== before; }",
        arg=[selector, before],
        timeout=30_000,
    )


def save_screenshot(page, tmp_path: Path, name: str, full_page: bool = True) -> Path:
    """A screenshot under the test's tmp dir, copied to artifacts/ and, when SCREENSHOT_DIR is set, there too."""
    path = tmp_path / name
    page.screenshot(path=path, full_page=full_page)
    copies = [ARTIFACTS] + ([Path(os.environ["SCREENSHOT_DIR"])] if os.environ.get("SCREENSHOT_DIR") else [])
    for folder in copies:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / name)
        except OSError:
            pass  # a read-only checkout still passes; the copy under tmp_path is the record
    return path
