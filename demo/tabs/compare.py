"""Compare: two runs side by side at one epoch, the same latents through both Generators, and their records."""

import logging

import gradio as gr

from demo import browser_gen, digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, Engine, epoch_ranges
from demo.stats import milestones_markdown, run_histogram_html, runs_frame
from demo.validation import flag, whole_number

log = logging.getLogger("demo")

TITLE = "Compare"
DEFAULT_PAIR = ("tutorial", "stable")  # the two recipes the project ships
PICTURE_HEIGHT = 330  # each of the two pictures: both, and the epoch slider under them, open in view
START_EPOCH = 10  # early on the recipes differ most; the slider goes on to the last epoch


def examples(facts: Facts) -> dict[str, dict]:
    pair = {"run_a": facts.run, "run_b": facts.other, "epoch": facts.last}
    return {"compare": {**pair, "seed": 5, "grid": 3, "labels": True}, "compare_plots": pair}


def shared_epochs(a: Engine, b: Engine) -> list[int]:
    """Every epoch either run saved: the range of the one slider that moves both."""
    return sorted(set(a.epochs) | set(b.epochs))


def slider_info(names: tuple[str, str], a: Engine, b: Engine) -> str:
    if a.epochs == b.epochs:
        return f"Saved epochs (both runs): {epoch_ranges(a.epochs)}. In-between values show the nearest saved one."
    saved = "; ".join(f"{name}: {epoch_ranges(engine.epochs)}" for name, engine in zip(names, (a, b), strict=True))
    return f"Saved epochs, {saved}. Each run shows its nearest saved epoch."


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def _pair(self, run_a: object, run_b: object, epoch: object) -> tuple[Engine, Engine, int]:
        a, b = self.ctx.engine(run_a, "run_a"), self.ctx.engine(run_b, "run_b")
        epochs = shared_epochs(a, b)
        return a, b, whole_number(epoch, "epoch", epochs[0], epochs[-1])

    @shown_errors
    def compare(self, run_a: str, run_b: str, epoch: float, seed: float, grid: float, labels: bool = False):
        """The same latents drawn by two runs at one epoch (each run uses its nearest saved epoch).

        Args:
            run_a: name of a loaded run, drawn on the left.
            run_b: name of a loaded run, drawn on the right.
            epoch: training epoch, within either run's saved range.
            seed: whole number from 0 to 2147483647; picks the latents both runs draw.
            grid: n for an n x n grid, 1 to 10.
            labels: true to write the classifier's digit and confidence under each sample (grey under 50%), or
                "not a digit" (grey) where the judge does not take it for a digit.
        """
        a, b, asked = self._pair(run_a, run_b, epoch)
        seed, size = self.ctx.seed(seed), whole_number(grid, "grid", 1, MAX_GRID)
        labels = flag(labels, "labels")
        epoch_a, epoch_b = a.nearest_epoch(asked), b.nearest_epoch(asked)
        latents = a.latents(seed, size * size)
        same_z = a.latent_dim == b.latent_dim
        image_a, seen_a = digits.grid_picture(a, epoch_a, latents, size, size, labels)
        latents_b = latents if same_z else b.latents(seed, size * size)
        image_b, seen_b = digits.grid_picture(b, epoch_b, latents_b, size, size, labels)

        def drawn(name: str, used: int) -> str:
            return f"**{name}** at epoch {used}" + ("" if used == asked else f" (its nearest saved to {asked})")

        how = "the same latents through both Generators" if same_z else "each run's own latents (sizes differ)"
        caption = f"Epoch {asked}, seed {seed}, {size}x{size}, {how}: {drawn(run_a, epoch_a)}, {drawn(run_b, epoch_b)}."
        if seen_a == seen_b and seen_a and not seen_a.startswith("The classifier sees"):  # no classifier: once
            caption += f"\n\n{seen_a}"
        elif seen_a:
            caption += f"\n\n**{run_a}**: {seen_a[0].lower()}{seen_a[1:]} **{run_b}**: {seen_b[0].lower()}{seen_b[1:]}"
        named = (widgets.named(image_a, run_a, epoch_a, seed), widgets.named(image_b, run_b, epoch_b, seed))
        return *named, caption

    @shown_errors
    def compare_plots(self, run_a: str, run_b: str, epoch: float):
        """Both runs' FID and IS per epoch (one line each, the epoch marked), their class histograms at the
        epoch each one draws, and when each first reached all ten digits, IS 7 and FID 100.

        Args:
            run_a: name of a loaded run.
            run_b: name of a loaded run.
            epoch: training epoch, within either run's saved range.
        """
        a, b, asked = self._pair(run_a, run_b, epoch)
        runs = {run_a: a.run, run_b: b.run}
        colors = widgets.run_colors(self.ctx.names)
        return (
            runs_frame(runs, asked, "fid"),
            runs_frame(runs, asked, "inception_score"),
            run_histogram_html(run_a, a.run, a.nearest_epoch(asked), colors[run_a]),
            run_histogram_html(run_b, b.run, b.nearest_epoch(asked), colors[run_b]),
            milestones_markdown(runs),
        )

    def live_compare(self, run_a: str, run_b: str, seed: float, grid: float, labels: bool, epoch: float):
        """What the browser needs to draw both runs at any epoch of the slider (every saved epoch's weights,
        fetched in the background in half precision). With labels on, the server's pictures show."""
        try:
            a, b = self.ctx.engine(run_a, "run_a"), self.ctx.engine(run_b, "run_b")
            seed, size = self.ctx.seed(seed), whole_number(grid, "grid", 1, MAX_GRID)
            if flag(labels, "labels"):
                raise ValueError("labels are drawn by the server")
            latents = a.latents(seed, size * size)
            latents_b = latents if a.latent_dim == b.latent_dim else b.latents(seed, size * size)
            return (
                browser_gen.state([browser_gen.grid_over_epochs(a, latents, size, "#compare-a img")], epoch=epoch),
                browser_gen.state([browser_gen.grid_over_epochs(b, latents_b, size, "#compare-b img")], epoch=epoch),
            )
        except Exception as err:  # the server's own event says what is wrong
            log.debug("no browser drawing: %s", err)
            return browser_gen.state([None], epoch=epoch), browser_gen.state([None], epoch=epoch)


