"""demo/gradio_fixes.py: for each work-around of Gradio's internals, a canary that shows the bug or the cost on
Gradio without it (red, "Gradio fixed this: delete the work-around", once Gradio no longer shows it), a test that the
work-around does its job, and the version check (nothing applied on another Gradio, one line in the log).

No canary times anything on its own: they count calls, check behaviour or compare two costs with a wide margin.
The browser fixture is this file's own (tests/conftest.py may later hold a shared one).
"""

import json
import logging
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import numpy as np
import pytest
from conftest import free_port
from gradio import mcp, processing_utils, route_utils, state_holder
from gradio.queueing import Queue
from PIL import Image, PngImagePlugin

from demo import gradio_fixes, widgets
from demo.engine import PNG_CACHE, Engine, load_run, png_bytes
from demo.gradio_fixes import (
    ANALYTICS_ENV,
    ANALYTICS_SUMMARY_EVERY,
    GRADIO_ENCODE_PIL,
    GRADIO_SAVE_PIL,
    GRADIO_SESSION_STATE,
    LazySessionState,
)
from demo.runs import load_specs
from demo.ui import build_demo, launch_options

FIXED = "Gradio fixed this: delete the work-around"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
FRONTEND = Path(gr.__file__).parent / "templates" / "frontend"


def canary(still_there: bool, what: str) -> None:
    assert still_there, f"{FIXED}: {what}"


def small_blocks() -> gr.Blocks:
    with gr.Blocks() as blocks:
        name = gr.Textbox(label="Name", value="ada")
        count = gr.Number(label="Count", value=1)
        with gr.Row():
            button = gr.Button("Go")
        button.click(lambda text, n: (text.upper(), n + 1), [name, count], [name, count], api_name="go")
    return blocks


def call(http: httpx.Client, api_name: str, data: list, session_hash: str | None = None) -> list:
    """POST /gradio_api/call/NAME, then read the event's result stream to its end; the output data."""
    body = {"data": data} | ({"session_hash": session_hash} if session_hash else {})
    event = http.post(f"/gradio_api/call/{api_name}", json=body).json()
    stream = http.get(f"/gradio_api/call/{api_name}/{event['event_id']}").text
    assert "event: complete" in stream, stream
    return [json.loads(line[5:]) for line in stream.splitlines() if line.startswith("data:")][-1]


def launched(blocks: gr.Blocks, **options) -> str:
    _, url, _ = blocks.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **options
    )
    return url


@pytest.fixture
def gradio_as_it_is(monkeypatch):
    """The process-wide work-arounds undone for one test (build_demo applied them for the whole test session)."""
    for module in gradio_fixes.SESSION_MODULES:
        monkeypatch.setattr(module, "SessionState", GRADIO_SESSION_STATE)
    monkeypatch.setattr(processing_utils, "encode_pil_to_bytes", GRADIO_ENCODE_PIL)
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", GRADIO_SAVE_PIL)
    monkeypatch.delenv(ANALYTICS_ENV, raising=False)


# ---- the version check ------------------------------------------------------------------------------------------


def test_on_the_pinned_gradio_every_work_around_is_applied(gradio_as_it_is, monkeypatch):
    assert gr.__version__ == gradio_fixes.PINNED, "the pinned Gradio is the one requirements.txt installs"
    blocks = gr.Blocks()
    startup = len(blocks.extra_startup_events)
    assert gradio_fixes.apply(blocks)
    assert all(module.SessionState is LazySessionState for module in (state_holder, route_utils, mcp))
    assert processing_utils.encode_pil_to_bytes is gradio_fixes.encode_pil_to_bytes
    assert processing_utils.save_pil_to_cache is gradio_fixes.save_pil_to_cache
    assert os.environ[ANALYTICS_ENV] == str(ANALYTICS_SUMMARY_EVERY)
    assert len(blocks.extra_startup_events) == startup + 2  # the housekeeping task, the MCP answers' install
    assert gradio_fixes.controls_head() == gradio_fixes.CONTROLS_HEAD
    assert gradio_fixes.INNER_DOM_CSS in launch_options()["css"]
    assert launch_options()["head"] == gradio_fixes.CONTROLS_HEAD


