"""Timeline: the same latents drawn by every saved epoch, the training record, a progression sheet, a GIF."""

import logging

import gradio as gr
import numpy as np

from demo import browser_gen, digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, Engine, epoch_ranges, stacked_progression
from demo.stats import labels_html, metric_frames, stats_html
from demo.validation import InputError, flag, whole_number, whole_numbers

log = logging.getLogger("demo")

TITLE = "Timeline"
MAX_SHEET_ROWS = 24  # progression sheet: at most this many epochs
SPEEDS = [("slow", 1.2), ("normal", 0.6), ("fast", 0.3)]  # Play: seconds per saved epoch
PLOT_SETTLE_MS = 400  # the plots' epoch marker follows once the epoch has stood still this long
# The slider moves over the index of the saved epochs; this maps an index to its epoch in the browser (from the
# readout's data-epochs), writes the readout and returns the epoch for the hidden epoch box, whose change draws.
INDEX_TO_EPOCH = """(index) => {
  const readout = document.querySelector('#timeline-readout [data-epochs]');
  const epochs = readout.dataset.epochs.split(',').map(Number);
  const k = Math.max(0, Math.min(epochs.length - 1, Math.round(Number(index) || 0)));
  readout.querySelector('b').textContent = epochs[k];
  readout.querySelector('small').textContent = `saved epoch ${k + 1} of ${epochs.length}`;
  return epochs[k];
}"""
# Redrawing four plots is the slow part of a scrub: the marker moves once the epoch settles, not on every step.
SETTLE_PLOTS = f"""() => {{
  clearTimeout(window.timelinePlots);
  window.timelinePlots = setTimeout(() => document.querySelector('#timeline-sync')?.click(), {PLOT_SETTLE_MS});
}}"""
EXPLAIN = (
    "- **Losses**: how wrong each player is (binary cross-entropy). They do not fall to zero: D and G push against "
    "each other, so level lines mean a balance, not a stop.\n"
    "- **D(x)** is the Discriminator's average 'probability real' on real digits, **D(G(z))** on the Generator's "
    "fakes. Early on D tells them apart (near 1 and near 0); as G improves they move toward each other.\n"
    "- **FID** (Fréchet distance) compares the fakes' features with real digits' features: lower is closer to "
    "real, and the grey line is what real digits score against each other.\n"
    "- **IS** (Inception Score) is high when each fake is clearly one digit and all ten digits appear (at most 10)."
    "\n- **Latent z**: the 100 random numbers the Generator turns into a picture. The seed fixes them, so every "
    "epoch draws the same z and you watch the same digits form."
)


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
            labels: true to write the classifier's digit and confidence under each sample (grey under 50%), or
                "not a digit" (grey) where the judge does not take it for a digit.
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

    def live_timeline(self, run: str, seed: float, grid_size: float, labels: bool, epoch: float) -> dict:
        """What the browser needs to draw the grid at every saved epoch (fetched in the background, in half
        precision): the seed's latents and each epoch's weights. With labels on, the server's picture shows."""
        try:
            ctx = self.ctx
            engine = ctx.engine(run)
            seed, size = ctx.seed(seed), ctx.size(clamped_size(grid_size))
            if flag(labels, "labels"):
                return browser_gen.state([None], epoch=epoch)
            latents = engine.latents(seed, size * size)
            return browser_gen.state(
                [browser_gen.grid_over_epochs(engine, latents, size, "#timeline-picture img")], epoch=epoch
            )
        except Exception as err:  # the server's own event says what is wrong
            log.debug("no browser drawing: %s", err)
            return browser_gen.state([None], epoch=epoch)


def readout_html(epochs: list[int], epoch: int) -> str:
    """The epoch the slider points at (the slider itself moves over the saved epochs' index)."""
    index = epochs.index(epoch)
    return (
        f'<div class="readout" data-epochs="{",".join(map(str, epochs))}">Epoch <b>{epoch}</b> '
        f"<small>saved epoch {index + 1} of {len(epochs)}</small></div>"
    )


def clamped_size(value: object) -> object:
    """A grid size typed past either end shows the nearest one the slider has (the box clamps it the same way)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return min(max(value, 1), MAX_GRID)
    return value


def has_quality(engine: Engine) -> bool:
    """Whether the run's metrics.json holds FID / IS scores (runs trained without the classifier do not)."""
    return any("fid" in record for record in engine.run.records.values())