def default_pair(names: list[str]) -> tuple[str, str]:
    """tutorial vs stable when both are loaded; else the first run and the next one (or itself)."""
    first = DEFAULT_PAIR[0] if DEFAULT_PAIR[0] in names else names[0]
    others = [name for name in names if name != first]
    second = DEFAULT_PAIR[1] if DEFAULT_PAIR[1] in others else (others[0] if others else first)
    return first, second


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    name_a, name_b = default_pair(ctx.names)
    a, b = ctx.runs.engines[name_a], ctx.runs.engines[name_b]
    epochs = shared_epochs(a, b)
    start, seed, size = min(max(START_EPOCH, epochs[0]), epochs[-1]), 0, 6
    gr.Markdown(
        "Two runs side by side, from **the same latent vectors**: every pair of digits started from the same *z*."
    )
    # The two pictures first, the epoch slider under them, then the runs and the seed: pictures and slider open
    # in view together at 1280x800 and at phone width.
    first_a, first_b, first_caption = handlers.compare(name_a, name_b, start, seed, size)
    fid, inception, hist_a, hist_b, milestones = handlers.compare_plots(name_a, name_b, start)
    first_live_a, first_live_b = handlers.live_compare(name_a, name_b, seed, size, False, start)
    with gr.Row(equal_height=False):  # side by side down to phone width
        with gr.Column(min_width=140):
            with browser_gen.live_picture(first_live_a, elem_id="compare-a-live") as live_a:
                image_a = widgets.image(f"A: {name_a}", first_a, elem_id="compare-a", height=PICTURE_HEIGHT)
        with gr.Column(min_width=140):
            with browser_gen.live_picture(first_live_b, elem_id="compare-b-live") as live_b:
                image_b = widgets.image(f"B: {name_b}", first_b, elem_id="compare-b", height=PICTURE_HEIGHT)
    with gr.Row():
        epoch = gr.Slider(
            step=1,
            label="Epoch (both runs)",
            elem_id="compare-epoch",
            scale=3,
            min_width=280,
            **{**widgets.slider_range(epochs, start), "info": slider_info((name_a, name_b), a, b)},
        )
        with gr.Column(scale=1, min_width=160):
            size_slider = gr.Slider(1, MAX_GRID, value=size, step=1, label="Grid size (n x n)")
            labels = widgets.labels_box()
            share = links.share_row("compare")
    with gr.Row(equal_height=False):  # what the judge reads in each run's samples, under its picture
        histogram_a = gr.HTML(hist_a, min_width=140)
        histogram_b = gr.HTML(hist_b, min_width=140)
    with gr.Row(equal_height=True):
        run_a = widgets.run_dropdown(ctx, "Run A (left)", name_a, min_width=160)
        run_b = widgets.run_dropdown(ctx, "Run B (right)", name_b, min_width=160)
        with gr.Column(min_width=240):
            seed_box, dice = widgets.seed_box("Seed (the same z for both)", seed)
    caption = gr.Markdown(first_caption, elem_id="compare-caption")
    gr.Markdown(
        "One epoch slider moves both runs, and one seed sends the same latent vectors through both Generators. "
        "Below: both runs' quality per epoch, which digits each one draws, and when each first got there."
    )
    milestone_line = gr.Markdown(milestones, elem_classes="note")
    with gr.Accordion("What does the stable recipe change, and why does it help?", open=False):
        gr.Markdown(explain.STABLE_RECIPE)
        explain.curious(explain.RECIPE_TERMS)
    plot_args = {
        "x": "epoch",
        "y": "value",
        "color": "series",
        "color_map": {**widgets.run_colors(ctx.names), **widgets.COLORS},
        "height": 260,
        "x_lim": [epochs[0], epochs[-1]] if epochs[0] < epochs[-1] else None,
        "buttons": ["fullscreen", "export"],
        "min_width": 280,
    }
    with gr.Row():
        fid_plot = gr.LinePlot(
            fid, title="FID (lower is better)", y_title="FID", elem_classes="plot-below-buttons", **plot_args
        )
        is_plot = gr.LinePlot(
            inception,
            title="IS (higher is better)",
            y_title="Inception Score",
            elem_classes="plot-below-buttons",
            **plot_args,
        )

    pair_doc = f"{widgets.run_doc(ctx, 'run_a')}; run_b likewise; epoch within either run's saved range"
    inputs, outputs = [run_a, run_b, epoch, seed_box, size_slider, labels], [image_a, image_b, caption]
    plot_inputs, plot_outputs = [run_a, run_b, epoch], [fid_plot, is_plot, histogram_a, histogram_b, milestone_line]
    drawn = gr.on(
        [epoch.input, size_slider.input, seed_box.submit, seed_box.input, labels.input],
        handlers.compare,
        inputs,
        outputs,
        api_name="compare",
        api_description=(
            "The same latents drawn by two runs at one epoch, each run at its nearest saved epoch. "
            f"{pair_doc}; {widgets.SEED_DOC}; grid 1-{MAX_GRID}; {widgets.LABELS_DOC}. "
            "Returns (PNG of run_a, PNG of run_b, caption)."
        ),
        **widgets.LIVE,
    )
    widgets.stale_marks(drawn, image_a)
    widgets.stale_marks(drawn, image_b)
    lives = [live_a, live_b]
    # In the browser while the hand moves, once the saved epochs' weights are in (.change: a new run pair moves
    # the slider from the server, and the browser follows that too).
    epoch.change(None, epoch, None, js=browser_gen.moved(["epoch"], lives), **widgets.MOVED)
    live_inputs = [run_a, run_b, seed_box, size_slider, labels, epoch]
    gr.on(
        [size_slider.input, seed_box.submit, seed_box.input, labels.input],
        handlers.live_compare,
        live_inputs,
        lives,
        api_visibility="private",
        **widgets.LIVE,
    )

    def opened(first: str, second: str, value: int, seed: int, grid: int, labels: bool) -> list:
        """A link: both pictures (labelled with their runs), the caption, the plots, histograms and milestones."""
        one, other = ctx.runs.engines[first], ctx.runs.engines[second]
        both = shared_epochs(one, other)
        x_lim = [both[0], both[-1]] if both[0] < both[-1] else None
        picture_a, picture_b, caption_now = handlers.compare(first, second, value, seed, grid, labels)
        fid_now, is_now, *notes = handlers.compare_plots(first, second, value)
        pictures = [gr.Image(picture_a, label=f"A: {first}"), gr.Image(picture_b, label=f"B: {second}"), caption_now]
        return [*pictures, gr.LinePlot(fid_now, x_lim=x_lim), gr.LinePlot(is_now, x_lim=x_lim), *notes]

    def info(chosen: dict) -> str:
        names = (chosen["run_a"], chosen["run_b"])
        return slider_info(names, *(ctx.runs.engines[name] for name in names))

    params = [links.run(ctx, run_a, "run_a"), links.run(ctx, run_b, "run_b")]
    params += [links.epoch(ctx, epoch, ("run_a", "run_b"), info), links.seed(seed_box)]
    params += [links.whole(size_slider, "grid", 1, MAX_GRID), links.flag(labels)]
    links.add(ctx, "compare", TITLE, share, params, opened, [*outputs, *plot_outputs])
    epoch.input(
        handlers.compare_plots,
        plot_inputs,
        plot_outputs,
        api_name="compare_plots",
        api_description=(
            "Both runs' FID and IS per epoch as tables (series = run name, the epoch marked), their class "
            f"histograms at that epoch (HTML) and when each first reached each milestone (Markdown). {pair_doc}. "
            "Returns (FID table, IS table, HTML of run_a, HTML of run_b, Markdown)."
        ),
        **widgets.LIVE,
    )
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.compare, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.live_compare, live_inputs, lives, api_visibility="private", **widgets.LIVE)

    def follow(first: str, second: str, value: float):
        """New runs: the slider spans both runs' saved epochs, the pictures are labelled with their names."""
        if first not in ctx.names or second not in ctx.names:
            return [gr.skip()] * 5
        one, other = ctx.runs.engines[first], ctx.runs.engines[second]
        both = shared_epochs(one, other)
        slider = gr.Slider(**{**widgets.slider_range(both, value), "info": slider_info((first, second), one, other)})
        x_lim = [both[0], both[-1]] if both[0] < both[-1] else None
        labels = gr.Image(label=f"A: {first}"), gr.Image(label=f"B: {second}")
        return slider, *labels, gr.LinePlot(x_lim=x_lim), gr.LinePlot(x_lim=x_lim)

    for dropdown in (run_a, run_b):
        dropdown.input(
            follow, [run_a, run_b, epoch], [epoch, image_a, image_b, fid_plot, is_plot], **widgets.PRIVATE
        ).then(handlers.compare, inputs, outputs, api_visibility="private", **widgets.LIVE).then(
            handlers.compare_plots, plot_inputs, plot_outputs, api_visibility="private", **widgets.LIVE
        ).then(handlers.live_compare, live_inputs, lives, api_visibility="private", **widgets.LIVE)