def test_on_another_gradio_nothing_is_applied_and_one_line_says_so(gradio_as_it_is, monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(gr, "__version__", "6.32.0")
    blocks = gr.Blocks()
    startup = len(blocks.extra_startup_events)
    with caplog.at_level(logging.INFO, logger="demo.gradio_fixes"):
        assert not gradio_fixes.apply(blocks)
    lines = [record.getMessage() for record in caplog.records if record.name == "demo.gradio_fixes"]
    assert len(lines) == 1 and "6.32.0" in lines[0] and "6.31.0" in lines[0] and "not applied" in lines[0], lines
    assert all(module.SessionState is GRADIO_SESSION_STATE for module in (state_holder, route_utils, mcp))
    assert processing_utils.encode_pil_to_bytes is GRADIO_ENCODE_PIL
    assert ANALYTICS_ENV not in os.environ
    assert len(blocks.extra_startup_events) == startup
    assert gradio_fixes.controls_head() == "" and gradio_fixes.inner_dom_css() == ""
    assert launch_options()["head"] == "" and gradio_fixes.INNER_DOM_CSS not in launch_options()["css"]
    picture = gradio_fixes.name_downloads(gr.Image(format="png", type="pil", render=False))
    assert "postprocess" not in vars(picture)  # Gradio's own
    (tmp_path / "served.png").write_bytes(b"png")
    served = SimpleNamespace(blocks={}, temp_file_sets=[{str(tmp_path / "served.png")}])
    assert gradio_fixes.sweep_at_exit(served) == 0 and (tmp_path / "served.png").exists()


def test_the_app_on_another_gradio_logs_one_line_and_serves(tiny_weights, gradio_as_it_is, monkeypatch, caplog):
    monkeypatch.setattr(gr, "__version__", "7.0.0")
    with caplog.at_level(logging.INFO, logger="demo"):
        demo = build_demo(load_specs([str(tiny_weights)])).queue()
    lines = [record.getMessage() for record in caplog.records if record.name == "demo.gradio_fixes"]
    assert len(lines) == 1 and "7.0.0" in lines[0], lines
    url = launched(demo, **launch_options())
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            picture = call(http, "generate", [Path(tiny_weights).name, 3, 5, 2, False])[0]
        assert picture["orig_name"] == "image.png"  # Gradio's own name: the download naming is not applied
        assert isinstance(state_holder.SessionState, type) and state_holder.SessionState is GRADIO_SESSION_STATE
    finally:
        demo.close()


# ---- lazy sessions ----------------------------------------------------------------------------------------------


def count_config_builds(monkeypatch) -> list:
    built = []
    config_class = gr.Blocks().default_config.__class__
    original = config_class.config_for_block

    def counting(*args, **kwargs):
        built.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(config_class, "config_for_block", staticmethod(counting))
    return built


def test_canary_gradio_builds_every_block_s_config_for_each_new_session(monkeypatch):
    blocks = small_blocks()
    built = count_config_builds(monkeypatch)
    GRADIO_SESSION_STATE(blocks)
    canary(len(built) >= len(blocks.blocks) > 3, f"a new session built {len(built)} of {len(blocks.blocks)} configs")


def test_a_lazy_session_builds_no_config_until_one_is_asked_for(monkeypatch):
    blocks = small_blocks()
    built = count_config_builds(monkeypatch)
    session = LazySessionState(blocks)
    assert built == []
    textbox = next(key for key, block in blocks.blocks.items() if isinstance(block, gr.Textbox))
    assert session.config_values[textbox]["props"]["value"] == "ada" and built == [textbox]
    # tests/test_sessions.py: the same state as Gradio's own, and the deep-link route given the same configs


# ---- the app's PNG encoder --------------------------------------------------------------------------------------


def count_pillow_png_saves(monkeypatch) -> list:
    saves = []
    original = PngImagePlugin._save

    def counting(image, fp, filename, *args, **kwargs):
        saves.append(image.mode)
        return original(image, fp, filename, *args, **kwargs)

    monkeypatch.setitem(Image.SAVE, "PNG", counting)
    return saves


def test_canary_gradio_saves_pictures_with_pillow_s_slower_png_encoder(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setattr(processing_utils, "encode_pil_to_bytes", GRADIO_ENCODE_PIL)
    saves = count_pillow_png_saves(monkeypatch)
    engine = Engine(load_run(tiny_weights))
    picture = engine.seed_grid(engine.epochs[-1], 3, 10)
    processing_utils.save_pil_to_cache(picture, str(tmp_path), format="png")
    canary(saves == ["L"], "Gradio no longer saves a PIL picture with Pillow's PNG encoder")
    monkeypatch.setitem(Image.SAVE, "PNG", PngImagePlugin._save)
    pixels = np.asarray(picture)
    pillow, ours = [], []
    for _ in range(7):  # this thread's CPU time, alternating, the minimum of each: other work on the machine aside
        start = time.thread_time()
        GRADIO_ENCODE_PIL(picture, "png")
        pillow.append(time.thread_time() - start)
        PNG_CACHE.clear()
        start = time.thread_time()
        png_bytes(pixels)
        ours.append(time.thread_time() - start)
    # Measured about 5x (benchmarks/results/bench_gradio_fixes.txt); red only when under 2x.
    canary(min(pillow) > 2 * min(ours), f"Pillow's PNG {min(pillow) * 1e3:.2f} ms, the app's {min(ours) * 1e3:.2f} ms")


def test_gradio_saves_greyscale_pictures_with_the_app_s_encoder_losslessly(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setattr(processing_utils, "encode_pil_to_bytes", GRADIO_ENCODE_PIL)
    gradio_fixes.install_png_encoder()
    saves = count_pillow_png_saves(monkeypatch)
    engine = Engine(load_run(tiny_weights))
    noise = np.random.default_rng(0).integers(0, 256, (37, 53), dtype=np.uint8)
    noise[5:9] = noise[4]  # repeated rows ("Up"), and the first row ("Sub" from zero)
    pictures = [engine.seed_grid(engine.epochs[-1], 3, 4), Image.fromarray(noise), Image.new("L", (1, 1))]
    for picture in pictures:
        expected = np.array(picture)
        saved = processing_utils.save_pil_to_cache(picture, str(tmp_path), format="png")
        assert Path(saved).read_bytes() == png_bytes(expected)
        with Image.open(saved) as back:
            assert back.format == "PNG" and back.mode == "L" and np.array_equal(np.asarray(back), expected)
    assert saves == []  # none went through Pillow's encoder
    colour = Image.new("RGB", (4, 4), (10, 200, 30))
    with_text = Image.new("L", (4, 4), 9)
    with_text.info["Comment"] = "kept"
    for other in (colour, with_text):  # not greyscale, or with metadata: Gradio's (Pillow's) way, unchanged
        saved = processing_utils.save_pil_to_cache(other, str(tmp_path), format="png")
        with Image.open(saved) as back:
            assert back.mode == other.mode and np.array_equal(np.asarray(back), np.asarray(other))
    assert saves == ["RGB", "L"]
    assert processing_utils.save_pil_to_cache(colour, str(tmp_path), format="webp").endswith(".webp")


# ---- picture files written whole ---------------------------------------------------------------------------------


def noisy_picture() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 300), dtype=np.uint8))


