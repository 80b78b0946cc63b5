"""Everything in the app that touches Gradio's internals, for Gradio 6.31.0 only.

Each work-around below says what it works around on Gradio 6.31.0, what that costs, and the command that measured
it (`python -m benchmarks.bench_gradio_fixes`, saved in benchmarks/results/bench_gradio_fixes.txt). Each has a
canary in tests/test_gradio_fixes.py that shows the bug or the cost on Gradio *without* the work-around and fails
with "Gradio fixed this: delete the work-around" once Gradio no longer shows it, and a test that it does its job.

On any other Gradio version none of them is applied: `apply` logs one line saying so and the app runs on Gradio as
it is (slower per new session, a download called image.png, a number box that sends each keystroke, ...).
`pinned()` is the one version check; every piece here asks it.

The work-arounds:
- lazy sessions (`LazySessionState`): no copy of every block's config per new session;
- the app's PNG encoder for Gradio's picture files (`encode_pil_to_bytes`);
- picture files written whole, never truncated under a reader (`save_pil_to_cache`);
- the queue's monitoring summary rebuilt once per ANALYTICS_SUMMARY_EVERY events (an environment setting);
- finished sessions let go of by the queue (`drop_finished_sessions`);
- a cache sweep that survives traffic (`sweep_cache`);
- downloads named after what they show (`name_downloads`);
- number boxes that apply a typed value when it is committed (`CONTROLS_HEAD`, a page-wide script);
- CSS aimed at the inside of Gradio's components (`INNER_DOM_CSS`);
- raw REST calls with a value too few or too many told the endpoint's parameters (`answer_every_caller`);
- an MCP tool whose endpoint returns a picture answers with the picture (`mcp_answers_with_every_output`).
"""

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterator
from copy import copy
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from gradio import mcp, processing_utils, route_utils, state_holder
from gradio.data_classes import ImageData
from PIL import Image

from demo.engine import png_bytes

__all__ = [
    "CONTROLS_HEAD",
    "INNER_DOM_CSS",
    "PINNED",
    "LazySessionState",
    "apply",
    "controls_head",
    "drop_finished_sessions",
    "inner_dom_css",
    "name_downloads",
    "pinned",
    "sweep_cache",
]
log = logging.getLogger(__name__)
PINNED = "6.31.0"  # the Gradio version every work-around here was written for and measured on


def pinned() -> bool:
    """True on the Gradio version the work-arounds were made for; on any other, none is applied."""
    return gr.__version__ == PINNED


def apply(blocks: gr.Blocks) -> bool:
    """Apply the process-wide work-arounds and start `blocks`' housekeeping (call before `blocks.queue()`).
    On another Gradio version: nothing, and one line in the log. Returns whether they were applied."""
    if not pinned():
        log.warning(
            "Gradio %s is not %s: the app's work-arounds of Gradio's internals (demo/gradio_fixes.py) are not "
            "applied; the app runs on Gradio as it is.",
            gr.__version__,
            PINNED,
        )
        return False
    install_lazy_sessions()
    install_png_encoder()
    install_atomic_cache_writes()
    summarise_queue_rarely()
    keep_house(blocks)
    answer_every_caller(blocks)
    mcp_answers_with_every_output(blocks)
    return True


# ---- lazy sessions ----------------------------------------------------------------------------------------------
GRADIO_SESSION_STATE = state_holder.SessionState
SESSION_MODULES = (state_holder, route_utils, mcp)  # each binds the name SessionState for itself


