"""Timeline: the same latents drawn by every saved epoch, the training record, a progression sheet, a GIF."""

import gradio as gr
import numpy as np

from demo import digits, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, Engine, epoch_ranges, stacked_progression
from demo.stats import labels_html, metric_frames, stats_html
from demo.validation import InputError, flag, whole_number, whole_numbers

TITLE = "Timeline"
MAX_SHEET_ROWS = 24  # progression sheet: at most this many epochs


def examples(facts: Facts) -> dict[str, dict]:
    sheet = {"seed": 5, "columns": 3, "epochs": [str(facts.first), str(facts.last)], "run_b": facts.other}
    return {
        "timeline": {"run": facts.run, "epoch": facts.first, "seed": 5, "grid_size": 4, "labels": True},
        "plots": {"run": facts.run, "epoch": facts.last},
        "progression": {"run": facts.run, **sheet},
        "timeline_gif": {"run": facts.run, "seed": 5, "grid_size": 2},
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
    def timeline(self, run: str, epoch: float, seed: float, grid_size: float, labels: bool = False):
        """The same latents (from the seed) rendered by the Generator of one epoch.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch; in-between values use the nearest saved epoch.
            seed: whole number from 0 to 2147483647; the run's training seed reproduces its own sample grids.
            grid_size: n for an n x n grid, 1 to 10.
            labels: true to write the classifier's digit and confidence under each sample (grey under 50%).
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed, size = ctx.epoch(engine, epoch), ctx.seed(seed), ctx.size(grid_size)
        labels = flag(labels, "labels")
        image, sentence = digits.grid_picture(engine, epoch, engine.latents(seed, size * size), size, size, labels)
        return image, labels_html(sentence) + stats_html(engine.run, epoch, note)

    @shown_errors
    def metric_plots(self, run: str, epoch: float):
        """Per-epoch training records from metrics.json (losses, D outputs, FID, IS) with the epoch marked.

        Args:
            run: name of a loaded run.
            epoch: training epoch to mark on the plots.
        """
        engine = self.ctx.engine(run)
        epoch, _ = self.ctx.epoch(engine, epoch)
        return metric_frames(engine.run, epoch)

    @shown_errors
    def progression(self, run: str, seed: float, columns: float, epochs: list, run_b: str):
        """A sheet with one row per chosen epoch and the same latent in each column; optionally a second run's
        rows (its nearest saved epochs) below the first run's.

        Args:
            run: name of a loaded run.
            seed: whole number from 0 to 2147483647.
            columns: latents per row, 1 to 10.
            epochs: list of the run's saved epochs to show as rows (at most 24).
            run_b: a second run to stack below, or '' for none.
        """
        engine = self.ctx.engine(run)
        second = self.ctx.second_engine(run_b, "run_b")
        seed = self.ctx.seed(seed)
        columns = whole_number(columns, "columns", 1, MAX_GRID)
        if isinstance(epochs, (list, tuple)):  # the API documents the dropdown's values as strings
            epochs = [int(e) if isinstance(e, str) and e.isdigit() and len(e) < 10 else e for e in epochs]
        chosen = whole_numbers(epochs, "epochs", engine.epochs[0], engine.epochs[-1], MAX_SHEET_ROWS)
        missing = [e for e in chosen if e not in engine.run.generators]
        if missing:
            raise InputError(f"epochs must be saved epochs ({epoch_ranges(engine.epochs)}); {missing[0]} is not")
        if second is None:
            return engine.progression(chosen, seed, columns)
        if second.side != engine.side:
            raise InputError(f"run_b must draw {engine.side}x{engine.side} images like run; it draws {second.side}")
        snapped = sorted({second.nearest_epoch(e) for e in chosen})
        return stacked_progression([(run, engine, chosen), (run_b, second, snapped)], seed, columns)

    @shown_errors
    def timeline_gif(self, run: str, seed: float, grid_size: float):
        """An animated GIF of the whole run: every saved epoch rendering the same grid.

        Args:
            run: name of a loaded run.
            seed: whole number from 0 to 2147483647.
            grid_size: n for an n x n grid, 1 to 10.
        """
        engine = self.ctx.engine(run)
        seed, size = self.ctx.seed(seed), self.ctx.size(grid_size)
        return self.ctx.gif_file(engine.run_gif(seed, size), f"{run}-training-seed-{seed}-{size}x{size}")


def has_quality(engine: Engine) -> bool:
    """Whether the run's metrics.json holds FID / IS scores (runs trained without the classifier do not)."""
    return any("fid" in record for record in engine.run.records.values())


def plot_settings(engine: Engine) -> dict:
    """The plots' settings that follow the chosen run: its epochs on the x axis."""
    first, last = engine.epochs[0], engine.epochs[-1]
    return {"x_lim": [first, last] if first < last else None}


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    first, seed = engine.epochs[0], 0
    gr.Markdown(
        "The **same latent vectors** drawn by the Generator after every saved epoch: drag the epoch slider (or use "
        "the arrow keys) to watch noise turn into digits. The plots are the training record; the dark line marks "
        "the epoch shown."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            run = widgets.run_dropdown(ctx)
            epoch = widgets.epoch_slider(engine.epochs, first, "Epoch (scrub through training)")
            picture = widgets.image("The same z at this epoch", engine.seed_grid(first, seed, 8))
            stats = gr.HTML(stats_html(engine.run, first))
            seed_box, dice = widgets.seed_box("Seed", seed)
            size = widgets.grid_slider(8)
            labels = widgets.labels_box()
        with gr.Column(scale=1, min_width=300):
            losses, outputs, quality, scores = metric_frames(engine.run, first)
            plot_args = {
                "x": "epoch",
                "y": "value",
                "color": "series",
                "color_map": widgets.COLORS,
                "height": 220,
                "buttons": ["fullscreen", "export"],
                **plot_settings(engine),
            }
            losses_plot = gr.LinePlot(losses, title="Losses", y_title="BCE loss", **plot_args)
            outputs_plot = gr.LinePlot(
                outputs, title="D's mean output", y_title="probability 'real'", y_lim=[0, 1], **plot_args
            )
            quality_args = {**plot_args, "visible": has_quality(engine)}
            fid_plot = gr.LinePlot(quality, title="FID (lower is better)", y_title="FID", **quality_args)
            is_plot = gr.LinePlot(scores, title="Inception Score (higher is better)", y_title="IS", **quality_args)
            no_quality = gr.Markdown(
                "*No quality measures (FID, IS) in metrics.json for this run: train with a classifier to get them.*",
                visible=not has_quality(engine),
            )
    inputs, outputs = [run, epoch, seed_box, size, labels], [picture, stats]
    plots = [losses_plot, outputs_plot, fid_plot, is_plot]
    gr.on(
        [epoch.input, size.input, seed_box.submit, labels.input],
        handlers.timeline,
        inputs,
        outputs,
        api_name="timeline",
        api_description=(
            "The seed's latents rendered by one epoch's Generator, with its training record. "
            f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; {widgets.SEED_DOC}; {widgets.GRID_DOC}; "
            f"{widgets.LABELS_DOC}."
        ),
        **widgets.LIVE,
    )
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.timeline, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    epoch.input(
        handlers.metric_plots,
        [run, epoch],
        plots,
        api_name="plots",
        api_description=(
            "The per-epoch records (losses, D outputs, FID, IS) as tables, with one epoch marked. "
            f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}."
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
            run_b = gr.Dropdown(
                [("(none)", ""), *ctx.runs.choices()],
                value="",
                label="Second run below",
                info="Its nearest saved epochs, the same z",
                scale=1,
                min_width=160,
            )
            ctx.watch_runs(run_b, none=True)
            sheet_button = gr.Button("Draw sheet", variant="primary", scale=1, min_width=120)
        sheet = widgets.image(
            "Progression sheet", engine.progression(default_sheet_epochs(engine.epochs), seed, 8), show_label=False
        )
    sheet_button.click(
        handlers.progression,
        [run, seed_box, sheet_columns, sheet_epochs, run_b],
        sheet,
        api_name="progression",
        api_description=(
            f"One row per chosen epoch, the seed's latents in the columns. {widgets.run_doc(ctx)}; "
            f"{widgets.SEED_DOC}; columns 1-{MAX_GRID}; epochs: list of the run's saved epochs, at most "
            f"{MAX_SHEET_ROWS}; run_b: '' or a second run whose rows (its nearest saved epochs) go below."
        ),
        preprocess=False,
    )
    with gr.Accordion("Animated GIF of the whole run", open=False):
        gif_button = gr.Button("Make GIF (run, seed and grid size from above)")
        gif_file = gr.File(label="Training GIF", interactive=False)
        widgets.gif_preview("The training GIF, playing", gif_file, elem_id="timeline-gif-preview")
    gif_button.click(
        handlers.timeline_gif,
        [run, seed_box, size],
        gif_file,
        api_name="timeline_gif",
        api_description=(
            "An animated GIF of every saved epoch rendering the same grid. "
            f"{widgets.run_doc(ctx)}; {widgets.SEED_DOC}; {widgets.GRID_DOC}."
        ),
        preprocess=False,
    )

    def follow(name: str, value: float):
        """A new run: the slider, the plots' x range and the sheet's epoch choices follow it."""
        if name not in ctx.names:
            return [gr.skip()] * (3 + len(plots))
        chosen = ctx.runs.engines[name]
        quality = has_quality(chosen)
        sheet_choices = gr.Dropdown(
            [str(e) for e in chosen.epochs], value=[str(e) for e in default_sheet_epochs(chosen.epochs)]
        )
        axes = [gr.LinePlot(**plot_settings(chosen), visible=quality or k < 2) for k in range(len(plots))]
        return [widgets.follow_run(ctx, name, value), sheet_choices, gr.Markdown(visible=not quality), *axes]

    run.input(follow, [run, epoch], [epoch, sheet_epochs, no_quality, *plots], **widgets.PRIVATE).then(
        handlers.timeline, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.metric_plots, [run, epoch], plots, api_visibility="private", **widgets.LIVE)