def test_canary_gradio_rewrites_a_cached_picture_in_place(tmp_path):
    """Saved again, the same picture is written into the very file (same inode) that a request may be sending."""
    picture = noisy_picture()
    path = GRADIO_SAVE_PIL(picture, str(tmp_path), format="png")
    with open(path, "rb") as being_sent:
        GRADIO_SAVE_PIL(picture, str(tmp_path), format="png")
        same_file = os.fstat(being_sent.fileno()).st_ino == os.stat(path).st_ino
    canary(same_file, "Gradio no longer rewrites a cached picture's file in place")


def short_reads(save, folder: Path, reads: int = 2000) -> int:
    """How many whole-file reads of a cached picture come back short while a thread saves it again and again."""
    picture = noisy_picture()
    path = save(picture, str(folder), format="png")
    size, stop, short = os.path.getsize(path), threading.Event(), 0

    def saving() -> None:
        while not stop.is_set():
            save(picture, str(folder), format="png")

    writer = threading.Thread(target=saving)
    writer.start()
    try:
        for _ in range(reads):
            with open(path, "rb") as file:
                short += len(file.read()) != size
    finally:
        stop.set()
        writer.join()
    return short


def test_a_picture_saved_again_is_never_read_short_and_leaves_no_part_file(tmp_path):
    picture = noisy_picture()
    path = gradio_fixes.save_pil_to_cache(picture, str(tmp_path), format="png")
    assert path == GRADIO_SAVE_PIL(picture, str(tmp_path / "gradio"), format="png").replace(
        str(tmp_path / "gradio"), str(tmp_path)
    )  # the same place Gradio would use: the hash of the bytes, then the name
    with Image.open(path) as back:
        assert np.array_equal(np.asarray(back), np.asarray(picture))
    with open(path, "rb") as being_sent:
        gradio_fixes.save_pil_to_cache(picture, str(tmp_path), format="png")
        assert os.fstat(being_sent.fileno()).st_ino != os.stat(path).st_ino  # a new file renamed in
        assert len(being_sent.read()) == os.path.getsize(path)  # the file being sent is whole
    assert short_reads(gradio_fixes.save_pil_to_cache, tmp_path) == 0
    assert sorted(p.name for p in Path(path).parent.iterdir()) == ["image.png"]


