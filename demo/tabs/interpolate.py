"""Interpolate: walk from seed A's latent to seed B's, along the sphere (slerp) or straight across (lerp); or
morph a digit A into a digit B, with the classifier's label along the way."""

import logging

import gradio as gr

from demo import browser_gen, digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.tabs.digits import judge_for, judge_note
from demo.tabs.own import chosen_latent, latent_value
from demo.validation import SEED_MAX, choice, real_number, whole_number

log = logging.getLogger("demo")

TITLE = "Interpolate"
METHODS = ("slerp", "lerp")
MAX_FRAMES = 30  # interpolation strip length cap


def examples(facts: Facts) -> dict[str, dict]:
    return {
        "interpolate": {"run": facts.run, "epoch": facts.last, "seed_a": 1, "seed_b": 2, "t": 0.5, "method": "slerp"},
        "interpolation_strip": {
            "run": facts.run,
            "epoch": facts.last,
            "seed_a": 1,
            "seed_b": 2,
            "frames": 4,
            "method": "lerp",
        },
        "morph": {"run": facts.run, "epoch": facts.last, "digit_a": 3, "digit_b": 8, "t": 0.5, "seed": 0},
        "morph_strip": {"run": facts.run, "epoch": facts.last, "digit_a": 3, "digit_b": 8, "frames": 4, "seed": 0},
    }


