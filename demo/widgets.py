"""Gradio pieces every tab uses: exact images, seed boxes, sliders, event settings, the look."""

import functools
import secrets
from pathlib import Path

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import ImageData
from gradio.processing_utils import move_files_to_cache
from PIL import Image

from demo.context import Context
from demo.engine import MAX_GRID, FastPng, epoch_ranges, fast_png
from demo.validation import SEED_MAX

# Live controls: the last value of a drag wins, no spinner, raw values reach the handler (it validates).
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden", "preprocess": False}
# Helper events (dice, resets, slider ranges): not part of the API, answered without the queue.
PRIVATE = {"api_visibility": "private", "queue": False}
SEED_DOC = f"seed 0-{SEED_MAX}"  # pieces of the endpoints' API descriptions
GRID_DOC = f"grid_size 1-{MAX_GRID}"
LABELS_DOC = "labels true/false (the classifier's digit and confidence under each sample)"
RUN_PALETTE = ["#7c3aed", "#0891b2", "#d97706", "#059669", "#dc2626", "#db2777"]
COLORS = {
    "D loss": "#6366f1",
    "G loss": "#f59e0b",
    "D(x) on real": "#10b981",
    "D(G(z)) on fake": "#ef4444",
    "FID": "#8b5cf6",
    "IS": "#0ea5e9",
    "digits present": "#f59e0b",
    "real data": "#94a3b8",
    "this epoch": "#111827",
}
CSS = """
.pixels img { image-rendering: pixelated; image-rendering: crisp-edges; }
.pixels .image-frame img, .pixels img { object-fit: contain; }
#intro p { margin: 0.2rem 0; }
#learning-strip .icon-button-wrapper { display: none; }  /* it has no buttons, but its empty frame showed as a dot */
.note { border-left: 4px solid #f59e0b; padding: 0.4rem 0.8rem; background: var(--background-fill-secondary); }
div.prose.note { border-left: none; padding: 0; background: none; }
.stats { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.stat { padding: 0.35rem 0.6rem; border-radius: 8px; background: var(--background-fill-secondary); min-width: 6.2rem; }
.stat b { display: block; font-size: 1.2rem; line-height: 1.4; }
.stat small { color: var(--body-text-color-subdued); }
.hist { display: flex; align-items: flex-end; gap: 2px; height: 2.6rem; }
.hist i { flex: 1; background: var(--color-accent); border-radius: 2px 2px 0 0; min-height: 1px; }
.hist-labels { display: flex; gap: 2px; font-size: 0.7rem; text-align: center; }
.hist-labels span { flex: 1; }
.seed-row .dice { align-self: stretch; }
.digit-radio .wrap { gap: 0.25rem; }
.digit-radio label { min-width: 2.4rem; justify-content: center; padding: 0.3rem 0.5rem !important; }
.digit-radio input[type=radio] { display: none; }
#digit-sheet .icon-button-wrapper { opacity: 0; transition: opacity 0.2s; }
#digit-sheet:hover .icon-button-wrapper { opacity: 1; }
@media (max-width: 640px) {
  .tab-container button { padding: 0 8px !important; }
  #intro h1 { font-size: 1.5rem; }
}
"""
# Controls and pictures (kept apart from the layout rules above): a picture whose last update failed is dimmed with a
# short line saying so; label badges and download buttons sit in a strip above the picture, never over a digit.
CSS += """
.pixels.stale img { opacity: 0.35; filter: grayscale(1); }
.pixels.stale::after {
  content: attr(data-stale); position: absolute; left: 0; right: 0; bottom: 0; padding: 0.3rem 0.6rem;
  background: var(--background-fill-primary); color: var(--error-text-color, #b91c1c); font-size: 0.85rem;
}
.pixels .image-container, .pixels .image-frame { padding-top: 2.1rem; }
.pixels.hide-container .image-container, .pixels.hide-container .image-frame { padding-top: 0; }
#learning-strip .image-container, #learning-strip .image-frame { padding-top: 0; }  /* no badge above it */
@media (max-width: 640px) { .plot-below-buttons .vega-embed { padding-top: 2rem; } }
.gif-preview img { image-rendering: pixelated; object-fit: contain; }
"""
# Typed numbers apply when committed (Enter or leaving the box), not on each keystroke: a keystroke in a slider's
# number box or a number field is held back from the app; on commit the value is clamped to the box's minimum and
# maximum and rounded to its step, the box shows that value and the app receives exactly it. An empty or half-typed
# box goes back to the value it held. (Gradio's own Slider sends every keystroke and clamps only on blur, after the
# unclamped value has already been sent.)
CONTROLS_JS = """
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


def theme() -> gr.themes.Base:
    """System fonts only: nothing is fetched from the internet when the page opens."""
    fonts = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]
    return gr.themes.Soft(
        primary_hue="violet", neutral_hue="slate", font=fonts, font_mono=["ui-monospace", "monospace"]
    )


SESSIONS = 500  # sessions whose state Gradio keeps (least recently used first out)
QUEUE_WORKERS = 8  # events run at once; each takes milliseconds, so a few workers serve many users
QUEUE_SIZE = 512  # events waiting at most; more are refused at once rather than left to time out


def queue_options() -> dict:
    """Keyword arguments for demo.queue(): how many events run at once and how many may wait."""
    return {"default_concurrency_limit": QUEUE_WORKERS, "max_size": QUEUE_SIZE}


def launch_options() -> dict:
    """Keyword arguments for demo.launch(): the look (Gradio 6 takes it there) and the memory bound."""
    # No run history: every slider step is a run, and the browser would keep them all.
    look = {"theme": theme(), "css": CSS, "head": CONTROLS_JS, "run_history": False}
    look["footer_links"] = ["api", "gradio", "settings"]
    # Gradio keeps a copy of every component's config per session (a page, or each call of the REST API), about
    # 0.4 MB here, for its 10,000 most recent sessions: up to 4 GB. The app keeps almost no per-session state
    # (only which of Edit's two pictures shows), so it keeps the last SESSIONS and memory levels off.
    return {**look, "state_session_capacity": SESSIONS}


def run_doc(ctx: Context, name: str = "run") -> str:
    return f"{name}: one of {', '.join(repr(n) for n in ctx.names)}"


def epoch_doc(ctx: Context) -> str:
    ranges = ", ".join(f"{name} {e.epochs[0]}-{e.epochs[-1]}" for name, e in ctx.runs.engines.items())
    return f"epoch within the run's saved range ({ranges}; the nearest saved epoch is used)"


def run_colors(names: list[str]) -> dict[str, str]:
    """One colour per run, the same in every plot and histogram."""
    return {name: RUN_PALETTE[index % len(RUN_PALETTE)] for index, name in enumerate(names)}


def run_dropdown(ctx: Context, label: str = "Run", value: str | None = None, **kwargs) -> gr.Dropdown:
    """A run choice; live runs join it as they appear (labelled with their recipe and epochs)."""
    runs = ctx.runs
    dropdown = gr.Dropdown(runs.choices(), value=value or runs.default, label=label, interactive=True, **kwargs)
    return ctx.watch_runs(dropdown)


def random_seed() -> int:
    return secrets.randbelow(SEED_MAX + 1)


def postprocess_named(picture: gr.Image, value):
    """gr.Image's postprocess, but a PIL picture that `named` gave a file name is saved under that name, so a
    download is called `tutorial-epoch-200-seed-42.png` rather than `image.png`. (Set on the instance: a subclass
    of gr.Image would make Gradio write a .pyi stub beside this file.)"""
    name = getattr(value, DOWNLOAD_NAME, None) if isinstance(value, Image.Image) else None
    if not name:
        return gr.Image.postprocess(picture, value)
    path = processing_utils.save_pil_to_cache(value, picture.GRADIO_CACHE, name=name, format="png")
    return ImageData(path=path, orig_name=Path(path).name)


DOWNLOAD_NAME = "download_name"


def named(picture: Image.Image, run: str, epoch: int, seed: int | str, *more: object) -> Image.Image:
    """`picture` to be downloaded as run-epoch-N-seed-S[-more].png (a copy: cached pictures stay unnamed)."""
    parts = [run, "epoch", epoch, "seed", seed, *more]
    safe = "-".join("".join(c if c.isalnum() or c in "._-" else "_" for c in str(part)) for part in parts)
    copy = picture.copy()  # Pillow's copy is a plain Image: engine.fast_png's encoder is kept by hand
    copy = fast_png(copy) if isinstance(picture, FastPng) else copy
    setattr(copy, DOWNLOAD_NAME, safe)  # an attribute, not .info: it stays out of the PNG's text chunks
    return copy


def stale_marks(event, picture: gr.Image, what: str = "the picture") -> None:
    """After `event`: a failure dims `picture` with a short "not updated" line; the next success clears it."""
    selector = f"#{picture.elem_id}"
    line = f"Not updated: {what} still shows the last good values."
    event.failure(
        None,
        js=f"() => {{ const el = document.querySelector('{selector}'); "
        f"if (el) {{ el.classList.add('stale'); el.dataset.stale = {line!r}; }} }}",
    )
    event.success(None, js=f"() => {{ document.querySelector('{selector}')?.classList.remove('stale'); }}")


def image(label: str, value=None, **kwargs) -> gr.Image:
    """Exact pictures: PNG, greyscale, shown with crisp pixels; never lossy WebP."""
    picture = gr.Image(
        value,
        label=label,
        format="png",
        image_mode="L",
        type="pil",
        interactive=False,
        buttons=["download", "fullscreen"],
        elem_classes=["pixels", *kwargs.pop("elem_classes", [])],
        **kwargs,
    )
    picture.postprocess = functools.partial(postprocess_named, picture)
    if getattr(value, DOWNLOAD_NAME, None):  # the first picture, named too
        picture.value = move_files_to_cache(
            picture.postprocess(value).model_dump(), picture, postprocess=True, keep_in_cache=True
        )
        picture.keep_in_cache.add(picture.value["path"])
    return picture


def gif_preview(label: str, file: gr.File, **kwargs) -> gr.Image:
    """The GIF in `file`, shown playing; it follows the file (hidden while there is none)."""
    preview = gr.Image(
        label=label, interactive=False, buttons=["fullscreen"], elem_classes="gif-preview", visible=False, **kwargs
    )
    file.change(lambda path: gr.Image(path, visible=path is not None), file, preview, **PRIVATE)
    return preview


def seed_box(label: str, value: int) -> tuple[gr.Number, gr.Button]:
    """A seed field with a dice button beside it."""
    with gr.Row(equal_height=True, elem_classes="seed-row"):
        box = gr.Number(value, label=label, precision=0, minimum=0, maximum=SEED_MAX, scale=3, min_width=120)
        dice = gr.Button("Random", scale=1, min_width=90, elem_classes="dice")
    return box, dice


def epoch_slider(epochs: list[int], value: int, label: str = "Epoch") -> gr.Slider:
    """A slider over the first to last of `epochs` (saved epochs); in-between values snap to a saved one."""
    return gr.Slider(step=1, label=label, **slider_range(epochs, value))


def slider_range(epochs: list[int], value: object) -> dict:
    """The settings of an epoch slider that follow the chosen run(s): range, value kept inside it, saved epochs."""
    first, last = epochs[0], epochs[-1]
    inside = min(max(int(value), first), last) if isinstance(value, (int, float)) and value == value else last
    return {
        "minimum": first,
        "maximum": last,
        "value": inside,
        "interactive": first < last,
        "info": f"Saved epochs: {epoch_ranges(epochs)}. In-between values show the nearest saved one.",
    }


def follow_run(ctx: Context, run: object, epoch: object) -> gr.Slider:
    """An epoch slider's update for a newly chosen run (nothing changes for a name that is not loaded)."""
    if run not in ctx.names:
        return gr.skip()
    return gr.Slider(**slider_range(ctx.runs.engines[run].epochs, epoch))


