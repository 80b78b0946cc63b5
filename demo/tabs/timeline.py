"""Timeline: the same latents drawn by every saved epoch, the training record, a progression sheet, a GIF."""

import gradio as gr
import numpy as np

from demo import widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, epoch_ranges
from demo.stats import metric_frames, stats_html
from demo.validation import InputError, whole_number, whole_numbers

TITLE = "Timeline"
MAX_SHEET_ROWS = 24  # progression sheet: at most this many epochs


def examples(facts: Facts) -> dict[str, dict]:
    return {
        "timeline": {"epoch": facts.first, "seed": 5, "grid_size": 4},
        "plots": {"epoch": facts.last},
        "progression": {"seed": 5, "columns": 3, "epochs": [str(facts.first), str(facts.last)]},
        "timeline_gif": {"seed": 5, "grid_size": 2},
    }


def default_sheet_epochs(epochs: list[int], rows: int = 8) -> list[int]:
    """About `rows` saved epochs spaced evenly on a log scale (early epochs change most)."""
    if len(epochs) <= rows:
        return list(epochs)
    targets = np.geomspace(max(epochs[0], 1), max(epochs[-1], 1), rows)
    return sorted({min(epochs, key=lambda e: abs(np.log(max(e, 1) / t))) for t in targets})


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def timeline(self, epoch: float, seed: float, grid_size: float):
        """The same latents (from the seed) rendered by the Generator of one epoch.

        Args:
            epoch: training epoch; in-between values use the nearest saved epoch.
            seed: whole number from 0 to 2147483647; the run's training seed reproduces its own sample grids.
            grid_size: n for an n x n grid, 1 to 10.
        """
        ctx = self.ctx
        (epoch, note), seed, size = ctx.epoch(epoch), ctx.seed(seed), ctx.size(grid_size)
        return ctx.engine.seed_grid(epoch, seed, size), stats_html(ctx.engine.run, epoch, note)

    @shown_errors
    def metric_plots(self, epoch: float):
        """Per-epoch training records from metrics.json (losses, D outputs, FID, IS) with the epoch marked.

        Args:
            epoch: training epoch to mark on the plots.
        """
        epoch, _ = self.ctx.epoch(epoch)
        return metric_frames(self.ctx.engine.run, epoch)

    @shown_errors
    def progression(self, seed: float, columns: float, epochs: list):
        """A sheet with one row per chosen epoch and the same latent in each column.

        Args:
            seed: whole number from 0 to 2147483647.
            columns: latents per row, 1 to 10.
            epochs: list of saved epochs to show as rows (at most 24).
        """
        engine = self.ctx.engine
        seed = self.ctx.seed(seed)
        columns = whole_number(columns, "columns", 1, MAX_GRID)
        if isinstance(epochs, (list, tuple)):  # the API documents the dropdown's values as strings
            epochs = [int(e) if isinstance(e, str) and e.isdigit() and len(e) < 10 else e for e in epochs]
        chosen = whole_numbers(epochs, "epochs", engine.epochs[0], engine.epochs[-1], MAX_SHEET_ROWS)
        missing = [e for e in chosen if e not in engine.run.generators]
        if missing:
            raise InputError(f"epochs must be saved epochs ({epoch_ranges(engine.epochs)}); {missing[0]} is not")
        return engine.progression(chosen, seed, columns)

    @shown_errors
    def timeline_gif(self, seed: float, grid_size: float):
        """An animated GIF of the whole run: every saved epoch rendering the same grid.

        Args:
            seed: whole number from 0 to 2147483647.
            grid_size: n for an n x n grid, 1 to 10.
        """
        seed, size = self.ctx.seed(seed), self.ctx.size(grid_size)
        return self.ctx.gif_file(self.ctx.engine.run_gif(seed, size), f"gan-training-seed{seed}-{size}x{size}")


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers, engine = Handlers(ctx), ctx.engine
    first, last, seed = engine.epochs[0], engine.epochs[-1], 0
    epoch_doc, saved = widgets.epoch_doc(engine), epoch_ranges(engine.epochs)
    gr.Markdown(
        "The **same latent vectors** drawn by the Generator after every saved epoch: drag the epoch slider (or use "
        "the arrow keys) to watch noise turn into digits. The plots are the training record; the dark line marks "
        "the epoch shown."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            epoch = widgets.epoch_slider(engine, first, "Epoch (scrub through training)")
            picture = widgets.image("The same z at this epoch", engine.seed_grid(first, seed, 8))
            stats = gr.HTML(stats_html(engine.run, first))
            seed_box, dice = widgets.seed_box("Seed", seed)
            size = widgets.grid_slider(8)
        with gr.Column(scale=1, min_width=300):
            losses, outputs, quality, scores = metric_frames(engine.run, first)
            plot_args = {
                "x": "epoch",
                "y": "value",
                "color": "series",
                "color_map": widgets.COLORS,
                "height": 220,
                "x_lim": [first, last] if first < last else None,
                "buttons": ["fullscreen", "export"],
            }
            losses_plot = gr.LinePlot(losses, title="Losses", y_title="BCE loss", **plot_args)
            outputs_plot = gr.LinePlot(
                outputs, title="D's mean output", y_title="probability 'real'", y_lim=[0, 1], **plot_args
            )
            fid_plot = gr.LinePlot(
                quality, title="FID (lower is better)", y_title="FID", visible=not quality.empty, **plot_args
            )
            is_plot = gr.LinePlot(
                scores, title="Inception Score (higher is better)", y_title="IS", visible=not scores.empty, **plot_args
            )
            if quality.empty:
                gr.Markdown(
                    "*No quality measures (FID, IS) in metrics.json for this run: train with a classifier to get them.*"
                )
    inputs, outputs = [epoch, seed_box, size], [picture, stats]
    gr.on(
        [epoch.input, size.input, seed_box.submit],
        handlers.timeline,
        inputs,
        outputs,
        api_name="timeline",
        api_description=(
            "The seed's latents rendered by one epoch's Generator, with its training record. "
            f"{epoch_doc}; {widgets.SEED_DOC}; {widgets.GRID_DOC}."
        ),
        **widgets.LIVE,
    )
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.timeline, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    epoch.input(
        handlers.metric_plots,
        epoch,
        [losses_plot, outputs_plot, fid_plot, is_plot],
        api_name="plots",
        api_description=(
            f"The per-epoch records (losses, D outputs, FID, IS) as tables, with one epoch marked. {epoch_doc}."
        ),
        **widgets.LIVE,
    )

    with gr.Accordion("Progression sheet: one row per epoch, the same z in each column", open=True):
        with gr.Row(equal_height=False):
            sheet_epochs = gr.Dropdown(
                [str(e) for e in engine.epochs],
                value=[str(e) for e in default_sheet_epochs(engine.epochs)],
                multiselect=True,
                label=f"Epochs (rows, up to {MAX_SHEET_ROWS})",
                scale=3,
                min_width=220,
            )
            sheet_columns = gr.Slider(1, MAX_GRID, value=8, step=1, label="Columns", scale=1, min_width=140)
            sheet_button = gr.Button("Draw sheet", variant="primary", scale=1, min_width=120)
        sheet = widgets.image(
            "Progression sheet", engine.progression(default_sheet_epochs(engine.epochs), seed, 8), show_label=False
        )
    sheet_button.click(
        handlers.progression,
        [seed_box, sheet_columns, sheet_epochs],
        sheet,
        api_name="progression",
        api_description=(
            f"One row per chosen epoch, the seed's latents in the columns. {widgets.SEED_DOC}; columns 1-{MAX_GRID}; "
            f"epochs: list of saved epochs ({saved}), at most {MAX_SHEET_ROWS}."
        ),
        preprocess=False,
    )
    with gr.Accordion("Animated GIF of the whole run", open=False):
        gif_button = gr.Button("Make GIF (seed and grid size from above)")
        gif_file = gr.File(label="Training GIF", interactive=False)
    gif_button.click(
        handlers.timeline_gif,
        [seed_box, size],
        gif_file,
        api_name="timeline_gif",
        api_description=(
            f"An animated GIF of every saved epoch rendering the same grid. {widgets.SEED_DOC}; {widgets.GRID_DOC}."
        ),
        preprocess=False,
    )