def digit(value: object, name: str) -> int:
    return whole_number(value, name, 0, 9)


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def interpolate(
        self, run: str, epoch: float, seed_a: float, seed_b: float, t: float, method: str, latent_a: list | None = None
    ):
        """The digit at t on the way from seed A's latent to seed B's latent.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch to draw with.
            seed_a: start seed, 0 to 2147483647.
            seed_b: end seed, 0 to 2147483647.
            t: position from 0 (A) to 1 (B).
            method: "slerp" (along the sphere, keeps the latent's length) or "lerp" (straight line).
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, note = ctx.epoch(engine, epoch)
        seed_a, seed_b = ctx.seed(seed_a, "seed A"), ctx.seed(seed_b, "seed B")
        t, method = real_number(t, "t", 0.0, 1.0), choice(method, "method", METHODS)
        start = None if latent_a is None else latent_value(latent_a, engine.latent_dim)  # z* from Your digit
        latent = engine.mix(seed_a, seed_b, t, method, start)
        norm_a, norm_b = (float(engine.latents(s, 1).norm()) for s in (seed_a, seed_b))
        norm_a = norm_a if start is None else float(start.norm())
        caption = (
            f"**t = {t:.2f}** with {method}, epoch {epoch}: the latent's length is **{float(latent.norm()):.2f}** "
            f"(A: {norm_a:.2f}, B: {norm_b:.2f}; random latents have length about {engine.latent_dim**0.5:.0f})."
        )
        name_a = seed_a if start is None else "own"
        picture = widgets.named(
            engine.grid(epoch, latent, 1, 1), run, epoch, f"{name_a}-{seed_b}", method, f"t-{t:.2f}"
        )
        return picture, caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def interpolation_strip(
        self,
        run: str,
        epoch: float,
        seed_a: float,
        seed_b: float,
        frames: float,
        method: str,
        latent_a: list | None = None,
    ):
        """A strip of frames from seed A to seed B, and the same as a GIF (there and back).

        Args:
            run: name of a loaded run.
            epoch: training epoch to draw with.
            seed_a: start seed, 0 to 2147483647.
            seed_b: end seed, 0 to 2147483647.
            frames: images in the strip, 2 to 30.
            method: "slerp" or "lerp".
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, _ = ctx.epoch(engine, epoch)
        seed_a, seed_b = ctx.seed(seed_a, "seed A"), ctx.seed(seed_b, "seed B")
        frames, method = whole_number(frames, "frames", 2, MAX_FRAMES), choice(method, "method", METHODS)
        start = None if latent_a is None else latent_value(latent_a, engine.latent_dim)
        strip, gif = engine.interpolation_strip(epoch, seed_a, seed_b, frames, method, start=start)
        name_a = seed_a if start is None else "own"
        gif_path = ctx.gif_file(gif, f"{run}-epoch-{epoch}-seed-{name_a}-{seed_b}-{method}")
        return widgets.named(strip, run, epoch, f"{name_a}-{seed_b}", method, "strip"), gif_path

    @shown_errors
    def strip_only(
        self,
        run: str,
        epoch: float,
        seed_a: float,
        seed_b: float,
        frames: float,
        method: str,
        latent_a: list | None = None,
    ):
        """The strip alone (no GIF), redrawn as its settings change."""
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, _ = ctx.epoch(engine, epoch)
        seed_a, seed_b = ctx.seed(seed_a, "seed A"), ctx.seed(seed_b, "seed B")
        frames, method = whole_number(frames, "frames", 2, MAX_FRAMES), choice(method, "method", METHODS)
        start = None if latent_a is None else latent_value(latent_a, engine.latent_dim)
        strip, _ = engine.interpolation_strip(epoch, seed_a, seed_b, frames, method, gif=False, start=start)
        name_a = seed_a if start is None else "own"
        return widgets.named(strip, run, epoch, f"{name_a}-{seed_b}", method, "strip")

    @shown_errors
    def morph(self, run: str, epoch: float, digit_a: float, digit_b: float, t: float, seed: float):
        """The digit at t on the way from a digit A to a digit B: the end points are the latents (of 256 from the
        seed) that the classifier labels A and B most surely at this epoch; the caption says what the classifier
        sees at t and where its label flips. An epoch that cannot draw A or B yet says so in the caption.

        Args:
            run: name of a loaded run.
            epoch: training epoch to draw with.
            digit_a: the digit to start from, 0 to 9.
            digit_b: the digit to end at, 0 to 9.
            t: position from 0 (A) to 1 (B).
            seed: whole number from 0 to 2147483647; picks the 256 latents the end points come from.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, note = ctx.epoch(engine, epoch)
        digit_a, digit_b = digit(digit_a, "digit A"), digit(digit_b, "digit B")
        t, seed = real_number(t, "t", 0.0, 1.0), ctx.seed(seed)
        image, caption = digits.morph_picture(judge_for(engine), engine, epoch, digit_a, digit_b, t, seed)
        image = widgets.named(image, run, epoch, seed, f"morph-{digit_a}-to-{digit_b}", f"t-{t:.2f}")
        return image, caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def morph_strip(self, run: str, epoch: float, digit_a: float, digit_b: float, frames: float, seed: float):
        """A strip of frames from digit A to digit B with the classifier's label under each, and the same as a
        GIF (there and back).

        Args:
            run: name of a loaded run.
            epoch: training epoch to draw with.
            digit_a: the digit to start from, 0 to 9.
            digit_b: the digit to end at, 0 to 9.
            frames: images in the strip, 2 to 30.
            seed: whole number from 0 to 2147483647.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, _ = ctx.epoch(engine, epoch)
        digit_a, digit_b = digit(digit_a, "digit A"), digit(digit_b, "digit B")
        frames, seed = whole_number(frames, "frames", 2, MAX_FRAMES), ctx.seed(seed)
        judge = judge_for(engine)
        ends = digits.endpoints(judge, engine, epoch, digit_a, digit_b, seed)
        strip, gif = digits.morph_strip(judge, engine, epoch, ends, frames)
        gif_path = ctx.gif_file(gif, f"{run}-epoch-{epoch}-seed-{seed}-morph-{digit_a}-to-{digit_b}")
        return widgets.named(strip, run, epoch, seed, f"morph-{digit_a}-to-{digit_b}", "strip"), gif_path

    def live_seeds(
        self, run: str, epoch: float, seed_a: float, seed_b: float, method: str, t: float, latent_a: list | None = None
    ) -> dict:
        """What the browser needs to draw the digit at any t between the two seeds, or from a z* handed on from Your
        digit in place of seed A (nothing on bad input: the server's picture, with its error, shows)."""
        try:
            ctx = self.ctx
            engine = ctx.engine(run)
            epoch, _ = ctx.epoch(engine, epoch)
            seed_a, seed_b = ctx.seed(seed_a, "seed A"), ctx.seed(seed_b, "seed B")
            method = choice(method, "method", METHODS)
            a = engine.latents(seed_a, 1) if latent_a is None else latent_value(latent_a, engine.latent_dim)[None]
            b = engine.latents(seed_b, 1)
            return browser_gen.state([browser_gen.mixed(engine, epoch, a, b, method, "#interp-image img")], t=t)
        except Exception as err:  # the server's own event says what is wrong
            log.debug("no browser drawing: %s", err)
            return browser_gen.state([None], t=t)

    def live_morph(self, run: str, epoch: float, digit_a: float, digit_b: float, seed: float, t: float) -> dict:
        """What the browser needs to draw the morph at any t: its two end points (chosen by the classifier)."""
        try:
            ctx = self.ctx
            engine = ctx.engine(run)
            epoch, _ = ctx.epoch(engine, epoch)
            digit_a, digit_b, seed = digit(digit_a, "digit A"), digit(digit_b, "digit B"), ctx.seed(seed)
            ends = digits.endpoints(judge_for(engine), engine, epoch, digit_a, digit_b, seed)
            return browser_gen.state(
                [browser_gen.mixed(engine, epoch, ends.a, ends.b, "slerp", "#morph-image img")], t=t
            )
        except Exception as err:
            log.debug("no browser drawing: %s", err)
            return browser_gen.state([None], t=t)


