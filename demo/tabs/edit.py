"""Edit: push a digit's latent along the directions that change the picture most at one epoch, or steer it
toward a digit with the classifier's gradient."""

import logging
import threading

import gradio as gr

from demo import browser_gen, digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID
from demo.tabs.digits import judge_for, judge_note
from demo.tabs.own import chosen_latent, latent_value
from demo.validation import flag, real_number, whole_number

log = logging.getLogger("demo")

TITLE = "Edit"
STRENGTH = 4.0  # edit sliders move a latent by up to this many standard deviations along a direction


def examples(facts: Facts) -> dict[str, dict]:
    strengths = {"direction_1": 1.0, "direction_2": 0, "direction_3": 0, "direction_4": 0, "direction_5": -1.0}
    return {
        "edit": {"run": facts.run, "epoch": facts.last, "seed": 0, "grid_size": 2, **strengths, "labels": True},
        "directions": {"run": facts.run, "epoch": facts.last, "seed": 0},
        "steer": {
            "run": facts.run,
            "epoch": facts.last,
            "seed": 0,
            "grid_size": 2,
            "digit": 3,
            "strength": 2.0,
            "labels": True,
        },
    }


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def edit(
        self,
        run: str,
        epoch: float,
        seed: float,
        grid_size: float,
        direction_1: float,
        direction_2: float,
        direction_3: float,
        direction_4: float,
        direction_5: float,
        labels: bool = False,
        first: list | None = None,
    ):
        """Push the seed's latents along the Generator's top principal directions.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch whose Generator (and directions) to use.
            seed: whole number from 0 to 2147483647; the single digit is the grid's top-left one.
            grid_size: n for the n x n grid that gets the same edit, 1 to 10.
            direction_1: strength along direction 1, -4 to 4 (standard deviations); likewise direction_2..5.
            labels: true to write the classifier's digit and confidence under each sample of the grid.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed, size = ctx.epoch(engine, epoch), ctx.seed(seed), ctx.size(grid_size)
        strengths = (direction_1, direction_2, direction_3, direction_4, direction_5)
        values = [real_number(s, f"direction {k + 1}", -STRENGTH, STRENGTH) for k, s in enumerate(strengths)]
        labels = flag(labels, "labels")
        first = None if first is None else latent_value(first, engine.latent_dim)  # z* from Your digit
        latents = engine.edited_latents(epoch, seed, size * size, values, first)
        _, shares = engine.directions(epoch)
        caption = f"Epoch {epoch}, seed {seed}, {size}x{size} grid. Share of the image change each direction explains: "
        caption += ", ".join(f"**{k + 1}**: {share:.0%}" for k, share in enumerate(shares.tolist()))
        grid, seen = digits.grid_picture(engine, epoch, latents, size, size, labels)
        digit = widgets.named(engine.grid(epoch, latents[:1], 1, 1), run, epoch, seed, "edited")
        return (
            digit,
            widgets.named(grid, run, epoch, seed, "edited-grid"),
            caption + "".join(f"\n\n{line}" for line in (seen, note) if line),
        )

    @shown_errors
    def steer(
        self,
        run: str,
        epoch: float,
        seed: float,
        grid_size: float,
        digit: float,
        strength: float,
        labels: bool = False,
        first: list | None = None,
    ):
        """Steer the seed's latents toward a digit: a few steps of gradient ascent on log p(digit | G(z)) from the
        project's classifier, each z kept at its own length (where Gaussian latents live). The caption gives the
        top-left digit's label and p(digit) before and after, and the grid's.

        Args:
            run: name of a loaded run.
            epoch: training epoch whose Generator to steer.
            seed: whole number from 0 to 2147483647; the single digit is the grid's top-left one.
            grid_size: n for the n x n grid that is steered too, 1 to 10.
            digit: the digit to steer toward, 0 to 9.
            strength: how far each z may move, 0 to 6 (a random z is about 10 long).
            labels: true to write the classifier's digit and confidence under each sample of the grid.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed, size = ctx.epoch(engine, epoch), ctx.seed(seed), ctx.size(grid_size)
        digit = whole_number(digit, "digit", 0, 9)
        strength = real_number(strength, "strength", 0.0, digits.MAX_STEER)
        labels = flag(labels, "labels")
        first = None if first is None else latent_value(first, engine.latent_dim)
        latents = engine.seed_latents(seed, size * size, first)
        one, grid, caption = digits.steer_pictures(
            judge_for(engine), engine, epoch, latents, size, digit, strength, labels
        )
        one, grid = (widgets.named(p, run, epoch, seed, f"steered-{digit}", k) for k, p in (("", one), ("grid", grid)))
        return one, grid, caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def directions(self, run: str, epoch: float, seed: float, first: list | None = None):
        """What each principal direction does: rows are directions, columns strengths -3 to 3.

        Args:
            run: name of a loaded run.
            epoch: training epoch whose directions to show.
            seed: whole number from 0 to 2147483647.
        """
        engine = self.ctx.engine(run)
        (epoch, _), seed = self.ctx.epoch(engine, epoch), self.ctx.seed(seed)
        first = None if first is None else latent_value(first, engine.latent_dim)
        return widgets.named(engine.direction_sheet(epoch, seed, first=first), run, epoch, seed, "directions")

    def live_edit(
        self, mode: str, run: str, epoch: float, seed: float, grid_size: float, labels: bool, first, *strengths
    ):
        """What the browser needs to draw the edited digit and grid for any slider strengths: the seed's latents
        and the epoch's directions (for a steer, or a grid with labels, the server's picture shows)."""
        pos = {"s": list(strengths)}
        try:
            ctx = self.ctx
            engine = ctx.engine(run)
            (epoch, _), seed, size = ctx.epoch(engine, epoch), ctx.seed(seed), ctx.size(grid_size)
            first = None if first is None else latent_value(first, engine.latent_dim)  # z* from Your digit
            latents = engine.seed_latents(seed, size * size, first)
            digit = browser_gen.edited(engine, epoch, latents[:1], 1, 1, "#edit-digit img")
            grid = (
                None
                if flag(labels, "labels")
                else browser_gen.edited(engine, epoch, latents, size, size, "#edit-grid img")
            )
            value = browser_gen.state([digit], **pos), browser_gen.state([grid], **pos)
        except Exception as err:  # the server's own event says what is wrong
            log.debug("no browser drawing: %s", err)
            value = browser_gen.state([None], **pos), browser_gen.state([None], **pos)
            grid = None
        # One piece asks the server for the pictures as a slider moves: the grid's when the server draws it (its
        # labels), so at every input; else the digit's (at rest, or at every input where the browser cannot draw).
        asking = 1 if grid is None and value[0]["pictures"][0] is not None else 0
        for k, one in enumerate(value):
            one["off"] = mode == "steer"
            one["asks"] = k == asking
        return value


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last, seed = engine.epochs[-1], 0
    run_epoch_doc = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}"
    gr.Markdown(
        "Push one digit's *z* (the 100 random numbers behind it) along the directions that change the picture most "
        "at this epoch. The grid gets the same push, so you see what a direction does to many digits at once."
    )
    note = judge_note()
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            run = widgets.run_dropdown(ctx)
            epoch = widgets.epoch_slider(engine.epochs, last)
            seed_box, dice = widgets.seed_box("Seed", seed)
            own_first = gr.State(None)  # z* handed on from Your digit: the top-left digit while set
            with gr.Row(visible=False) as own_row:
                gr.Markdown("**The top-left digit is your digit's z\\*** (from Your digit).", elem_id="edit-own")
                back = gr.Button("Use the seed again", size="sm")
            with gr.Group(elem_classes="main-control"):
                strengths = [
                    gr.Slider(-STRENGTH, STRENGTH, value=0, step=0.1, label=f"Direction {k + 1}")
                    for k in range(engine.direction_count)
                ]
                reset = gr.Button("Reset directions to 0")
            with gr.Group(elem_id="steer"):
                gr.Markdown(
                    "**Towards a digit**: the classifier's gradient moves each *z* a few steps toward the digit "
                    "(the direction sliders go back to 0)." + (f" {note}" if note else ""),
                    padding=True,
                )
                target = gr.Radio(
                    [(str(d), d) for d in range(10)], value=3, label="Towards digit", elem_classes="digit-radio"
                )
                steer_strength = gr.Slider(
                    0, digits.MAX_STEER, value=3, step=0.5, label="Strength (how far z may move; |z| is about 10)"
                )
                steer_button = gr.Button("Steer", variant="primary")
            size = widgets.grid_slider(5, "Same edit on an n x n grid")
            labels = widgets.labels_box()
            share = links.share_row("edit")
        with gr.Column(scale=1, min_width=280):
            latents = engine.latents(seed, 25)  # no edit yet, so no directions needed at start-up
            # The browser draws both pictures while a direction slider moves, once the tab is open.
            with browser_gen.live_picture(None, elem_id="edit-digit-live") as live_digit:
                digit = widgets.image(
                    "Edited digit", engine.grid(last, latents[:1], 1, 1), height=260, elem_id="edit-digit"
                )
            caption = gr.Markdown(
                "Move a direction slider: the directions of each epoch are worked out the first time they are needed."
            )
            grid_asks_not = browser_gen.state([], asks=False)  # until the tab opens: the digit's piece asks
            with browser_gen.live_picture(grid_asks_not, elem_id="edit-grid-live") as live_grid:
                grid = widgets.image(
                    "The same edit on many digits",
                    widgets.named(engine.grid(last, latents, 5, 5), ctx.runs.default, last, seed, "edited-grid"),
                    elem_id="edit-grid",
                )
    mode = gr.State("edit")  # what the pictures show: the direction edit or the steer, redrawn as settings change
    inputs, outputs = [run, epoch, seed_box, size, *strengths, labels, own_first], [digit, grid, caption]
    steer_inputs = [run, epoch, seed_box, size, target, steer_strength, labels, own_first]
    directions_moved = [s.input for s in strengths]
    # The server draws a direction edit when the browser's piece asks: once the hand rests, or at every input where
    # the browser cannot draw it (browser_gen.js); its picture is what a download saves.
    drawn_by_server = [live_digit.input, live_grid.input]  # the one whose value "asks" (Handlers.live_edit)
    gr.on(
        drawn_by_server,
        handlers.edit,
        inputs,
        outputs,
        api_name="edit",
        api_description=(
            f"Move the seed's latents along the Generator's top {engine.direction_count} principal directions. "
            f"{run_epoch_doc}; {widgets.SEED_DOC}; {widgets.GRID_DOC}; direction_k -{STRENGTH:g} to {STRENGTH:g}; "
            f"{widgets.LABELS_DOC}. Returns (digit PNG, grid PNG, caption)."
        ),
        **widgets.LIVE,
    )
    gr.on(drawn_by_server, lambda: "edit", None, mode, **widgets.PRIVATE)
    lives = (live_digit, live_grid)
    # In the browser while the hand moves: no round trip.
    gr.on(directions_moved, None, strengths, None, js=browser_gen.moved(["s[]"], list(lives)), **widgets.MOVED)
    params = [
        links.run(ctx, run),
        links.epoch(ctx, epoch),
        links.seed(seed_box),
        links.whole(size, "grid_size", 1, MAX_GRID),
    ]
    params += [links.real(s, f"direction_{k + 1}", -STRENGTH, STRENGTH) for k, s in enumerate(strengths)]
    links.add(ctx, "edit", TITLE, share, [*params, links.flag(labels)], handlers.edit, outputs)
    steered = [target.input, steer_strength.input, steer_button.click]
    for live in lives:  # a steer is drawn by the server
        gr.on(steered, None, live, live, js=browser_gen.SERVER_DRAWS, **widgets.PRIVATE)
    gr.on(steered, lambda: ["steer"] + [0] * len(strengths), None, [mode, *strengths], **widgets.PRIVATE)
    gr.on(
        steered,
        handlers.steer,
        steer_inputs,
        outputs,
        api_name="steer",
        api_description=(
            "Steer the seed's latents toward a digit with the classifier's gradient (a few steps of ascent on "
            "log p(digit | G(z)), each z kept at its length). "
            f"{run_epoch_doc}; {widgets.SEED_DOC}; {widgets.GRID_DOC}; digit 0-9; strength 0-{digits.MAX_STEER:g}; "
            f"{widgets.LABELS_DOC}. Returns (digit PNG, grid PNG, caption with the label and p(digit) before and "
            "after)."
        ),
        **widgets.LIVE,
    )

    def redraw(current: str, *values):
        """Whatever the pictures show (a direction edit or a steer), drawn again for new settings."""
        *values, first = values
        if current == "steer":
            return handlers.steer(*values[:4], *values[-3:], first)
        return handlers.edit(*values[:-3], values[-1], first)

    redraw_inputs = [mode, run, epoch, seed_box, size, *strengths, target, steer_strength, labels, own_first]
    redrawn = gr.on(
        [epoch.input, size.input, seed_box.submit, seed_box.input, labels.input],
        redraw,
        redraw_inputs,
        outputs,
        api_visibility="private",
        **widgets.LIVE,
    )
    live_inputs = [mode, run, epoch, seed_box, size, labels, own_first, *strengths]
    gr.on(
        [tab.select, epoch.input, size.input, seed_box.submit, seed_box.input, labels.input],
        handlers.live_edit,
        live_inputs,
        list(lives),
        api_visibility="private",
        **widgets.LIVE,
    )
    widgets.stale_marks(redrawn, grid, "the pictures")
    sheet_inputs = [run, epoch, seed_box, own_first]
    rolled = dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        redraw, redraw_inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    rolled.then(handlers.live_edit, live_inputs, list(lives), api_visibility="private", **widgets.LIVE)
    reset.click(lambda: ["edit"] + [0] * len(strengths), None, [mode, *strengths], **widgets.PRIVATE).then(
        handlers.edit, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    reset_js = f"(value) => ({{...(value || {{}}), off: false, moved: true, pos: {{s: {[0] * len(strengths)}}}}})"
    for live in lives:
        reset.click(None, live, live, js=reset_js, **widgets.PRIVATE)
    with gr.Accordion(
        "All directions at a glance: rows are directions (share of image change), columns push from -3 to +3",
        open=True,
    ):
        sheet_button = gr.Button("Redraw for this epoch and seed")
        sheet = widgets.image("Directions at a glance", elem_id="edit-sheet")
    sheet_button.click(
        handlers.directions,
        sheet_inputs,
        sheet,
        api_name="directions",
        api_description=(
            f"Rows: principal directions; columns: the seed's digit pushed from -3 to +3. {run_epoch_doc}; "
            f"{widgets.SEED_DOC}. Returns a PNG."
        ),
        preprocess=False,
    )
    sheet_drawn = gr.on(  # the sheet follows the epoch and the seed, as the pictures above do
        [tab.select, epoch.input, seed_box.submit, seed_box.input],
        handlers.directions,
        sheet_inputs,
        sheet,
        api_visibility="private",
        **widgets.LIVE,
    )
    widgets.stale_marks(sheet_drawn, sheet, "the sheet")
    rolled.then(handlers.directions, sheet_inputs, sheet, api_visibility="private", **widgets.LIVE)
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        redraw, redraw_inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.directions, sheet_inputs, sheet, api_visibility="private", **widgets.LIVE).then(
        handlers.live_edit, live_inputs, list(lives), api_visibility="private", **widgets.LIVE
    )
    # "Use this z" on Your digit: its z* becomes the top-left digit (until "Use the seed again"); all drawn again.
    for handed, shown in ((chosen_latent(ctx).change, True), (back.click, False)):
        handed(
            (lambda z: (z, gr.Row(visible=z is not None))) if shown else (lambda: (None, gr.Row(visible=False))),
            chosen_latent(ctx) if shown else None,
            [own_first, own_row],
            **widgets.PRIVATE,
        ).then(redraw, redraw_inputs, outputs, api_visibility="private", **widgets.LIVE).then(
            handlers.directions, sheet_inputs, sheet, api_visibility="private", **widgets.LIVE
        ).then(handlers.live_edit, live_inputs, list(lives), api_visibility="private", **widgets.LIVE)
    threading.Thread(target=engine.directions, args=(last,), daemon=True).start()  # warm the default epoch

    # The details sit under the tab's pictures: a picture and its control open in view together.
    explain.curious(explain.DIRECTIONS, explain.PROBABILITY)