def plot_settings(engine: Engine) -> dict:
    """The plots' settings that follow the chosen run: its epochs on the x axis."""
    first, last = engine.epochs[0], engine.epochs[-1]
    return {"x_lim": [first, last] if first < last else None}


def explained_plot(
    frame, title: str, y_title: str, explanation: str, plot_args: dict
) -> tuple[gr.LinePlot, gr.Markdown]:
    """A line plot with its one-line explanation under it, both shown or hidden as plot_args' `visible` says."""
    plot = gr.LinePlot(frame, title=title, y_title=y_title, **plot_args)
    note = gr.Markdown(explanation, elem_classes="explain", visible=plot_args.get("visible", True))
    return plot, note


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    first, seed = engine.epochs[0], 0
    gr.Markdown(
        "The **same latent vectors** drawn by the Generator after every saved epoch: press **Play**, or drag the "
        "slider (or use the arrow keys), to watch noise turn into digits. Each step is the next saved epoch."
    )
    with gr.Row(elem_classes="picture-row"):
        with gr.Column(scale=1, min_width=300):
            with gr.Group(elem_classes="scrubber"):
                readout = gr.HTML(readout_html(engine.epochs, first), elem_id="timeline-readout", padding=False)
                step = gr.Slider(
                    0,
                    len(engine.epochs) - 1,
                    value=0,
                    step=1,
                    show_label=False,
                    interactive=len(engine.epochs) > 1,
                    elem_id="timeline-step",
                )
                with gr.Row(equal_height=False):
                    play = gr.Button("▶ Play", variant="primary", min_width=90, elem_id="timeline-play")
                    speed = gr.Radio(SPEEDS, value=SPEEDS[1][1], show_label=False, min_width=200, scale=2)
            # The epoch the picture shows: the API's epoch argument; the slider above sets it (saved epochs only).
            epoch = gr.Number(first, precision=0, visible="hidden", elem_id="timeline-epoch")
            with browser_gen.live_picture(
                handlers.live_timeline(ctx.runs.default, seed, 8, False, first), elem_id="timeline-live"
            ) as live:
                picture = widgets.image(
                    "The same z at this epoch",
                    engine.seed_grid(first, seed, 8),
                    elem_id="timeline-picture",
                    height=widgets.MAIN_HEIGHT - 80,
                )
            stats = gr.HTML(stats_html(engine.run, first))
            run = widgets.run_dropdown(ctx)  # under the picture: the scrubber and the picture open in view together
            seed_box, dice = widgets.seed_box("Seed", seed)
            size = widgets.grid_slider(8)
            labels = widgets.labels_box()
            with gr.Accordion("Only one kind of digit? That is mode collapse", open=False):
                gr.Markdown(explain.MODE_COLLAPSE)
            share = links.share_row("timeline")
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
            losses_plot, _ = explained_plot(
                losses,
                "Losses",
                "BCE loss",
                "How wrong each player is; D and G push against each other, so neither loss falls to 0.",
                plot_args,
            )
            with gr.Accordion("Why does G's loss rise while the pictures get better?", open=False):
                gr.Markdown(explain.WHY_G_LOSS_RISES)
            outputs_plot, _ = explained_plot(
                outputs,
                "D's mean output",
                "probability 'real'",
                "D(x): D's 'real' score on real digits; D(G(z)): on fakes. They meet as the fakes get convincing.",
                {**plot_args, "y_lim": [0, 1]},
            )
            with gr.Accordion("Why do D's outputs not meet at 0.5?", open=False):
                gr.Markdown(explain.WHY_D_NOT_HALF)
            quality_args = {**plot_args, "visible": has_quality(engine)}
            fid_plot, fid_note = explained_plot(
                quality,
                "FID (lower is better)",
                "FID",
                "FID: how far the fakes' features are from real digits'; it goes down as the fakes look more real.",
                quality_args,
            )
            is_plot, is_note = explained_plot(
                scores,
                "IS (higher is better)",
                "IS",
                "IS: high when each fake is clearly one digit and all ten digits appear (10 at most).",
                quality_args,
            )
            no_quality = gr.Markdown(
                "*No quality measures (FID, IS) in metrics.json for this run: train with a classifier to get them.*",
                visible=not has_quality(engine),
            )
            with gr.Accordion("What am I looking at?", open=False):
                gr.Markdown(EXPLAIN)
                explain.curious(explain.BCE, explain.FID, explain.IS)
    plots_sync = gr.Button("Mark the epoch on the plots", visible="hidden", elem_id="timeline-sync")
    inputs, outputs = [run, epoch, seed_box, size, labels], [picture, stats]
    plots = [losses_plot, outputs_plot, fid_plot, is_plot]
    step.input(None, step, epoch, js=INDEX_TO_EPOCH)  # in the browser: no server round trip to find the epoch
    gr.on(
        [epoch.change],
        handlers.timeline,
        inputs,
        outputs,
        api_name="timeline",
        api_description=(
            "The seed's latents rendered by one epoch's Generator, with its training record. "
            f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; {widgets.SEED_DOC}; {widgets.GRID_DOC}; "
            f"{widgets.LABELS_DOC}. Returns (PNG, stats HTML)."
        ),
        **widgets.LIVE,
    )
    epoch.change(None, None, None, js=SETTLE_PLOTS)
    # Scrubbing and Play set the epoch box; the browser draws that epoch once its weights are in.
    epoch.change(None, epoch, None, js=browser_gen.moved(["epoch"], [live]), **widgets.MOVED)
    live_inputs = [run, seed_box, size, labels, epoch]
    gr.on(
        [seed_box.submit, size.release, labels.input],
        handlers.live_timeline,
        live_inputs,
        live,
        api_visibility="private",
        **widgets.LIVE,
    )

    def settings_changed(run: str, epoch: float, seed: float, grid_size: float, labels: bool):
        """Seed, grid size or labels committed (Enter, release, tick): a size past either end is clamped, a
        cleared box waits for a value."""
        if seed is None or seed == "" or grid_size is None or grid_size == "":
            return gr.skip(), gr.skip()
        return handlers.timeline(run, epoch, seed, clamped_size(grid_size), labels)

    gr.on(
        [seed_box.submit, size.release, labels.input],
        settings_changed,
        inputs,
        outputs,
        api_visibility="private",
        **widgets.LIVE,
    )
    plots_sync.click(
        handlers.metric_plots,
        [run, epoch],
        plots,
        api_name="plots",
        api_description=(
            "The per-epoch records (losses, D outputs, FID, IS) as tables, with one epoch marked. "
            f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}. Returns (losses, D outputs, FID and IS tables: "
            "rows of epoch, value, series)."
        ),
        **widgets.LIVE,
    )

    playing = gr.State(False)
    timer = gr.Timer(SPEEDS[1][1], active=False)

    def play_pause(name: str, index: float, is_playing: bool, seconds: float):
        """Play from here (from the start when at the end), or pause."""
        if is_playing or name not in ctx.names:
            return False, gr.Timer(active=False), gr.Button("▶ Play"), gr.skip(), gr.skip(), gr.skip()
        epochs = ctx.runs.engines[name].epochs
        index = int(index) if isinstance(index, (int, float)) and 0 <= index < len(epochs) - 1 else 0
        ticking = gr.Timer(value=seconds, active=True)
        return True, ticking, gr.Button("⏸ Pause"), index, epochs[index], readout_html(epochs, epochs[index])

    def advance(name: str, index: float):
        """One Play tick: the next saved epoch; the last one stops the timer."""
        if name not in ctx.names:
            return gr.skip(), gr.skip(), gr.skip(), False, gr.Timer(active=False), gr.Button("▶ Play")
        epochs = ctx.runs.engines[name].epochs
        index = min(int(index) + 1 if isinstance(index, (int, float)) else 0, len(epochs) - 1)
        last = index == len(epochs) - 1
        ending = (False, gr.Timer(active=False), gr.Button("▶ Play")) if last else (gr.skip(),) * 3
        return index, epochs[index], readout_html(epochs, epochs[index]), *ending

    play.click(play_pause, [run, step, playing, speed], [playing, timer, play, step, epoch, readout], **widgets.PRIVATE)
    timer.tick(advance, [run, step], [step, epoch, readout, playing, timer, play], **widgets.PRIVATE)
    speed.input(lambda seconds: gr.Timer(value=seconds), speed, timer, **widgets.PRIVATE)

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
    sheet_inputs = [run, seed_box, sheet_columns, sheet_epochs, run_b]
    sheet_button.click(
        handlers.progression,
        sheet_inputs,
        sheet,
        api_name="progression",
        api_description=(
            f"One row per chosen epoch, the seed's latents in the columns. {widgets.run_doc(ctx)}; "
            f"{widgets.SEED_DOC}; columns 1-{MAX_GRID}; epochs: list of the run's saved epochs, at most "
            f"{MAX_SHEET_ROWS}; run_b: '' or a second run whose rows (its nearest saved epochs) go below. "
            "Returns a PNG."
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
            f"{widgets.run_doc(ctx)}; {widgets.SEED_DOC}; {widgets.GRID_DOC}. Returns a GIF file."
        ),
        preprocess=False,
    )
    # A new seed (typed or Random) redraws the grid and the sheet: both show the same z.
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.timeline, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.progression, sheet_inputs, sheet, api_visibility="private", **widgets.LIVE).then(
        handlers.live_timeline, live_inputs, live, api_visibility="private", **widgets.LIVE
    )
    seed_box.submit(handlers.progression, sheet_inputs, sheet, api_visibility="private", **widgets.LIVE)

    def follow(name: str, value: float):
        """A new run: the slider (over its saved epochs), the plots' x range and the sheet's epochs follow it."""
        if name not in ctx.names:
            return [gr.skip()] * (7 + len(plots))
        chosen = ctx.runs.engines[name]
        quality = has_quality(chosen)
        nearest = chosen.nearest_epoch(int(value)) if isinstance(value, (int, float)) else chosen.epochs[-1]
        index = chosen.epochs.index(nearest)
        slider = gr.Slider(minimum=0, maximum=len(chosen.epochs) - 1, value=index, interactive=len(chosen.epochs) > 1)
        sheet_choices = gr.Dropdown(
            [str(e) for e in chosen.epochs], value=[str(e) for e in default_sheet_epochs(chosen.epochs)]
        )
        axes = [gr.LinePlot(**plot_settings(chosen), visible=quality or k < 2) for k in range(len(plots))]
        shown = readout_html(chosen.epochs, nearest)
        notes = [gr.Markdown(visible=not quality), gr.Markdown(visible=quality), gr.Markdown(visible=quality)]
        return [slider, nearest, shown, sheet_choices, *notes, *axes]

    def opened(name: str, value: int, seed: int, size: int, labels: bool) -> list:
        """A link: the run's slider, readout, sheet epochs and plots (the epoch marked), and the picture."""
        slider, nearest, shown, sheet_choices, *notes_and_axes = follow(name, value)
        notes, chosen = notes_and_axes[:3], ctx.runs.engines[name]
        frames = handlers.metric_plots(name, nearest)
        quality = has_quality(chosen)
        axes = [gr.LinePlot(f, **plot_settings(chosen), visible=quality or k < 2) for k, f in enumerate(frames)]
        return [slider, shown, sheet_choices, *notes, *axes, *handlers.timeline(name, nearest, seed, size, labels)]

    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_box)]
    params[1].update = lambda value, chosen: ctx.runs.engines[chosen["run"]].nearest_epoch(value)  # saved ones only
    params += [links.whole(size, "grid_size", 1, MAX_GRID), links.flag(labels)]
    link_outputs = [step, readout, sheet_epochs, no_quality, fid_note, is_note, *plots, *outputs]
    links.add(ctx, "timeline", TITLE, share, params, opened, link_outputs)

    run.input(
        follow,
        [run, epoch],
        [step, epoch, readout, sheet_epochs, no_quality, fid_note, is_note, *plots],
        **widgets.PRIVATE,
    ).then(handlers.timeline, inputs, outputs, api_visibility="private", **widgets.LIVE).then(
        handlers.metric_plots, [run, epoch], plots, api_visibility="private", **widgets.LIVE
    ).then(handlers.live_timeline, live_inputs, live, api_visibility="private", **widgets.LIVE)
