"""The Gradio Blocks, assembled from the tab modules in TABS; every action is a named API endpoint."""

import base64
import html
import logging
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo import gradio_fixes, links, widgets
from demo.context import Context, Facts
from demo.engine import PAD, Engine, epoch_ranges, png_bytes
from demo.live import LiveTrainer
from demo.runs import Runs
from demo.tabs import compare, digits, discriminator, edit, generate, interpolate, own, timeline, tour, train
from demo.widgets import launch_options
from gan.images import grid_array, upscale

__all__ = ["TABS", "build_demo", "examples", "launch_options"]
log = logging.getLogger(__name__)

TABS = [generate, timeline, interpolate, edit, compare, discriminator, own, train, digits, tour]
# Gradio copies every picture it returns into its cache folder; every CACHE_SWEEP_S the files handed out more than
# CACHE_MAX_AGE_S ago are deleted (demo.gradio_fixes.sweep_cache: Gradio's own sweep dies under traffic), so the
# folder holds about 20 minutes of traffic. A copy is written (or touched) each time it is handed out, so the age only
# has to outlast a page fetching what it was just given, and a download soon after. (The 30 failures of an earlier
# soak with a 10-minute age came from our GIF clean-up, not from the sweep: two requests deleting the same old GIF,
# the slower one failed. demo.context.gif_file now passes over it.)
CACHE_SWEEP_S, CACHE_MAX_AGE_S = 300, 900
RUN_CHOICES_S = 3.0  # an open page asks this often whether live runs joined (or left) the run choices


def examples(facts: Facts) -> dict[str, dict]:
    """Valid arguments of every endpoint ({parameter: value} in order), by API name, as the tab modules declare them."""
    return {name: args for tab in TABS for name, args in tab.examples(facts).items()}


def run_line(name: str, engine: Engine) -> str:
    """One loaded run, in HTML: its name, its saved epochs and the folder they came from."""
    epochs, folder = engine.epochs, engine.run.folder
    shown = folder.resolve().relative_to(Path.cwd()) if folder.resolve().is_relative_to(Path.cwd()) else folder
    return (
        f"<b>{html.escape(name)}</b>: {len(epochs)} epochs ({epoch_ranges(epochs)}) from "
        f"<code>{html.escape(str(shown))}</code>"
    )


def header_html(runs: Runs) -> str:
    """The page's header, at most 120 px high: the title, one line on what a GAN is, the learning strip (noise to
    digits) and, in a fold, the longer introduction and the runs loaded with their folders."""
    default = runs.engines[runs.default]
    strip = learning_strip(default)
    source = "data:image/png;base64," + base64.b64encode(png_bytes(np.asarray(strip))).decode()
    caption = f"{runs.default}: the same two z, epoch {default.epochs[0]} to {default.epochs[-1]}"
    loaded = "; ".join(run_line(name, engine) for name, engine in runs.engines.items())
    return f"""<div class="app-head"><div class="head-text">
<h1>Watch a GAN learn to write digits</h1>
<p class="lede">Two networks learn against each other: the <b>Generator</b> turns 100 random numbers into a
picture, the <b>Discriminator</b> tries to tell its pictures from real handwritten digits.</p>
<details id="about"><summary>About this app, and the runs loaded</summary>
<p>A small MLP GAN (the classic PyTorch tutorial's) trained on MNIST, the 70,000 handwritten digits, and saved after
every epoch (one pass over the training digits). The 100 random numbers behind one picture are its <i>latent z</i>.
The strip beside the title shows the same two <i>z</i> drawn after more and more epochs of training: noise becomes
digits. <b>Tour</b> walks through the ideas step by step; <b>Timeline</b> plays the learning for a whole grid;
<b>Generate</b> draws any epoch.</p>
<p>Loaded {len(runs.engines)} run{"s" if len(runs.engines) > 1 else ""}: {loaded}.</p>
</details>
</div>
<figure id="learning-strip"><img src="{source}" alt="{html.escape(caption)}" title="{html.escape(caption)}"
width="{strip.width}" height="{strip.height}"></figure></div>"""


