"""Gradio pieces every tab uses: exact images, seed boxes, sliders, event settings, the look."""

import secrets

import gradio as gr
from PIL import Image

from demo import gradio_fixes
from demo.context import Context
from demo.engine import MAX_GRID, epoch_ranges
from demo.gradio_fixes import DOWNLOAD_NAME
from demo.validation import SEED_MAX

# Live controls: the last value of a drag wins, no spinner, raw values reach the handler (it validates).
LIVE = {"trigger_mode": "always_last", "show_progress": "hidden", "preprocess": False}
# Helper events (dice, resets, slider ranges): not part of the API, answered without the queue.
PRIVATE = {"api_visibility": "private", "queue": False}
# A slider's js-only event that hands its value to the browser's Generator: every input, none dropped while the
# last one is still being handled (the default for .input, "once", dropped some during a fast drag).
MOVED = {**PRIVATE, "trigger_mode": "multiple"}
MAIN_HEIGHT = 420  # px: a tab's main picture, so that it opens in view with its control at 1280x800
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
    "now": "#111827",
}
# The look of what the app owns: its own classes and the contents of its Markdown and HTML. Rules that reach inside
# Gradio's components live in demo.gradio_fixes (INNER_DOM_CSS), with the page-wide script for number boxes.
CSS = """
#app-header .app-head { display: flex; align-items: flex-start; gap: 1rem; justify-content: space-between; }
#app-header .head-text { flex: 1 1 auto; min-width: 0; }
#app-header h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 0.2rem; }
#app-header p { margin: 0.15rem 0; }
#app-header .lede { line-height: 1.35; }
#app-header summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.9rem; }
#app-header details[open] { background: var(--background-fill-secondary); padding: 0.3rem 0.6rem; border-radius: 8px; }
#learning-strip { flex: 0 0 auto; margin: 0; }
#learning-strip img { display: block; height: 92px; width: auto; image-rendering: pixelated; border-radius: 4px; }
.note { border-left: 4px solid #f59e0b; padding: 0.4rem 0.8rem; background: var(--background-fill-secondary); }
.stats { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.stat { padding: 0.35rem 0.6rem; border-radius: 8px; background: var(--background-fill-secondary); min-width: 6.2rem; }
.stat b { display: block; font-size: 1.2rem; line-height: 1.4; }
.stat small { color: var(--body-text-color-subdued); }
.hist { display: flex; align-items: flex-end; gap: 2px; height: 2.6rem; }
.hist i { flex: 1; background: var(--color-accent); border-radius: 2px 2px 0 0; min-height: 1px; }
.hist-labels { display: flex; gap: 2px; font-size: 0.7rem; text-align: center; }
.hist-labels span { flex: 1; }
.seed-row .dice { align-self: stretch; }
@media (max-width: 640px) {
  /* the title on its own line; under it the fold and the strip side by side; the header stays within 120 px */
  #app-header .app-head { display: grid; grid-template-columns: 1fr auto; column-gap: 0.5rem; align-items: center; }
  #app-header .head-text { display: contents; }
  #app-header h1 { grid-column: 1 / -1; font-size: 1.05rem; white-space: nowrap; }
  #app-header summary { font-size: 0.8rem; }
  #app-header .lede { display: none; }  /* the fold says it */
  #app-header details { grid-column: 1; grid-row: 2; }
  #app-header details[open] { grid-column: 1 / -1; grid-row: 3; }
  #learning-strip { grid-column: 2; grid-row: 2; }
  #learning-strip img { height: 56px; }
}
"""
# A picture whose last update failed is dimmed (demo.gradio_fixes) with a short line saying so.
CSS += """
.pixels.stale::after {
  content: attr(data-stale); position: absolute; left: 0; right: 0; bottom: 0; padding: 0.3rem 0.6rem;
  background: var(--background-fill-primary); color: var(--error-text-color, #b91c1c); font-size: 0.85rem;
}
"""
# The Timeline's readout and the short explanations under controls.
CSS += """
#timeline-readout .readout { font-size: 1.1rem; padding: 0.5rem 0.75rem 0; }
#timeline-readout small { color: var(--body-text-color-subdued); margin-left: 0.5rem; font-size: 0.85rem; }
.explain p { font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0 0.5rem 0.4rem; }
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
    look = {"theme": theme(), "css": CSS + gradio_fixes.inner_dom_css(), "head": gradio_fixes.controls_head()}
    look["run_history"] = False
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


def named(picture: Image.Image, run: str, epoch: int, seed: int | str, *more: object) -> Image.Image:
    """`picture` to be downloaded as run-epoch-N-seed-S[-more].png (a copy: cached pictures stay unnamed)."""
    parts = [run, "epoch", epoch, "seed", seed, *more]
    safe = "-".join("".join(c if c.isalnum() or c in "._-" else "_" for c in str(part)) for part in parts)
    copy = picture.copy()  # cached pictures stay unnamed
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
    return gradio_fixes.name_downloads(picture, value)


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


def epoch_slider(epochs: list[int], value: int, label: str = "Epoch", **kwargs) -> gr.Slider:
    """A slider over the first to last of `epochs` (saved epochs); in-between values snap to a saved one."""
    return gr.Slider(step=1, label=label, **slider_range(epochs, value), **kwargs)


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
        False,
        label="Show labels",
        info="The classifier's digit and confidence under each sample; grey: under 50%, or not a digit at all",
    )