class LazyConfigValues(dict):
    """`SessionState.config_values`: block id -> config dict, each entry built from the session's block the first
    time it is looked up. Iterating (the deep-link route) yields every block's entry, in page order."""

    def __init__(self, session: "LazySessionState", ids: set[int]):
        super().__init__()
        self._session, self._ids = session, ids

    def _build(self, key: int) -> dict:
        blocks_config = self._session.blocks_config
        value = blocks_config.config_for_block(key, [], blocks_config.blocks[key])
        super().__setitem__(key, value)
        return value

    def __missing__(self, key: int) -> dict:
        if key not in self._ids or key not in self._session.blocks_config.blocks:
            raise KeyError(key)
        return self._build(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (key in self._ids and key in self._session.blocks_config.blocks)

    def complete(self) -> None:
        """Build every entry not built yet, and put them all in the order of the session's blocks, as Gradio's
        eager copy has them (entries for blocks added later keep their place after those)."""
        blocks = self._session.blocks_config.blocks
        built = dict(super().items())
        ordered = {key: built[key] if key in built else None for key in blocks if key in self._ids}
        ordered.update(built)
        super().clear()
        for key, value in ordered.items():
            if value is None:
                self._build(key)
            else:
                super().__setitem__(key, value)

    def items(self):
        self.complete()
        return super().items()

    def values(self):
        self.complete()
        return super().values()

    def keys(self):
        self.complete()
        return super().keys()

    def __iter__(self) -> Iterator[int]:
        self.complete()
        return super().__iter__()

    def __len__(self) -> int:
        self.complete()
        return super().__len__()


class LazySessionState(GRADIO_SESSION_STATE):
    """Gradio's SessionState with its `config_values` built on demand (LazyConfigValues); the rest of its
    `__init__` as Gradio's (a test compares a fresh instance of each, attribute by attribute).

    Gradio 6.31.0 builds, for every new session, the config of every block on the page: `SessionState.__init__` calls
    `config_for_block` (so `get_config()`, with its `inspect.signature`) for each of them. That copy is read in one
    place only, the deep-link route, and Gradio already fills a missing entry where it writes one
    (`_update_value_in_config`). A REST call without a `session_hash` is a session of its own, so each such call paid
    for the copy: for this app's 217 blocks 16.0 ms of CPU by Gradio's SessionState against 0.05 ms by
    LazySessionState (`python -m benchmarks.bench_gradio_fixes`, "new session"; 11.6-13.1 ms on a quieter machine,
    `python -m benchmarks.bench_app`, benchmarks/results/bench_app.txt), more than the whole rest of a request (about
    12 ms of server CPU, benchmarks/results/bench_app_versions.txt), and each session Gradio keeps held 217 config
    dicts. `LazySessionState` builds an entry when it is first written or read, and the whole copy, in page order,
    only when the deep-link route asks for it.
    """

    def __init__(self, blocks: Any):
        self.blocks_config = copy(blocks.default_config)
        self.config_values = LazyConfigValues(self, set(blocks.blocks))
        self.state_data: dict[int, Any] = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def install_lazy_sessions() -> None:
    """Make every new Gradio session in this process a LazySessionState (idempotent)."""
    for module in SESSION_MODULES:
        if getattr(module, "SessionState", None) in (GRADIO_SESSION_STATE, LazySessionState):
            module.SessionState = LazySessionState


# ---- the app's PNG encoder --------------------------------------------------------------------------------------
GRADIO_ENCODE_PIL = processing_utils.encode_pil_to_bytes


def encode_pil_to_bytes(pil_image: Image.Image, format: str = "png") -> bytes:
    """Gradio's encode_pil_to_bytes, except that a one-frame greyscale PNG without metadata is written by the
    app's encoder (demo.engine.png_bytes): the same pixels, about five times faster.

    Gradio 6.31.0 saves every PIL picture a handler returns with Pillow's PNG encoder
    (`processing_utils.save_pil_to_cache` -> `encode_pil_to_bytes` -> `image.save(buffer, "png", pnginfo=...)`), which
    tries every PNG filter on every row, and it has no setting for that. The app's pictures are greyscale and
    upscaled, so `demo.engine.png_bytes` (one filter chosen per row, remembered by the pixels in PNG_CACHE) writes the
    same pixels losslessly in a fifth of the time: a 10x10 grid (604 px) 5.4 ms of CPU by Pillow, 1.0 ms by the
    app's encoder; a 4x4 grid 2.8 against 0.6 ms; one digit 0.9 against 0.4 ms (`python -m
    benchmarks.bench_gradio_fixes`, "PNG"): up to 36% of a request's server CPU; a picture asked for again is not
    encoded again (PNG_CACHE). Rebinding `encode_pil_to_bytes` in processing_utils (its one caller, save_pil_to_cache,
    looks it up there) hands greyscale PNGs without metadata to png_bytes, and everything else to Gradio's.
    """
    plain = pil_image.mode == "L" and not pil_image.info and getattr(pil_image, "n_frames", 1) == 1
    if plain and str(format).lower() == "png":
        return png_bytes(np.asarray(pil_image))
    return GRADIO_ENCODE_PIL(pil_image, format)


def install_png_encoder() -> None:
    """Have Gradio save greyscale PNGs with the app's encoder (idempotent)."""
    processing_utils.encode_pil_to_bytes = encode_pil_to_bytes


# ---- picture files written whole ---------------------------------------------------------------------------------
GRADIO_SAVE_PIL = processing_utils.save_pil_to_cache


def save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's save_pil_to_cache, except that the file is written beside its place and renamed into it, so a
    request that is reading it meanwhile reads the whole picture.

    Gradio 6.31.0 names a cached picture by the hash of its bytes and writes it with `Path.write_bytes`, in place,
    every time it is returned: the same picture asked for twice at once (two visitors on the default view, or a page
    and a script asking for the same epoch) truncates the file that the first request is still sending. The first
    caller then gets a cut-short body: a broken picture in the page, or "peer closed connection without sending
    complete message body" in gradio_client (seen once in a full test run). Rewriting a 90 KB picture in a loop
    while reading it, 86 and 1,413 of 3,000 reads came back short on Gradio's way (two runs) and 0 of 3,000 this
    way; one save took 0.43 ms Gradio's way and 0.47 ms this way (`python -m benchmarks.bench_gradio_fixes`,
    "whole files"). The new file gets
    a new ctime, so the cache sweep ages a picture from the last time it was handed out.
    """
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    part = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        part.write_bytes(data)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return str(target)


def install_atomic_cache_writes() -> None:
    """Have Gradio write each picture file beside its place and rename it in (idempotent)."""
    processing_utils.save_pil_to_cache = save_pil_to_cache


# ---- the queue's monitoring summary -----------------------------------------------------------------------------
ANALYTICS_SUMMARY_EVERY = 1000
ANALYTICS_ENV = "GRADIO_ANALYTICS_CACHE_FREQUENCY"


def summarise_queue_rarely() -> None:
    """Queues made after this rebuild their monitoring summary once per ANALYTICS_SUMMARY_EVERY events.

    After every event Gradio 6.31.0's queue rebuilds its monitoring summary (`Queue.compute_analytics_summary`): a
    pandas DataFrame of its last 10,000 events, grouped by function, with percentiles. Only the monitoring page reads
    it, which this app does not serve. One rebuild costs 4.6 ms of CPU with 100 events kept, 5.9 ms with 1,000 and
    16.8 ms with 10,000 (`python -m benchmarks.bench_gradio_fixes`, "monitoring summary"), 38-140% of a request's
    server CPU, after every request. Gradio reads how often to rebuild it from the environment
    (GRADIO_ANALYTICS_CACHE_FREQUENCY, default 1) when a queue is made (`Blocks.queue()`, queueing.Queue.__init__;
    not at import), so it is set here, before that, unless it is set already.
    """
    os.environ.setdefault(ANALYTICS_ENV, str(ANALYTICS_SUMMARY_EVERY))


# ---- housekeeping: finished sessions, the cache sweep ------------------------------------------------------------
FINISHED_SESSIONS_S = 60.0  # how often the queue lets go of the sessions whose events have all finished


def drop_finished_sessions(blocks: gr.Blocks) -> int:
    """Drop the queue's entries for sessions with no event left; returns how many (call on the event loop). Why:
    keep_house."""
    pending = getattr(getattr(blocks, "_queue", None), "pending_event_ids_session", None)
    if not isinstance(pending, dict):
        return 0
    finished = [session for session, ids in pending.items() if not ids]
    for session in finished:
        del pending[session]
    return len(finished)


def sweep_cache(blocks: gr.Blocks, age: float) -> int:
    """Delete the files the app handed out (Gradio's per-component sets of cached files) whose ctime is more than
    `age` seconds ago, except components' own values; returns how many. It iterates snapshots of the sets, which
    requests keep adding to from the event loop, so it cannot fail the way Gradio's own sweep does (keep_house)."""
    keep = set()
    for block in list(blocks.blocks.values()):
        keep.update(getattr(block, "keep_in_cache", ()))
    now, deleted = time.time(), 0
    for files in list(blocks.temp_file_sets):
        for file in list(files):  # a snapshot: list() of a set does not let another thread in
            if file in keep:
                continue
            try:
                if now - os.lstat(file).st_ctime <= age:
                    continue
                os.remove(file)
                deleted += 1
            except FileNotFoundError:
                pass  # already gone (Gradio's sweep, or the folder was cleared)
            except OSError as err:
                log.warning("cache sweep: cannot remove %s: %s", file, err)
                continue
            files.discard(file)
    return deleted


def sweep_at_exit(blocks: gr.Blocks) -> int:
    """After `blocks.close()`: delete every file handed out that the shutdown left (none on another Gradio)."""
    return sweep_cache(blocks, age=-1) if pinned() else 0


def keep_house(blocks: gr.Blocks) -> None:
    """Once `blocks` serves: every FINISHED_SESSIONS_S drop the queue's finished sessions, and every
    `blocks.delete_cache[0]` seconds delete the files handed out more than `delete_cache[1]` seconds ago.

    Gradio 6.31.0's queue keeps one entry per session in `pending_event_ids_session` after the session's last event has
    finished (the result route removes the event's id from the session's set, not the empty set), so the dict grows by
    one entry for every REST call and page visit, 318 bytes each, without end, and the /call result route looks
    through all of them for each finished event it is asked about: 0.27 ms of CPU per request with 10,000 entries,
    4.4 ms (37% of a request) with 100,000 (`python -m benchmarks.bench_gradio_fixes`, "finished sessions"). A leak,
    so kept although its cost passes 5% of a request only after some 25,000 finished sessions. Every
    FINISHED_SESSIONS_S the empty entries are dropped, on the server's event loop, where no request can be between
    adding a session and adding its event.

    Gradio 6.31.0's own cache sweep (`route_utils.delete_files_created_by_app`, run every `delete_cache[0]` seconds in
    a thread) iterates each component's set of handed-out files while requests add to it from the event loop, so
    under traffic it dies with "RuntimeError: Set changed size during iteration" and, the task being dead, no sweep
    follows: a 20,000-request soak's cache folder grew to 1.3 GB with no file deleted (`python -m
    benchmarks.soak_app`, before this sweep; the benchmark's "cache sweep" line counts how often Gradio's sweep dies
    while files are added). `sweep_cache` does the same work over snapshots of the sets, every `delete_cache[0]`
    seconds; Gradio's stays for the clean-up at shutdown, and app.py sweeps once more after it (`sweep_at_exit`).
    """
    tasks = []
    every, age = blocks.delete_cache or (None, None)

    async def forever() -> None:
        swept = time.monotonic()
        while True:
            await asyncio.sleep(FINISHED_SESSIONS_S)
            if every and time.monotonic() - swept >= every:
                swept = time.monotonic()
                await asyncio.to_thread(sweep_cache, blocks, age)
            drop_finished_sessions(blocks)

    async def start() -> None:
        tasks.append(asyncio.create_task(forever()))  # held here: the loop keeps only a weak reference

    blocks.extra_startup_events.append(start)


# ---- downloads named after what they show -----------------------------------------------------------------------
DOWNLOAD_NAME = "download_name"


def postprocess_named(picture: gr.Image, value):
    """gr.Image's postprocess, but a PIL picture that carries a DOWNLOAD_NAME is saved under that name."""
    name = getattr(value, DOWNLOAD_NAME, None) if isinstance(value, Image.Image) else None
    if not name:
        return gr.Image.postprocess(picture, value)
    path = processing_utils.save_pil_to_cache(value, picture.GRADIO_CACHE, name=name, format="png")
    return ImageData(path=path, orig_name=Path(path).name)


def name_downloads(picture: gr.Image, value: object = None) -> gr.Image:
    """`picture`, whose PIL values that carry a DOWNLOAD_NAME are downloaded under that name (on Gradio 6.31.0);
    `value`, the value it was made with, is saved again under its name when it has one.

    Gradio 6.31.0 saves every PIL picture a gr.Image returns as `image.png` (save_pil_to_cache's default name), so
    every download is called image.png; there is no setting for the name. `name_downloads` gives one gr.Image a
    postprocess that saves a picture carrying a DOWNLOAD_NAME attribute (demo.widgets.named) under that name, e.g.
    tutorial-epoch-200-seed-42.png, and any other value as Gradio does. It is set on the instance: a subclass of
    gr.Image would make Gradio write a .pyi stub beside this file. (After an update that changes a property, Gradio
    puts a new gr.Image in the session, which names its files image.png again; the app's pictures are not updated so.)
    A behaviour, not a cost: tests/test_ux_controls.py downloads one.
    """
    if not pinned():
        return picture
    picture.postprocess = lambda value: postprocess_named(picture, value)
    if getattr(value, DOWNLOAD_NAME, None):  # the first picture, named too (Gradio saved it as image.png)
        saved = postprocess_named(picture, value).model_dump()
        picture.value = processing_utils.move_files_to_cache(saved, picture, postprocess=True, keep_in_cache=True)
        picture.keep_in_cache.add(picture.value["path"])
    return picture


# ---- number boxes: a typed value applies when committed ---------------------------------------------------------
CONTROLS_HEAD = """
<script>
(() => {
  let committing = false;
  const held = new WeakMap();  // number field -> the value it held when focused or last committed
  const isBox = (el) => el instanceof HTMLInputElement && el.type === "number" && el.closest(".gradio-container");
  const rangeOf = (el) => el.closest(".block")?.querySelector("input[type=range]");
  const current = (el) => (rangeOf(el) ? rangeOf(el).value : held.get(el) ?? el.defaultValue);
  const decimals = (step) => (String(step).split(".")[1] || "").length;
  function clean(el) {
    if (el.value === "" || el.validity.badInput) return null;
    let v = Number(el.value);
    if (!Number.isFinite(v)) return null;
    const min = el.min === "" ? -Infinity : Number(el.min), max = el.max === "" ? Infinity : Number(el.max);
    v = Math.min(Math.max(v, min), max);
    const step = Number(el.step);
    if (el.step && el.step !== "any" && step > 0) {
      const base = Number.isFinite(min) ? min : 0;
      v = Math.min(Math.max(base + Math.round((v - base) / step) * step, min), max);
      v = Number(v.toFixed(decimals(el.step)));
    }
    return v;
  }
  function commit(el, notify) {
    const before = current(el);
    const v = clean(el);
    el.value = v === null ? before : String(v);
    held.set(el, el.value);
    if (v === null || Number(el.value) === Number(before)) return;
    committing = true;
    try { el.dispatchEvent(new Event("input", { bubbles: notify })); } finally { committing = false; }
  }
  window.addEventListener("focusin", (e) => { if (isBox(e.target)) held.set(e.target, current(e.target)); }, true);
  window.addEventListener("input", (e) => {
    if (!committing && isBox(e.target) && e.inputType) e.stopImmediatePropagation();  // a keystroke: held back
  }, true);
  window.addEventListener("keydown", (e) => {
    // Enter commits; a slider's box tells the app (input), a number field's own Enter (submit) does that.
    if (e.key === "Enter" && isBox(e.target)) commit(e.target, Boolean(rangeOf(e.target)));
  }, true);
  window.addEventListener("blur", (e) => { if (isBox(e.target)) commit(e.target, true); }, true);
})();
</script>
"""


def controls_head() -> str:
    """What the page's <head> gets: CONTROLS_HEAD on Gradio 6.31.0, nothing on another version.

    Gradio 6.31.0's Slider and Number send every keystroke in their number box as an input event: typing "25" into a
    0-10 slider's box sends 2, then 25, unclamped (the box clamps only on blur, after the value was sent), so the
    picture is drawn for values the box never ends up showing and the app answers with errors for out-of-range ones.
    No public setting changes that (`.submit` and `.blur` exist for Number, not for a Slider's box). This script,
    given to `launch(head=...)`, holds a keystroke back from the app; on Enter or on leaving the box it clamps the value
    to the box's minimum and maximum, rounds it to its step, shows it and sends exactly it; an empty or half-typed box
    goes back to the value it held. A behaviour, not a cost: tests/test_ux_controls.py types into the boxes in a
    browser, and the canary counts the events Gradio sends for keystrokes without it.
    """
    return CONTROLS_HEAD if pinned() else ""


# ---- CSS aimed at the inside of Gradio's components -------------------------------------------------------------
PICTURE = ".block:is(.pixels, .live-picture)"  # a picture, or one the browser draws over (demo/browser_gen.py)
PICTURE_ROWS = [
    f"#tab-{tab} .row:has(> .column > {PICTURE})"
    for tab in ("generate", "timeline", "interpolate", "edit", "discriminator", "digits", "train")
]
MAIN_CONTROL = ":is(.main-control, .form:has(> .main-control))"  # a slider sits in a .form with its neighbours
FIRST_PICTURES = [f"{row} > .column > {PICTURE}:not({PICTURE} ~ {PICTURE})" for row in PICTURE_ROWS]
INNER_DOM_CSS = f"""
.pixels img {{ image-rendering: pixelated; image-rendering: crisp-edges; }}
.pixels .image-frame img, .pixels img {{ object-fit: contain; }}
div.prose.note {{ border-left: none; padding: 0; background: none; }}
.digit-radio .wrap {{ gap: 0.25rem; }}
.digit-radio label {{ min-width: 2.4rem; justify-content: center; padding: 0.3rem 0.5rem !important; }}
.digit-radio input[type=radio] {{ display: none; }}
#digit-sheet .icon-button-wrapper {{ opacity: 0; transition: opacity 0.2s; }}
#digit-sheet:hover .icon-button-wrapper {{ opacity: 1; }}
@media (max-width: 640px) {{
  .tab-container button {{ padding: 0 8px !important; }}
}}
.pixels.stale img {{ opacity: 0.35; filter: grayscale(1); }}
.pixels .image-container, .pixels .image-frame {{ padding-top: 2.1rem; }}
.pixels.hide-container .image-container, .pixels.hide-container .image-frame {{ padding-top: 0; }}
@media (max-width: 640px) {{ .plot-below-buttons .vega-embed {{ padding-top: 2rem; }} }}
.gif-preview img {{ image-rendering: pixelated; object-fit: contain; }}
#timeline-step .head, #timeline-step .min_value, #timeline-step .max_value {{ display: none; }}
input[type=range] {{ touch-action: none; }}
.gradio-container {{ overflow: clip !important; }}  /* clips as 'hidden' does, but lets a picture stick */
@media (max-width: 640px) {{
  {", ".join(PICTURE_ROWS)} {{ flex-direction: column; align-items: stretch; }}
  {", ".join(f"{row} > .column" for row in PICTURE_ROWS)} {{ display: contents; }}
  {", ".join(f"{row} > .column > *" for row in PICTURE_ROWS)} {{ flex: none; width: 100%; }}
  {", ".join(FIRST_PICTURES)} {{
    order: -2; position: sticky; top: 0; z-index: 1000; background: var(--background-fill-primary); height: 36vh;
  }}
  {", ".join(f"{first} :is(.image-frame, img)" for first in FIRST_PICTURES)} {{ width: 100%; height: 100%; }}
  {", ".join(f"{first} .block.pixels" for first in FIRST_PICTURES)} {{ height: calc(36vh - 12px) !important; }}
  #tab-timeline .scrubber, {", ".join(f"{row} > .column > {MAIN_CONTROL}" for row in PICTURE_ROWS)} {{ order: -1; }}
  {", ".join(f"{first}" for first in FIRST_PICTURES)} {{ height: 36vh !important; }}
  .main-control .info-text {{ display: none; }}  /* which epochs are saved: on a wider screen only */
  .settings-row {{ order: 1; }}  /* Interpolate's run and epoch: under the walks, whose picture and t come first */
  /* Your digit: what the models see, small, above the pad */
  #tab-own .row:has(> .column > #own-pad) {{ flex-direction: column; }}
  #tab-own .row:has(> .column > #own-pad) > .column {{ display: contents; }}
  #tab-own .row:has(> .column > #own-pad) > .column > #own-preview {{ order: -2; }}
  #compare-a, #compare-b {{ height: auto !important; }}  /* half the width: the picture's own height, no bands */
  #own-preview {{ height: 110px !important; }}
}}
"""
# The classes of Gradio's own DOM that INNER_DOM_CSS aims at (the canary looks for each in Gradio's frontend).
GRADIO_CLASSES = [
    "image-frame",
    "image-container",
    "icon-button-wrapper",
    "prose",
    "wrap",
    "tab-container",
    "hide-container",
    "info-text",
    "vega-embed",
    "head",
    "min_value",
    "max_value",
    "gradio-container",
    "row",
    "column",
    "block",
]


def inner_dom_css() -> str:
    """INNER_DOM_CSS on Gradio 6.31.0, nothing on another version.

    Rules that reach inside Gradio 6.31.0's components (their <img>, .image-frame, .icon-button-wrapper, a radio's
    .wrap and labels, a slider's .head and min/max labels, the tab buttons, the layout's .row/.column/.block), which no
    component setting reaches: pictures drawn with crisp pixels, label badges and buttons in a strip above a picture
    (never over a digit), a failed picture dimmed, the Timeline slider's own number box and range labels hidden (the
    readout above it says the epoch), and below 640 px each picture tab's first picture above its controls and kept in
    view while they scroll. A look, not a cost: tests/test_layout_browser.py and tests/test_ux_controls.py check what
    they do in a browser; the canary checks in a browser that Gradio alone draws a picture smoothed (image-rendering:
    auto), and another test that Gradio's frontend still has every class the rules aim at.
    """
    return INNER_DOM_CSS if pinned() else ""


# ---- answers for every caller: raw REST and MCP ------------------------------------------------------
def parameters_line(api_name: str, parameters: list[dict]) -> str:
    """'/generate takes 4 or 5 values, in this order: run, epoch, seed, grid_size, labels (optional, default False)'."""
    names = [
        f"{p['parameter_name']} (optional, default {p['parameter_default']!r})"
        if p.get("parameter_has_default")
        else p["parameter_name"]
        for p in parameters
    ]
    required = sum(not p.get("parameter_has_default") for p in parameters)
    count = (
        f"{required} or {len(parameters)}" if required == len(parameters) - 1 else f"{required} to {len(parameters)}"
    )
    count = str(len(parameters)) if required == len(parameters) else count
    return f"/{api_name} takes {count} value{'s' if len(parameters) != 1 else ''}, in this order: {', '.join(names)}"


def answer_every_caller(blocks: gr.Blocks) -> bool:
    """A call of a named endpoint with too few or too many values gets an answer that says what happened.

    Why: Gradio 6.31 answers a raw REST call (POST /gradio_api/call/generate) that leaves out an optional last value
    with `event: error` and `{"error": null}`: Blocks.validate_inputs raises a plain ValueError before the handler
    runs, and the queue hides the message of anything but a gr.Error. gradio_client fills such values in from the
    API info, so only raw callers meet it. Extra values are dropped without a word.
    What: Blocks.validate_inputs, set on this instance only, first fills in missing values that the API page calls
    optional with the defaults it documents (gradio_client's rule: the control's first value, or a handler default
    of None), and refuses a missing required value or an extra one with a gr.Error naming the endpoint's parameters.
    The page sends every value, so it never meets this.
    Returns False (and changes nothing) where Blocks has no validate_inputs."""
    if not pinned():  # apply() has said so in its one line
        return False
    original = getattr(blocks, "validate_inputs", None)
    if original is None:
        log.warning("answer_every_caller: this Gradio has no Blocks.validate_inputs; raw REST answers stay as they are")
        return False
    infos: dict[str, list[dict] | None] = {}

    def parameters(api_name: str) -> list[dict] | None:
        if api_name not in infos:
            endpoint = blocks.get_api_info(all_endpoints=True)["named_endpoints"].get(f"/{api_name}")
            infos[api_name] = endpoint["parameters"] if endpoint else None
        return infos[api_name]

    def validate_inputs(block_fn, inputs: list) -> None:
        wanted = len(block_fn.inputs)
        if block_fn.api_name and block_fn.api_visibility != "private" and len(inputs) != wanted:
            params = parameters(block_fn.api_name)
            if params is not None and len(params) == wanted:
                missing = params[len(inputs) :]
                if len(inputs) > wanted or not all(p.get("parameter_has_default") for p in missing):
                    got = f"got {len(inputs)}"
                    if missing:
                        got += f", without {', '.join(p['parameter_name'] for p in missing)}"
                    line = f"{parameters_line(block_fn.api_name, params)}; {got}."
                    raise gr.Error(line, title="Not allowed", print_exception=False)
                inputs.extend(p["parameter_default"] for p in missing)  # the same list the handler's values come from
        original(block_fn, inputs)

    blocks.validate_inputs = validate_inputs
    return True


def mcp_answers_with_every_output(blocks: gr.Blocks) -> bool:
    """An MCP tool whose endpoint has several outputs answers with each of them (a picture as an image).

    Why: Gradio 6.31's MCP server calls a queued endpoint through gradio_client and, when the caller asked for no
    progress reports, wraps the client's result in a list: for an endpoint with several outputs that result is a
    tuple, so the tool answers with one text, the tuple's repr, and never an image (GradioMCPServer.
    _execute_tool_without_progress). Every picture endpoint here returns a picture and its caption.
    What: on server start-up, that method of this app's MCP server (only it) returns the outputs as a list.
    Returns False (and changes nothing) where Blocks has no start-up hooks; at start-up, a warning where the MCP
    server has no such method."""
    if not pinned():  # apply() has said so in its one line
        return False
    startup = getattr(blocks, "extra_startup_events", None)
    if startup is None:
        log.warning(
            "mcp_answers_with_every_output: this Gradio has no extra_startup_events; MCP answers stay as they are"
        )
        return False

    async def install() -> None:
        server = getattr(blocks, "mcp_server_obj", None)
        if server is None:
            return  # MCP is off
        if not hasattr(server, "_execute_tool_without_progress"):
            log.warning("mcp_answers_with_every_output: Gradio's MCP server changed; the work-around is not applied")
            return

        async def without_progress(job) -> list:
            result = await asyncio.to_thread(job.result)
            return list(result) if isinstance(result, tuple) else [result]  # gradio_client: a tuple for 2+ outputs

        server._execute_tool_without_progress = without_progress

    startup.append(install)
    return True