def digit_radio(label: str, value: int) -> gr.Radio:
    return gr.Radio([(str(d), d) for d in range(10)], value=value, label=label, elem_classes="digit-radio")


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last = engine.epochs[-1]
    seeds_doc = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; seeds 0-{SEED_MAX}"
    gr.Markdown(
        "Walk from seed A's *z* to seed B's *z* (a *z* is the 100 random numbers behind one picture), or morph one "
        "digit into another: move **t** under the picture."
    )
    with gr.Row(elem_classes="settings-row"):  # on a phone it goes under the walks (demo.gradio_fixes)
        run = widgets.run_dropdown(ctx, scale=1, min_width=200)
        epoch = widgets.epoch_slider(engine.epochs, last)
    with gr.Tabs():
        with gr.Tab("Between two seeds", id="seeds"):
            seed_walk(ctx, handlers, run, epoch, seeds_doc)
        with gr.Tab("From digit A to digit B", id="morph", elem_id="morph-tab") as morph_tab:
            morph_walk(ctx, handlers, run, epoch, morph_tab)
    # The details sit under the tab's pictures: a picture and its control open in view together.
    explain.curious(explain.LATENT, explain.SLERP)


def seed_walk(ctx: Context, handlers: Handlers, run: gr.Dropdown, epoch: gr.Slider, seeds_doc: str) -> None:
    engine = ctx.runs.engines[ctx.runs.default]
    last = engine.epochs[-1]
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            seed_a, dice_a = widgets.seed_box("Seed A", 1)
            seed_b, dice_b = widgets.seed_box("Seed B", 2)
            method = gr.Radio(list(METHODS), value="slerp", label="Method")
            gr.Markdown(explain.SLERP[0], elem_classes="explain")
            own_a = gr.State(None)  # z* handed on from Your digit: it stands in for seed A while set
            with gr.Row(visible=False) as own_row:
                gr.Markdown("**A is your digit's z\\*** (from Your digit), not seed A.", elem_id="interp-own")
                back = gr.Button("Use seed A again", size="sm")
            share = links.share_row("interpolate")
        with gr.Column(scale=1, min_width=280):
            first_image, first_caption = handlers.interpolate(ctx.runs.default, last, 1, 2, 0.5, "slerp")
            first_live = handlers.live_seeds(ctx.runs.default, last, 1, 2, "slerp", 0.5)
            with browser_gen.live_picture(first_live, elem_id="interp-live") as live:
                picture = widgets.image("Digit at t", first_image, elem_id="interp-image", height=240)
            # Under the picture, as a player's scrubber: the two open in view together.
            t = gr.Slider(
                0,
                1,
                value=0.5,
                step=0.01,
                label="t: from A (0) to B (1)",
                elem_id="interp-t",
                elem_classes="main-control",
            )
            caption = gr.Markdown(first_caption)
    inputs, outputs = [run, epoch, seed_a, seed_b, t, method, own_a], [picture, caption]
    # In the browser while the hand moves (no round trip); the server's picture and caption follow as before.
    t.input(None, t, None, js=browser_gen.moved(["t"], [live]), **widgets.MOVED)
    live_inputs = [run, epoch, seed_a, seed_b, method, t, own_a]
    gr.on(
        [epoch.input, method.input, seed_a.submit, seed_b.submit, seed_a.input, seed_b.input],
        handlers.live_seeds,
        live_inputs,
        live,
        api_visibility="private",
        **widgets.LIVE,
    )
    drawn = gr.on(  # live.input: t moved, and the page asks for the server's picture (browser_gen.js)
        [live.input, epoch.input, method.input, seed_a.submit, seed_b.submit, seed_a.input, seed_b.input],
        handlers.interpolate,
        inputs,
        outputs,
        api_name="interpolate",
        api_description=(
            f"The digit at t between seed A's and seed B's latent. {seeds_doc}; t 0-1; method 'slerp' or 'lerp'. "
            "Returns (PNG, caption)."
        ),
        **widgets.LIVE,
    )
    widgets.stale_marks(drawn, picture)
    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_a, "seed_a"), links.seed(seed_b, "seed_b")]
    params += [links.real(t, "t", 0, 1), links.one_of(method, "method", METHODS)]
    links.add(ctx, "interpolate", TITLE, share, params, handlers.interpolate, outputs)
    with gr.Row(equal_height=False):
        frames = gr.Slider(2, MAX_FRAMES, value=10, step=1, label="Frames in the strip", scale=3, min_width=220)
        strip_button = gr.Button("Draw strip and GIF", variant="primary", scale=1, min_width=160)
    with gr.Row(equal_height=False):
        first_strip = handlers.strip_only(ctx.runs.default, last, 1, 2, 10, "slerp")  # GIF: on request only
        strip = widgets.image("From A to B", first_strip, scale=3, min_width=300, elem_id="interp-strip")
        with gr.Column(scale=1, min_width=200):
            gif = gr.File(label="Interpolation GIF (from the button)", interactive=False, elem_id="interp-gif")
            widgets.gif_preview("The GIF, playing", gif, elem_id="interp-gif-preview")
    strip_inputs = [run, epoch, seed_a, seed_b, frames, method, own_a]
    # The strip follows every setting; the GIF (made on request) is cleared when they change, so it never
    # shows other settings than the ones on screen.
    followed = [t.input, epoch.input, method.input, frames.input, seed_a.submit, seed_b.submit]
    strip_drawn = gr.on(
        [*followed[1:], seed_a.input, seed_b.input],
        handlers.strip_only,
        strip_inputs,
        strip,
        api_visibility="private",
        **widgets.LIVE,
    )
    widgets.stale_marks(strip_drawn, strip, "the strip")
    gr.on(
        [epoch.input, method.input, frames.input, seed_a.input, seed_b.input, seed_a.change, seed_b.change],
        lambda: None,
        None,
        gif,
        **widgets.PRIVATE,
    )
    for box, dice in ((seed_a, dice_a), (seed_b, dice_b)):
        dice.click(widgets.random_seed, None, box, **widgets.PRIVATE).then(
            handlers.interpolate, inputs, outputs, api_visibility="private", **widgets.LIVE
        ).then(handlers.strip_only, strip_inputs, strip, api_visibility="private", **widgets.LIVE).then(
            handlers.live_seeds, live_inputs, live, api_visibility="private", **widgets.LIVE
        )
    strip_button.click(
        handlers.interpolation_strip,
        strip_inputs,
        [strip, gif],
        api_name="interpolation_strip",
        api_description=(
            f"N frames from seed A to seed B as a strip (PNG) and a GIF. {seeds_doc}; frames 2-{MAX_FRAMES}; "
            "method 'slerp' or 'lerp'. Returns (strip PNG, GIF file)."
        ),
        preprocess=False,
    )
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        handlers.interpolate, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.strip_only, strip_inputs, strip, api_visibility="private", **widgets.LIVE).then(
        lambda: None, None, gif, **widgets.PRIVATE
    ).then(handlers.live_seeds, live_inputs, live, api_visibility="private", **widgets.LIVE)
    # "Use this z" on Your digit: its z* becomes A (until "Use seed A again"), and everything is drawn again.
    for handed, shown in ((chosen_latent(ctx).change, True), (back.click, False)):
        handed(
            (lambda z: (z, gr.Row(visible=z is not None))) if shown else (lambda: (None, gr.Row(visible=False))),
            chosen_latent(ctx) if shown else None,
            [own_a, own_row],
            **widgets.PRIVATE,
        ).then(handlers.interpolate, inputs, outputs, api_visibility="private", **widgets.LIVE).then(
            handlers.strip_only, strip_inputs, strip, api_visibility="private", **widgets.LIVE
        ).then(lambda: None, None, gif, **widgets.PRIVATE).then(
            handlers.live_seeds, live_inputs, live, api_visibility="private", **widgets.LIVE
        )


