"""Interpolate: walk from seed A's latent to seed B's, along the sphere (slerp) or straight across (lerp)."""

import gradio as gr

from demo import widgets
from demo.context import Context, Facts, shown_errors
from demo.validation import SEED_MAX, choice, real_number, whole_number

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
    }


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def interpolate(self, run: str, epoch: float, seed_a: float, seed_b: float, t: float, method: str):
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
        latent = engine.mix(seed_a, seed_b, t, method)
        norm_a, norm_b = (float(engine.latents(s, 1).norm()) for s in (seed_a, seed_b))
        caption = (
            f"**t = {t:.2f}** with {method}, epoch {epoch}: the latent's length is **{float(latent.norm()):.2f}** "
            f"(A: {norm_a:.2f}, B: {norm_b:.2f}; random latents have length about {engine.latent_dim**0.5:.0f})."
        )
        return engine.grid(epoch, latent, 1, 1), caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def interpolation_strip(self, run: str, epoch: float, seed_a: float, seed_b: float, frames: float, method: str):
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
        strip, gif = engine.interpolation_strip(epoch, seed_a, seed_b, frames, method)
        return strip, ctx.gif_file(gif, f"gan-{run}-{method}-epoch{epoch}-seeds{seed_a}-{seed_b}")


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last = engine.epochs[-1]
    seeds_doc = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; seeds 0-{SEED_MAX}"
    gr.Markdown(
        "Walk through latent space from seed A's *z* to seed B's *z*. **Slerp** follows the sphere where Gaussian "
        "latents live; **lerp** cuts straight across, so half-way its *z* is shorter than any the Generator saw "
        "in training: watch the length below."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            run = widgets.run_dropdown(ctx)
            seed_a, dice_a = widgets.seed_box("Seed A", 1)
            seed_b, dice_b = widgets.seed_box("Seed B", 2)
            epoch = widgets.epoch_slider(engine.epochs, last)
            method = gr.Radio(list(METHODS), value="slerp", label="Method")
        with gr.Column(scale=1, min_width=280):
            t = gr.Slider(0, 1, value=0.5, step=0.01, label="t: from A (0) to B (1)", elem_id="interp-t")
            first_image, first_caption = handlers.interpolate(ctx.runs.default, last, 1, 2, 0.5, "slerp")
            picture = widgets.image("Digit at t", first_image, elem_id="interp-image", height=340)
            caption = gr.Markdown(first_caption)
    inputs, outputs = [run, epoch, seed_a, seed_b, t, method], [picture, caption]
    gr.on(
        [t.input, epoch.input, method.input, seed_a.submit, seed_b.submit],
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
    for box, dice in ((seed_a, dice_a), (seed_b, dice_b)):
        dice.click(widgets.random_seed, None, box, **widgets.PRIVATE).then(
            handlers.interpolate, inputs, outputs, api_visibility="private", **widgets.LIVE
        )
    with gr.Row(equal_height=False):
        frames = gr.Slider(2, MAX_FRAMES, value=10, step=1, label="Frames in the strip", scale=3, min_width=220)
        strip_button = gr.Button("Draw strip and GIF", variant="primary", scale=1, min_width=160)
    with gr.Row(equal_height=False):
        first_strip, _ = engine.interpolation_strip(last, 1, 2, 10, "slerp", gif=False)  # GIF: on request only
        strip = widgets.image("From A to B", first_strip, scale=3, min_width=300, show_label=False)
        gif = gr.File(
            label="Interpolation GIF (from the button)",
            interactive=False,
            scale=1,
            min_width=200,
        )
    strip_button.click(
        handlers.interpolation_strip,
        [run, epoch, seed_a, seed_b, frames, method],
        [strip, gif],
        api_name="interpolation_strip",
        api_description=(
            f"N frames from seed A to seed B as a strip (PNG) and a GIF. {seeds_doc}; frames 2-{MAX_FRAMES}; "
            "method 'slerp' or 'lerp'."
        ),
        preprocess=False,
    )
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        handlers.interpolate, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