def test_a_failed_write_leaves_neither_a_part_file_nor_a_half_picture(tmp_path, monkeypatch):
    picture = noisy_picture()
    path = Path(gradio_fixes.save_pil_to_cache(picture, str(tmp_path), format="png"))
    whole = path.read_bytes()

    def disk_full(self, data):  # a part file half written, then the disk is full
        with open(self, "wb") as file:
            file.write(data[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError, match="No space left"):
        gradio_fixes.save_pil_to_cache(picture, str(tmp_path), format="png")
    monkeypatch.undo()
    assert path.read_bytes() == whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["image.png"]


# ---- the queue's monitoring summary -----------------------------------------------------------------------------


GRADIO_GET_DF = Queue._get_df  # a staticmethod: the plain function


def summaries_after_events(monkeypatch, events: int) -> int:
    """How many times a new queue rebuilds its monitoring summary over `events` finished events."""
    queue = gr.Blocks().queue()._queue
    rebuilt = []
    monkeypatch.setattr(Queue, "_get_df", staticmethod(lambda records: rebuilt.append(1) or GRADIO_GET_DF(records)))
    record = {"time": 0.0, "status": "success", "process_time": 0.01, "function": "go", "session_hash": "s"}
    for index in range(events):
        queue.events_recorded += 1
        queue.compute_analytics_summary([record | {"time": float(index)}])
    return len(rebuilt)


def test_canary_gradio_rebuilds_the_monitoring_summary_after_every_event(monkeypatch):
    monkeypatch.delenv(ANALYTICS_ENV, raising=False)
    rebuilt = summaries_after_events(monkeypatch, 5)
    canary(rebuilt == 5, f"the summary was rebuilt {rebuilt} times over 5 events")


def test_the_queue_rebuilds_its_summary_once_per_analytics_summary_every_events(monkeypatch):
    monkeypatch.delenv(ANALYTICS_ENV, raising=False)
    gradio_fixes.summarise_queue_rarely()
    assert summaries_after_events(monkeypatch, 5) == 0
    monkeypatch.setenv(ANALYTICS_ENV, "2")  # a value set by whoever runs the app is kept
    gradio_fixes.summarise_queue_rarely()
    assert os.environ[ANALYTICS_ENV] == "2" and summaries_after_events(monkeypatch, 5) == 2


# ---- finished sessions ------------------------------------------------------------------------------------------


def test_canary_gradio_keeps_an_entry_for_every_finished_session():
    blocks = small_blocks().queue()
    url = launched(blocks)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            assert call(http, "go", ["lin", 4], session_hash="s1") == ["LIN", 5]
            assert call(http, "go", ["ada", 1]) == ["ADA", 2]  # a session of its own
        pending = blocks._queue.pending_event_ids_session
        canary(pending.get("s1") == set() and len(pending) == 2, f"after two finished calls the queue holds {pending}")
    finally:
        blocks.close()


def test_finished_sessions_are_dropped_and_running_ones_kept():
    pending = {"done": set(), "running": {"event-1"}, "also done": set()}
    blocks = SimpleNamespace(_queue=SimpleNamespace(pending_event_ids_session=pending))
    assert gradio_fixes.drop_finished_sessions(blocks) == 2 and pending == {"running": {"event-1"}}
    assert gradio_fixes.drop_finished_sessions(SimpleNamespace()) == 0  # no queue: nothing to do


def test_a_served_app_lets_go_of_finished_sessions_and_answers_as_before(monkeypatch):
    monkeypatch.setattr(gradio_fixes, "FINISHED_SESSIONS_S", 0.2)
    blocks = small_blocks()
    gradio_fixes.keep_house(blocks)
    blocks.queue()
    url = launched(blocks)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            for index in range(4):
                assert call(http, "go", [f"user{index}", index]) == [f"USER{index}", index + 1]
            pending = blocks._queue.pending_event_ids_session
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                time.sleep(0.1)
            assert pending == {}
            assert call(http, "go", ["again", 9]) == ["AGAIN", 10]
    finally:
        blocks.close()


# ---- the cache sweep --------------------------------------------------------------------------------------------


def cached_files(folder: Path, count: int, prefix: str = "") -> set[str]:
    for index in range(count):
        (folder / f"{prefix}{index}.png").write_bytes(b"png")
    return {str(folder / f"{prefix}{index}.png") for index in range(count)}


def removing_while_a_request_adds(files: set[str], folder: Path):
    """os.remove, but each removal lets a request hand out a new file (added to `files`), as traffic does."""
    added = []

    def remove(path):
        os.unlink(path)
        added.append(str(folder / f"new-{len(added)}.png"))
        files.add(added[-1])

    return remove


def test_canary_gradio_s_own_sweep_dies_when_a_file_is_handed_out_meanwhile(tmp_path, monkeypatch):
    files = cached_files(tmp_path, 5)
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[files])
    monkeypatch.setattr(route_utils, "os", SimpleNamespace(remove=removing_while_a_request_adds(files, tmp_path)))
    try:
        route_utils.delete_files_created_by_app(blocks, None)
        died = False
    except RuntimeError as err:
        died = "changed size during iteration" in str(err)
    canary(died, "Gradio's delete_files_created_by_app finished while files were added to the set it sweeps")


