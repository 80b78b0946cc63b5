"""Generate: an n x n grid of digits from one saved epoch's Generator."""

import gradio as gr

from demo import widgets
from demo.context import Context, Facts, shown_errors
from demo.stats import stats_html

TITLE = "Generate"


def examples(facts: Facts) -> dict[str, dict]:
    return {"generate": {"epoch": facts.last, "seed": 5, "grid_size": 4}}


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def generate(self, epoch: float, seed: float, grid_size: float):
        """Draw a grid of digits from one saved epoch.

        Args:
            epoch: training epoch to draw from; between the first and last saved epoch (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; the same seed always gives the same latents.
            grid_size: n for an n x n grid, 1 to 10.
        """
        ctx = self.ctx
        (epoch, note), seed, size = ctx.epoch(epoch), ctx.seed(seed), ctx.size(grid_size)
        return ctx.engine.seed_grid(epoch, seed, size), stats_html(ctx.engine.run, epoch, note)


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers, engine = Handlers(ctx), ctx.engine
    last, seed = engine.epochs[-1], 0
    gr.Markdown(
        "Each seed picks a fixed set of random latent vectors *z*; the Generator saved after the chosen epoch turns "
        "them into 28x28 digits. Keep the seed and move the epoch to see the same *z* earlier or later in training."
    )
    with gr.Row():
        with gr.Column(scale=2, min_width=280):
            epoch = widgets.epoch_slider(engine, last)
            seed_box, dice = widgets.seed_box("Seed", seed)
            size = widgets.grid_slider(6)
            button = gr.Button("Generate", variant="primary")
        with gr.Column(scale=3, min_width=300):
            picture = widgets.image("Generated digits", engine.seed_grid(last, seed, 6))
            stats = gr.HTML(stats_html(engine.run, last))
    inputs, outputs = [epoch, seed_box, size], [picture, stats]
    gr.on(
        [button.click, seed_box.submit, epoch.input, size.input],
        handlers.generate,
        inputs,
        outputs,
        api_name="generate",
        api_description=(
            f"Draw an n x n grid of digits from one epoch's Generator. {widgets.epoch_doc(engine)}; "
            f"{widgets.SEED_DOC}; {widgets.GRID_DOC}. Returns (PNG, stats HTML)."
        ),
        **widgets.LIVE,
    )
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.generate, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