def morph_walk(ctx: Context, handlers: Handlers, run: gr.Dropdown, epoch: gr.Slider, tab: gr.Tab) -> None:
    """The morph's controls and pictures; they are drawn when the tab is first opened (start-up stays quick)."""
    first_a, first_b, seed = 3, 8, 0
    note = judge_note()
    doc = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; digit_a and digit_b 0-9; {widgets.SEED_DOC}"
    gr.Markdown(
        f"Ask for a **{first_a} turning into an {first_b}**: the end points are the latents the project's classifier "
        f"labels A and B most surely, among {digits.CANDIDATES} drawn from the seed at this epoch; the walk between "
        "them follows the sphere (slerp), and the caption says where the classifier's label flips. Early epochs "
        "cannot draw every digit yet: the caption says so."
    )
    if note:
        gr.Markdown(note, elem_classes="note")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            digit_a = digit_radio("Digit A (start)", first_a)
            digit_b = digit_radio("Digit B (end)", first_b)
            seed_box, dice = widgets.seed_box("Seed (where the end points come from)", seed)
        with gr.Column(scale=1, min_width=280):
            t = gr.Slider(0, 1, value=0.5, step=0.01, label="t: from A (0) to B (1)", elem_id="morph-t")
            with browser_gen.live_picture(None, elem_id="morph-live") as live:
                picture = widgets.image("Digit at t", elem_id="morph-image", height=340)
            caption = gr.Markdown(note, elem_id="morph-caption")
    inputs, outputs = [run, epoch, digit_a, digit_b, t, seed_box], [picture, caption]
    t.input(None, t, None, js=browser_gen.moved(["t"], [live]), **widgets.MOVED)
    live_inputs = [run, epoch, digit_a, digit_b, seed_box, t]
    gr.on(
        [tab.select, epoch.input, digit_a.input, digit_b.input, seed_box.submit, seed_box.input],
        handlers.live_morph,
        live_inputs,
        live,
        api_visibility="private",
        **widgets.LIVE,
    )
    drawn = gr.on(  # live.input: t moved, and the page asks for the server's picture (browser_gen.js)
        [live.input, epoch.input, digit_a.input, digit_b.input, seed_box.submit, seed_box.input],
        handlers.morph,
        inputs,
        outputs,
        api_name="morph",
        api_description=(
            f"The digit at t on the way from digit A to digit B (end points: the latents the classifier labels A "
            f"and B most surely among {digits.CANDIDATES} from the seed). {doc}; t 0-1. Returns (PNG, caption: "
            "what the classifier sees at t, where the label flips, which digit the epoch cannot draw yet)."
        ),
        **widgets.LIVE,
    )
    widgets.stale_marks(drawn, picture)
    tab.select(handlers.morph, inputs, outputs, api_visibility="private", **widgets.LIVE)
    with gr.Row(equal_height=False):
        frames = gr.Slider(2, MAX_FRAMES, value=10, step=1, label="Frames in the strip", scale=3, min_width=220)
        strip_button = gr.Button("Draw strip and GIF", variant="primary", scale=1, min_width=160)
    with gr.Row(equal_height=False):
        strip = widgets.image("From A to B, labelled", scale=3, min_width=300, elem_id="morph-strip")
        with gr.Column(scale=1, min_width=200):
            gif = gr.File(label="Morph GIF", interactive=False, elem_id="morph-gif")
            widgets.gif_preview("The GIF, playing", gif, elem_id="morph-gif-preview")
    strip_inputs = [run, epoch, digit_a, digit_b, frames, seed_box]
    strip_button.click(
        handlers.morph_strip,
        strip_inputs,
        [strip, gif],
        api_name="morph_strip",
        api_description=(
            f"N frames from digit A to digit B, the classifier's label under each, as a strip (PNG) and a GIF. "
            f"{doc}; frames 2-{MAX_FRAMES}. Returns (strip PNG, GIF file)."
        ),
        preprocess=False,
    )
    strip_drawn = gr.on(  # the strip and its GIF follow the digits, the seed, the frames and the epoch
        [tab.select, digit_a.input, digit_b.input, seed_box.submit, seed_box.input, epoch.input, frames.input],
        handlers.morph_strip,
        strip_inputs,
        [strip, gif],
        api_visibility="private",
        **widgets.LIVE,
    )
    widgets.stale_marks(strip_drawn, strip, "the strip")
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.morph, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.morph_strip, strip_inputs, [strip, gif], api_visibility="private", **widgets.LIVE).then(
        handlers.live_morph, live_inputs, live, api_visibility="private", **widgets.LIVE
    )
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        handlers.morph, inputs, outputs, api_visibility="private", **widgets.LIVE
    ).then(handlers.morph_strip, strip_inputs, [strip, gif], api_visibility="private", **widgets.LIVE).then(
        handlers.live_morph, live_inputs, live, api_visibility="private", **widgets.LIVE
    )