def test_the_app_s_sweep_survives_files_handed_out_meanwhile(tmp_path, monkeypatch):
    files = cached_files(tmp_path, 5)
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[files])
    monkeypatch.setattr(gradio_fixes.os, "remove", removing_while_a_request_adds(files, tmp_path))
    assert gradio_fixes.sweep_cache(blocks, age=-1) == 5
    assert not list(tmp_path.glob("[0-9]*.png")) and len(files) == 5  # the five handed out meanwhile stay listed


def test_cache_sweep_deletes_old_copies_and_keeps_young_and_kept_ones(tmp_path):
    handed_out, kept = cached_files(tmp_path, 5), str(tmp_path / "initial-value.png")
    (tmp_path / "initial-value.png").write_bytes(b"png")
    blocks = SimpleNamespace(blocks={1: SimpleNamespace(keep_in_cache={kept})}, temp_file_sets=[handed_out, {kept}])
    assert gradio_fixes.sweep_cache(blocks, age=3600) == 0  # all younger than an hour
    assert gradio_fixes.sweep_cache(blocks, age=-1) == 5  # all "older" than -1 s, except a component's own value
    assert handed_out == set() and sorted(p.name for p in tmp_path.iterdir()) == ["initial-value.png"]
    assert Path(kept).exists() and blocks.temp_file_sets[1] == {kept}
    assert gradio_fixes.sweep_at_exit(blocks) == 0 and Path(kept).exists()


def test_cache_sweep_survives_a_thread_adding_files_while_it_runs(tmp_path):
    files = cached_files(tmp_path, 3000)
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[files])
    stop = threading.Event()

    added = []

    def requests_adding_files() -> None:
        while not stop.is_set():
            added.append(str(tmp_path / f"new-{len(added)}.png"))
            files.add(added[-1])  # not written yet: the sweep passes over it
            # Let the sweep have the interpreter back at once, as a request between two others would (spinning
            # here held it for the 5 ms switch interval after each of the sweep's deletions: 20 s a run).
            time.sleep(0)

    adder = threading.Thread(target=requests_adding_files)
    adder.start()
    try:
        deleted = gradio_fixes.sweep_cache(blocks, age=-1)
    finally:
        stop.set()
        adder.join()
    assert deleted == 3000 and not list(tmp_path.glob("[0-9]*.png"))
    assert len(added) > 100, f"only {len(added)} files were handed out while the sweep ran"


# ---- downloads named after what they show -----------------------------------------------------------------------


def test_canary_gradio_calls_every_picture_image_png():
    picture = widgets.named(Image.new("L", (8, 8), 7), "tutorial", 3, 42)
    saved = gr.Image(format="png", type="pil", render=False).postprocess(picture)
    canary(saved.orig_name == "image.png", f"Gradio named the file {saved.orig_name}")