def grid_slider(value: int, label: str = "Grid size (n x n)") -> gr.Slider:
    return gr.Slider(1, MAX_GRID, value=value, step=1, label=label)


def labels_box() -> gr.Checkbox:
    """The "show labels" toggle of every grid: the classifier's digit and confidence under each sample."""
    return gr.Checkbox(
        False, label="Show labels", info="The classifier's digit and confidence under each sample; grey: under 50%"
    )


# ---- layout: the page intro, the Timeline's scrubber, narrow screens -----------------------------------------
# Below 640 px each picture tab's first picture moves above its controls and stays in view (sticky) while they
# scroll under it; a swipe that starts on a slider moves the slider only, never the page too.
PICTURE = ".block:is(.pixels, .live-picture)"  # a picture, or one the browser draws over (demo/browser_gen.py)
PICTURE_ROWS = [
    f"#tab-{tab} .row:has(> .column > {PICTURE})" for tab in ("generate", "timeline", "interpolate", "edit")
]
FIRST_PICTURES = [f"{row} > .column > {PICTURE}:not({PICTURE} ~ {PICTURE})" for row in PICTURE_ROWS]
LAYOUT_CSS = f"""
#learning-strip img {{ max-height: 160px; }}
#timeline-readout .readout {{ font-size: 1.1rem; padding: 0.5rem 0.75rem 0; }}
#timeline-readout small {{ color: var(--body-text-color-subdued); margin-left: 0.5rem; font-size: 0.85rem; }}
#timeline-step .head, #timeline-step .min_value, #timeline-step .max_value {{ display: none; }}
.explain p {{ font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0 0.5rem 0.4rem; }}
input[type=range] {{ touch-action: none; }}
.gradio-container {{ overflow: clip !important; }}  /* clips as 'hidden' does, but lets a picture stick */
@media (max-width: 640px) {{
  {", ".join(PICTURE_ROWS)} {{ flex-direction: column; align-items: stretch; }}
  {", ".join(f"{row} > .column" for row in PICTURE_ROWS)} {{ display: contents; }}
  {", ".join(f"{row} > .column > *" for row in PICTURE_ROWS)} {{ flex: none; width: 100%; }}
  {", ".join(FIRST_PICTURES)} {{
    order: -2; position: sticky; top: 0; z-index: 1000; background: var(--background-fill-primary); height: 40vh;
  }}
  {", ".join(f"{first} :is(.image-frame, img)" for first in FIRST_PICTURES)} {{ width: 100%; height: 100%; }}
  {", ".join(f"{first} .block.pixels" for first in FIRST_PICTURES)} {{ height: calc(40vh - 12px) !important; }}
  #tab-timeline .scrubber {{ order: -1; }}
}}
"""
CSS += LAYOUT_CSS