def learning_strip(engine: Engine, seed: int = 0, rows: int = 2, columns: int = 8, scale: int = 2) -> Image.Image:
    """The page's first picture: the same `rows` latents (one per row) drawn by about `columns` saved epochs from
    first to last, left to right, the epoch written above each column: noise turning into digits."""
    epochs = timeline.default_sheet_epochs(engine.epochs, columns)
    latents = engine.latents(seed, rows)
    by_epoch = np.stack([engine.tiles(e, latents) for e in epochs], axis=1)  # (rows, epochs, side, side)
    grid = upscale(grid_array(by_epoch.reshape(-1, *by_epoch.shape[2:]), rows, len(epochs), PAD), scale)
    font = ImageFont.load_default(size=7 * scale)
    band = 9 * scale
    strip = Image.new("L", (grid.width, grid.height + band), 0)
    strip.paste(grid, (0, band))
    draw, step = ImageDraw.Draw(strip), (engine.side + PAD) * scale
    for k, e in enumerate(epochs):
        draw.text((PAD * scale + k * step + step // 2, band // 2 + scale), f"ep {e}", fill=200, font=font, anchor="mm")
    return strip


def follow_run_choices(ctx: Context, blocks: gr.Blocks) -> None:
    """Every run dropdown follows the live runs: on page load and every RUN_CHOICES_S, only when they changed."""
    dropdowns = [dropdown for dropdown, _ in ctx.run_choices]
    shown = gr.State(None)

    def update(before: list | None):
        choices = [list(pair) for pair in ctx.runs.choices()]
        if choices == before:
            return [gr.skip()] * len(dropdowns) + [before]
        updates = [gr.Dropdown(choices=[("(none)", ""), *choices] if none else choices) for _, none in ctx.run_choices]
        return [*updates, choices]

    hidden = {"api_name": "run_choices", "api_visibility": "undocumented", "queue": False}  # callable by tests
    blocks.load(update, shown, [*dropdowns, shown], **hidden)
    gr.Timer(RUN_CHOICES_S).tick(update, shown, [*dropdowns, shown], **widgets.PRIVATE, show_progress="hidden")


def build_demo(runs: Runs, live: LiveTrainer | None = None) -> gr.Blocks:
    """The whole app over the loaded runs, with a Train tab when `live` is given (live runs then join every run
    choice). Per-user state only for what a page has already been shown; every handler validates its inputs."""
    ctx = Context(runs, live)
    tabs = [tab for tab in TABS if tab is not train or live is not None]
    skipped = runs.skipped + [f"{name}/{line}" for name, e in runs.engines.items() for line in e.run.skipped]
    with gr.Blocks(title="Watch a GAN learn", delete_cache=(CACHE_SWEEP_S, CACHE_MAX_AGE_S)) as demo:
        gr.HTML(header_html(runs), elem_id="app-header")
        if skipped:
            gr.Markdown(
                "**Some files were skipped:**\n" + "\n".join(f"- {html.escape(line)}" for line in skipped),
                elem_classes="note",
            )
        link_note = links.note_line()
        titles = {tab.__name__.rsplit(".", 1)[-1]: tab.TITLE for tab in tabs}  # a link's tab=, by id
        ctx.tab_titles = titles  # the Tour leaves out the steps of tabs that are not on the page
        with gr.Tabs(overflow_behavior="wrap") as tab_row:  # on a phone every tab stays in sight, on two rows
            for tab in tabs:
                name = tab.__name__.rsplit(".", 1)[-1]
                with gr.Tab(tab.TITLE, id=name, elem_id=f"tab-{name}") as page:
                    tab.build(ctx, page)
        links.on_load(ctx, demo, tab_row, link_note, titles)
        if live is not None:
            follow_run_choices(ctx, demo)
    gradio_fixes.apply(demo)  # Gradio 6.31.0's costs and bugs worked around; before demo.queue()
    return demo