def test_a_named_picture_is_saved_under_its_name_and_others_as_gradio_does():
    image = gradio_fixes.name_downloads(gr.Image(format="png", image_mode="L", type="pil", render=False))
    picture = widgets.named(Image.new("L", (8, 8), 7), "tutorial", 3, 42, "labels")
    saved = image.postprocess(picture)
    assert saved.orig_name == "tutorial-epoch-3-seed-42-labels.png" and Path(saved.path).name == saved.orig_name
    with Image.open(saved.path) as back:
        assert np.array_equal(np.asarray(back), np.asarray(picture))
    assert image.postprocess(Image.new("L", (8, 8), 7)).orig_name == "image.png"
    assert image.postprocess(None) is None
    first = widgets.named(Image.new("L", (8, 8), 9), "stable", 2, 5)  # a value it is made with: named too, kept
    made = gradio_fixes.name_downloads(gr.Image(first, format="png", type="pil", render=False), first)
    assert made.value["orig_name"] == "stable-epoch-2-seed-5.png" and made.value["path"] in made.keep_in_cache


# ---- CSS aimed at the inside of Gradio's components -------------------------------------------------------------


def test_every_gradio_class_the_css_aims_at_is_still_in_gradio_s_frontend():
    """Not a canary of a bug: a class Gradio renamed would leave a rule of INNER_DOM_CSS aiming at nothing."""
    frontend = " ".join(path.read_text(errors="ignore") for path in (FRONTEND / "assets").glob("*.[jc]s*"))
    for name in gradio_fixes.GRADIO_CLASSES:
        assert f".{name}" in gradio_fixes.INNER_DOM_CSS, name
        assert name in frontend, f"Gradio's frontend has no class {name}: review INNER_DOM_CSS"


# ---- in a browser: number boxes, crisp pixels -------------------------------------------------------------------


@pytest.fixture
def page():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1000, "height": 800})
        finally:
            browser.close()


def slider_app() -> gr.Blocks:
    with gr.Blocks() as blocks:
        slider = gr.Slider(0, 10, value=3, step=1, label="Size", elem_id="size")
        shown = gr.Textbox(label="Shown", elem_id="shown")
        gr.Image(Image.new("L", (4, 4), 128), format="png", type="pil", elem_classes="pixels", elem_id="pic")
        slider.input(lambda value: str(value), slider, shown, api_name="size", trigger_mode="always_last")
    return blocks.queue()


def join_requests(page) -> list[str]:
    """The body of every event the page sends from now on (Gradio's queue/join), in order."""
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.post_data or "") if "queue/join" in request.url else None)
    return calls


def type_25(page, url: str):
    """Open `url` and type 25 into the slider's number box key by key (no Enter); the box."""
    page.goto(url, wait_until="domcontentloaded")
    box = page.locator("#size input[type=number]")
    box.wait_for(timeout=60_000)
    box.click()
    box.press("Control+a")
    box.type("25", delay=50)
    return box


def wait_for_calls(page, calls: list, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while len(calls) < count and time.monotonic() < deadline:
        page.wait_for_timeout(100)


def test_canary_gradio_sends_every_keystroke_of_a_number_box_and_draws_pixels_smoothed(page):
    blocks = slider_app()
    url = launched(blocks)  # no head script, no CSS of the app
    try:
        calls = join_requests(page)
        type_25(page, url)
        wait_for_calls(page, calls, 1)
        canary(len(calls) >= 1, "typing 25 into a slider's number box sent no event before Enter")
        rendering = page.locator("#pic img").first.evaluate("img => getComputedStyle(img).imageRendering")
        canary(rendering == "auto", f"Gradio draws a picture with image-rendering: {rendering}")
    finally:
        blocks.close()


def test_with_the_head_script_a_typed_value_is_sent_once_clamped_on_enter(page):
    blocks = slider_app()
    url = launched(blocks, head=gradio_fixes.CONTROLS_HEAD, css=gradio_fixes.INNER_DOM_CSS)
    try:
        calls = join_requests(page)
        box = type_25(page, url)
        page.wait_for_timeout(2000)  # what Gradio alone sends at once (the canary above) has been held back
        assert calls == []
        box.press("Enter")
        wait_for_calls(page, calls, 1)
        page.wait_for_timeout(500)
        assert len(calls) == 1 and json.loads(calls[0])["data"] == [10]
        page.wait_for_function("() => document.querySelector('#shown textarea')?.value === '10'", timeout=60_000)
        assert page.locator("#size input[type=number]").input_value() == "10"
        rendering = page.locator("#pic img").first.evaluate("img => getComputedStyle(img).imageRendering")
        assert rendering in ("pixelated", "crisp-edges")
    finally:
        blocks.close()
