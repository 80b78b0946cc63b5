"""Generate: an n x n grid of digits from one run's saved epoch."""

import html

import gradio as gr

from demo import digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID
from demo.stats import labels_html, stats_html
from demo.validation import flag

TITLE = "Generate"


def examples(facts: Facts) -> dict[str, dict]:
    return {"generate": {"run": facts.run, "epoch": facts.last, "seed": 5, "grid_size": 4, "labels": True}}


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def generate(self, run: str, epoch: float, seed: float, grid_size: float, labels: bool = False):
        """Draw a grid of digits from one saved epoch of a run.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch to draw from, within the run's saved range (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; the same seed always gives the same latents.
            grid_size: n for an n x n grid, 1 to 10.
            labels: true to write the classifier's digit and confidence under each sample (grey under 50%), or
                "not a digit" (grey) where the judge does not take it for a digit.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed, size = ctx.epoch(engine, epoch), ctx.seed(seed), ctx.size(grid_size)
        labels = flag(labels, "labels")
        image, sentence = digits.grid_picture(engine, epoch, engine.latents(seed, size * size), size, size, labels)
        shown = picture_line(run, epoch, seed, size)
        return widgets.named(image, run, epoch, seed), shown + labels_html(sentence) + stats_html(
            engine.run, epoch, note
        )


def picture_line(run: str, epoch: int, seed: int, size: int) -> str:
    """What the picture shows, in one line above its cards (the settings it was drawn with)."""
    return f'<p class="picture-line"><b>{html.escape(run)}</b>, epoch {epoch}, seed {seed}, {size}x{size} grid</p>'


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last, seed = engine.epochs[-1], 0
    gr.Markdown("Move the **epoch**: the same random inputs, drawn by the Generator saved after that epoch.")
    with gr.Row():
        with gr.Column(scale=2, min_width=280):
            epoch = widgets.epoch_slider(engine.epochs, last, elem_classes="main-control")
            run = widgets.run_dropdown(ctx)  # under the epoch: on a phone the epoch follows the picture
            seed_box, dice = widgets.seed_box("Seed", seed)
            size = widgets.grid_slider(6)
            labels = widgets.labels_box()
            button = gr.Button("Generate", variant="primary")
            share = links.share_row("generate")
        with gr.Column(scale=3, min_width=300):
            picture = widgets.image(
                "Generated digits",
                widgets.named(engine.seed_grid(last, seed, 6), ctx.runs.default, last, seed),
                elem_id="generate-picture",
                height=widgets.MAIN_HEIGHT,
            )
            stats = gr.HTML(picture_line(ctx.runs.default, last, seed, 6) + stats_html(engine.run, last))
    gr.Markdown(
        "Each seed picks a fixed set of random latent vectors *z*; the Generator saved after the chosen epoch turns "
        "them into 28x28 digits. Keep the seed and move the epoch to see the same *z* earlier or later in training."
    )
    explain.term(explain.LATENT)  # under the picture: the picture and its epoch slider open in view together
    inputs, outputs = [run, epoch, seed_box, size, labels], [picture, stats]
    drawn = gr.on(
        [button.click, seed_box.submit, seed_box.input, epoch.input, size.input, labels.input],
        handlers.generate,
        inputs,
        outputs,
        api_name="generate",
        api_description=(
            f"Draw an n x n grid of digits from one epoch's Generator. {widgets.run_doc(ctx)}; "
            f"{widgets.epoch_doc(ctx)}; {widgets.SEED_DOC}; {widgets.GRID_DOC}; {widgets.LABELS_DOC}. "
            "Returns (PNG, stats HTML)."
        ),
        **widgets.LIVE,
    )
    widgets.stale_marks(drawn, picture)
    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_box)]
    params += [links.whole(size, "grid_size", 1, MAX_GRID), links.flag(labels)]
    links.add(ctx, "generate", TITLE, share, params, handlers.generate, outputs)
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.generate, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        handlers.generate, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
