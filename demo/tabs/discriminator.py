"""The Discriminator: what D believes of real and fake pictures, where it looks, the push G gets, the arms race
between the two over the epochs, and one training step by hand."""

import functools

import gradio as gr
import numpy as np
import torch

from demo import arena, critic, gradio_fixes, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, Engine
from demo.validation import InputError, choice, real_number, whole_number
from gan.images import to_uint8

TITLE = "Discriminator"
MAX_SAMPLE = MAX_GRID * MAX_GRID  # the chosen sample is one of the seed's first 100 latents
MAX_STEP = 1.0  # the small step along the push, at most the whole pixel range [-1, 1] / 2
HAND_STATE_S = 900  # a visitor's hand-stepped G and D (about 7 MB) are let go this long after their last use
LOSS_CHOICES = [(f"{formula}  ({words})", name) for name, (formula, words) in arena.LOSSES.items()]
LOSS_DOC = "g_loss 'non-saturating' (-log D(G(z)), the tutorial's) or 'minimax' (log(1 - D(G(z))))"


@functools.cache
def example_digit() -> list[list[int]]:
    """The first shipped MNIST test digit (a 7) as rows of grey levels: a valid /discriminate picture."""
    images, _ = critic.real_digits()
    return images[0].astype(int).tolist()


def examples(facts: Facts) -> dict[str, dict]:
    common = {"run": facts.run, "epoch": facts.last}
    return {
        "piles": dict(common),
        "verdicts": {**common, "seed": 0, "grid_size": 4, "sample": 1},
        "push": {**common, "seed": 0, "sample": 1, "step": 0.2, "g_loss": "non-saturating"},
        "arms_race": dict(common),
        "hand_step": {**common, "seed": 0, "grid_size": 4, "steps": "DG", "g_loss": "minimax"},
        "discriminate": {**common, "image": example_digit()},
    }


def download_as(picture, *parts: object):
    """`picture`, downloaded as PARTS-joined-by-dashes.png (run and epoch first, as every download is named)."""
    copy = picture.copy()
    safe = "-".join("".join(c if c.isalnum() or c in "._-" else "_" for c in str(part)) for part in parts)
    setattr(copy, widgets.DOWNLOAD_NAME, safe)
    return copy


def loss_name(value: object) -> str:
    return choice(value, "g_loss", list(arena.LOSSES))


def steps_text(value: object) -> str:
    """A string of D and G, one letter per step, at most MAX_HAND_STEPS."""
    limit = arena.MAX_HAND_STEPS
    allowed = f"steps must be a string of the letters D and G (one per step), at most {limit}"
    if not isinstance(value, str) or len(value) > limit or set(value.upper()) - {"D", "G"}:
        raise InputError(f"{allowed}; got {value!r:.40}")
    return value.upper()


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run_epoch(self, run: object, epoch: object) -> tuple[Engine, int, str]:
        engine = self.ctx.engine(run)
        epoch, note = self.ctx.epoch(engine, epoch)
        return engine, epoch, note

    @staticmethod
    def missing(engine: Engine, run: str, epoch: int) -> str:
        """The one line a view shows when the epoch has no D."""
        if not any(critic.has_discriminator(engine.run.folder, e) for e in engine.epochs):
            return critic.missing_line(run)
        return f"Epoch {epoch} of {run} has no Discriminator saved; pick another epoch."

    @staticmethod
    def with_note(caption: str, note: str) -> str:
        return caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def piles(self, run: str, epoch: float):
        """The two piles: D's score on 1,000 real MNIST test digits and on 1,000 fakes of the same epoch's
        Generator, as two overlapping histograms. Where the piles overlap, D cannot tell real from fake.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch (the nearest saved one is used); its G makes the fakes and its D scores both piles.
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        found = arena.epoch_piles(engine, epoch)
        if found is None:
            return None, self.missing(engine, run, epoch)
        picture = arena.piles_picture(found, f"{run}, epoch {epoch}: D's score on each picture")
        caption = self.with_note(arena.piles_caption(found, f"Epoch {epoch}"), note)
        return download_as(picture, run, "epoch", epoch, "piles"), caption

    @shown_errors
    def verdicts(self, run: str, epoch: float, seed: float, grid_size: float, sample: float = 1):
        """D's verdict on every sample of a grid: each of the epoch's fakes in a frame coloured by D's score (red:
        sure it is fake, green: taken for real), the score written under it; the chosen sample is outlined.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; picks the latents, as in Generate.
            grid_size: n for an n x n grid, 1 to 10.
            sample: which sample to outline, 1 to 100 (counted row by row; none when beyond the grid).
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        seed, size = self.ctx.seed(seed), self.ctx.size(grid_size)
        sample = whole_number(sample, "sample", 1, MAX_SAMPLE)
        discriminator = critic.discriminator(engine.run.folder, epoch)
        if discriminator is None:
            return None, self.missing(engine, run, epoch)
        latents = engine.latents(seed, size * size)
        with torch.inference_mode():
            scores = critic.scores(discriminator, engine.run.generators[epoch](latents))
        picture = arena.verdict_picture(engine.tiles(epoch, latents), scores, size, size, sample - 1)
        return widgets.named(picture, run, epoch, seed, "verdicts"), self.with_note(arena.verdict_caption(scores), note)

    @shown_errors
    def push(self, run: str, epoch: float, seed: float, sample: float, step: float, g_loss: str):
        """Where D looks and the push G gets, for one sample: |dD/dx| as a heatmap over the digit, -dL_G/dx as a
        red (make brighter) / blue (make darker) overlay, and the sample after a small step along that push.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; picks the latents, as in Generate.
            sample: which of the seed's latents, 1 to 100 (counted row by row in the grid).
            step: size of the small step along the push, 0 to 1 (the most a pixel moves, in the models' -1..1 range).
            g_loss: G's loss: 'non-saturating' (-log D(G(z)), the tutorial's) or 'minimax' (log(1 - D(G(z)))).
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        seed = self.ctx.seed(seed)
        sample = whole_number(sample, "sample", 1, MAX_SAMPLE)
        step = real_number(step, "step", 0.0, MAX_STEP)
        loss = loss_name(g_loss)
        discriminator = critic.discriminator(engine.run.folder, epoch)
        if discriminator is None:
            return None, self.missing(engine, run, epoch)
        latent = engine.latents(seed, sample)[-1:]
        with torch.inference_mode():
            image = engine.run.generators[epoch](latent)[0]
        found = arena.push(discriminator, image, loss, step)
        picture = arena.push_picture(found, engine.side)
        named = widgets.named(picture, run, epoch, seed, f"sample-{sample}-push")
        return named, self.with_note(arena.push_caption(found, loss, sample, step), note)

    @shown_errors
    def arms_race(self, run: str, epoch: float):
        """The arms race: the D of every saved epoch (rows) scoring the fakes of every saved epoch's G (columns),
        mean D(G(z)) in each cell, with D's mean score on the real test digits as a last column. Computed once per
        run (a few seconds), then kept; the epoch is pointed at.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: the epoch to point at on both axes (the nearest saved one is used).
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        found = arena.arms_race(engine)
        if found is None:
            return None, critic.missing_line(run)
        return download_as(arena.arms_picture(found, epoch), run, "arms-race"), arena.arms_caption(found, run)

    def hand_view(self, game: arena.HandGame, engine: Engine, run: str, seed: int, size: int, loss: str):
        """The hand-stepped models' verdicts on the grid, their piles and the caption."""
        latents = engine.latents(seed, size * size)
        with game.lock, torch.inference_mode():
            images = game.generator(latents)
            scores = critic.scores(game.discriminator, images)
        tiles = to_uint8(images, engine.side)
        found = game.piles()
        verdicts = arena.verdict_picture(tiles, scores, size, size, width=400)
        title = f"{run}, epoch {game.key[1]} + {len(game.steps)} hand steps: D's score on each picture"
        caption = arena.hand_caption(game, loss, game.push_sizes())
        piles_line = arena.piles_caption(found, "The piles now")
        return verdicts, arena.piles_picture(found, title), f"{caption}\n\n{piles_line}"

    @shown_errors
    def hand_step(self, run: str, epoch: float, seed: float, grid_size: float, steps: str, g_loss: str):
        """One step by hand: from the epoch's G and D, with fresh Adam optimisers and the recipe's settings, apply
        the given steps in order ("D": one Discriminator update, "G": one Generator update, each on one batch of 100
        real test digits and 100 fresh z); returns the grid with D's verdicts, the two piles and a caption with the
        size of G's push under each loss. Nothing is saved; the same steps always give the same result.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch to start from (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; picks the grid's latents, as in Generate.
            grid_size: n for an n x n grid, 1 to 10.
            steps: the steps, in order: a string of D and G, at most 60 letters ("" for none).
            g_loss: G's loss for its steps: 'non-saturating' (-log D(G(z))) or 'minimax' (log(1 - D(G(z)))).
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        seed, size = self.ctx.seed(seed), self.ctx.size(grid_size)
        steps, loss = steps_text(steps), loss_name(g_loss)
        game = arena.HandGame.start(engine, epoch)
        if game is None:
            return None, None, self.missing(engine, run, epoch)
        for kind in steps:
            game.step(kind, loss)
        verdicts, piles, caption = self.hand_view(game, engine, run, seed, size, loss)
        return verdicts, piles, self.with_note(caption, note)

    @shown_errors
    def hand_click(self, kind: str, game, run, epoch, seed, grid_size, g_loss):
        """A D step, a G step or a Reset on this visitor's own copies (kept in the page's session state)."""
        engine, epoch, _ = self.run_epoch(run, epoch)
        seed, size, loss = self.ctx.seed(seed), self.ctx.size(grid_size), loss_name(g_loss)
        if kind == "reset" or not isinstance(game, arena.HandGame) or game.key != (engine.run.folder.resolve(), epoch):
            game = arena.HandGame.start(engine, epoch)
        if game is None:
            return None, "", None, None, self.missing(engine, run, epoch)
        if kind in ("D", "G"):
            game.step(kind, loss)
        return game, "".join(game.steps), *self.hand_view(game, engine, run, seed, size, loss)

    @shown_errors
    def discriminate(self, run: str, epoch: float, image: list | str) -> tuple[float, str]:
        """D's verdict on your picture: the epoch's Discriminator output, a probability from 0 (sure it is fake)
        to 1 (sure it is a real handwritten digit), and a caption.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch whose Discriminator judges (the nearest saved one is used).
            image: grey rows (0-255 or 0-1) or a data URL; 28x28 white on black used as is, others made MNIST-like.
        """
        engine, epoch, note = self.run_epoch(run, epoch)
        return self.judge(engine, run, epoch, arena.picture_input(image), note)

    def judge(self, engine: Engine, run: str, epoch: int, picture: np.ndarray, note: str) -> tuple[float, str]:
        discriminator = critic.discriminator(engine.run.folder, epoch)
        if discriminator is None:
            raise InputError(self.missing(engine, run, epoch))
        score = float(critic.scores(discriminator, critic.to_model_input(picture[None]))[0])
        verdict = "real" if score > 0.5 else "fake"
        sure = "sure" if abs(score - 0.5) > 0.4 else "leaning"
        caption = (
            f"The Discriminator of **{run}**, epoch {epoch}, gives your picture **{score:.3f}**: {sure} it is "
            f"{verdict} (0: sure it is fake, 1: sure it is a real digit)."
        )
        return score, self.with_note(caption, note)

    @shown_errors
    def upload(self, run, epoch, picture):
        """An uploaded picture (the page's upload box) judged as /discriminate judges it."""
        engine, epoch, note = self.run_epoch(run, epoch)
        if picture is None:
            raise InputError("no picture: upload an image of a digit")
        score, caption = self.judge(engine, run, epoch, arena.picture_input(picture), note)
        return caption


def colour_image(label: str, elem_id: str, **kwargs) -> gr.Image:
    """A colour picture (frames, heatmaps, overlays), exact PNG, crisp pixels, downloaded under its own name."""
    picture = gr.Image(
        label=label,
        format="png",
        type="pil",
        interactive=False,
        buttons=["download", "fullscreen"],
        elem_id=elem_id,
        elem_classes="pixels",
        **kwargs,
    )
    return gradio_fixes.name_downloads(picture)


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last, seed, size = engine.epochs[-1], 0, 6
    run_epoch = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}"
    gr.Markdown(
        "The **Discriminator** (D), the other half of the game, gives each picture a *score* from 0 (drawn by the "
        "Generator) to 1 (a real handwritten digit)."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            epoch = widgets.epoch_slider(engine.epochs, last, elem_classes="main-control")
            run = widgets.run_dropdown(ctx)  # under the epoch: on a phone the epoch follows the picture
            seed_box, dice = widgets.seed_box("Seed", seed)
            grid = widgets.grid_slider(size)
            sample = gr.Slider(1, size * size, value=1, step=1, label="Chosen sample (row by row)")
            step = gr.Slider(0, MAX_STEP, value=0.2, step=0.05, label="Small step along the push")
            loss = gr.Radio(LOSS_CHOICES, value="non-saturating", label="G's loss")
            share = links.share_row("discriminator")
        with gr.Column(scale=2, min_width=300):
            verdicts = colour_image("D's verdict on every sample", "verdict-picture", height=widgets.MAIN_HEIGHT)
            verdict_caption = gr.Markdown(elem_id="verdict-caption")
    gr.Markdown(
        "The Generator (G) never sees a real digit: it learns only from D, through the *gradient*, the direction in "
        "which changing its pictures would raise D's score most. Below: what D believes, where it looks, the push G "
        "gets, and the race between the two over the epochs."
    )
    gr.Markdown(
        "### The two piles\nD scores 1,000 real test digits and 1,000 fakes of the same epoch. Move the epoch to "
        "watch the game: early on D pushes the piles apart; as G improves they slide together."
    )
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            piles = colour_image("The two piles", "piles-picture")
        with gr.Column(scale=2, min_width=260):
            piles_caption = gr.Markdown(elem_id="piles-caption")
    gr.Markdown(
        "### Where D looks, and the push G gets\nFor the chosen sample: which pixels D's score depends on most, and "
        "the *push*, the direction G's training moves the picture (the gradient of G's loss, −∂L_G/∂x)."
    )
    push_picture = colour_image("Where D looks and the push", "push-picture")
    push_caption = gr.Markdown(elem_id="push-caption")
    gr.Markdown(
        "### The arms race\nThe D of every saved epoch against the fakes of every saved epoch's G. Computed once per "
        "run (a few seconds the first time), then kept."
    )
    arms_button = gr.Button("Show the arms race")
    arms_picture = colour_image("The arms race", "arms-picture")
    arms_caption = gr.Markdown(elem_id="arms-caption")
    gr.Markdown(
        "### One step by hand\nStart from this epoch's G and D and train them yourself, one batch at a time: "
        "**D step** makes D better at telling the 100 real digits of a batch from 100 new fakes; **G step** changes G "
        "so that D scores its fakes higher. Nothing is saved; **Reset** goes back to the saved epoch. Make D sure "
        "(several D steps), then compare the push G gets under the two losses."
    )
    with gr.Row():
        d_step = gr.Button("D step", variant="primary", elem_id="hand-d")
        g_step = gr.Button("G step", variant="primary", elem_id="hand-g")
        reset = gr.Button("Reset", elem_id="hand-reset")
    with gr.Row():
        with gr.Column(scale=2, min_width=280):
            hand_verdicts = colour_image("After your steps: D's verdicts", "hand-verdicts")
        with gr.Column(scale=3, min_width=300):
            hand_piles = colour_image("After your steps: the two piles", "hand-piles")
    hand_caption = gr.Markdown(elem_id="hand-caption")
    steps_box = gr.Textbox(
        label="Your steps so far", info="The same letters as /hand_step's steps argument", interactive=False
    )
    gr.Markdown("### Ask D about your own picture\nUpload a picture of a digit; the chosen epoch's D judges it.")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            upload = gr.Image(label="Your picture", type="pil", image_mode=None, sources=["upload", "clipboard"])
        with gr.Column(scale=2, min_width=260):
            upload_caption = gr.Markdown(elem_id="upload-caption")
    game = gr.State(None, time_to_live=HAND_STATE_S)

    verdict_inputs = [run, epoch, seed_box, grid, sample]
    push_inputs = [run, epoch, seed_box, sample, step, loss]
    views = [
        (handlers.verdicts, verdict_inputs, [verdicts, verdict_caption]),
        (handlers.piles, [run, epoch], [piles, piles_caption]),
        (handlers.push, push_inputs, [push_picture, push_caption]),
    ]
    descriptions = {
        "verdicts": f"D's score on every sample of an n x n grid, in coloured frames. {run_epoch}; "
        f"{widgets.SEED_DOC}; {widgets.GRID_DOC}; sample 1-{MAX_SAMPLE} (outlined). Returns (PNG, caption).",
        "piles": f"Histograms of D's score on 1,000 real test digits and 1,000 fakes of the epoch. {run_epoch}. "
        "Returns (PNG, caption).",
        "push": f"Where D looks (|dD/dx|) and the push G gets (-dL_G/dx) for one sample, and the sample after a "
        f"small step. {run_epoch}; {widgets.SEED_DOC}; sample 1-{MAX_SAMPLE}; step 0-{MAX_STEP:g}; {LOSS_DOC}. "
        "Returns (PNG, caption).",
    }
    triggers = {
        "verdicts": [epoch.input, seed_box.submit, seed_box.input, grid.input, sample.input],
        "piles": [epoch.input],
        "push": [epoch.input, seed_box.submit, seed_box.input, sample.input, step.input, loss.input],
    }
    for fn, inputs, outputs in views:
        name = fn.__name__
        drawn = gr.on(
            triggers[name], fn, inputs, outputs, api_name=name, api_description=descriptions[name], **widgets.LIVE
        )
        widgets.stale_marks(drawn, outputs[0], "the picture")
    moved_run = run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE)
    rolled = dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE)
    for fn, inputs, outputs in views:
        tab.select(fn, inputs, outputs, api_visibility="private", **widgets.LIVE)
        for event in (moved_run, rolled):
            event.then(fn, inputs, outputs, api_visibility="private", **widgets.LIVE)
    grid.input(lambda g, s: sample_range(g, s), [grid, sample], sample, **widgets.PRIVATE)

    def opened(name: str, value: int, seed: int, grid_size: int, chosen: int) -> list:
        """A link: the verdicts, the piles and the push (the push's step and loss at their defaults)."""
        return [
            *handlers.verdicts(name, value, seed, grid_size, chosen),
            *handlers.piles(name, value),
            *handlers.push(name, value, seed, chosen, 0.2, "non-saturating"),
        ]

    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_box)]
    params += [links.whole(grid, "grid_size", 1, MAX_GRID), links.whole(sample, "sample", 1, MAX_SAMPLE)]
    link_outputs = [verdicts, verdict_caption, piles, piles_caption, push_picture, push_caption]
    links.add(ctx, "discriminator", TITLE, share, params, opened, link_outputs)

    gr.on(
        [arms_button.click],
        handlers.arms_race,
        [run, epoch],
        [arms_picture, arms_caption],
        api_name="arms_race",
        api_description=f"D of every saved epoch against the fakes of every saved epoch's G (mean D(G(z))), and D on "
        f"real digits. {run_epoch} (pointed at). Computed once per run, then kept. Returns (PNG, caption).",
        **widgets.LIVE,
    )

    hand_inputs = [run, epoch, seed_box, grid, loss]
    hand_outputs = [game, steps_box, hand_verdicts, hand_piles, hand_caption]
    for button, kind in ((d_step, "D"), (g_step, "G"), (reset, "reset")):
        button.click(
            functools.partial(handlers.hand_click, kind),
            [game, *hand_inputs],
            hand_outputs,
            api_visibility="private",
            trigger_mode="once",
            show_progress="hidden",
            preprocess=False,
        )
    replay = gr.Button(visible=False)  # the API's way in: /hand_step replays the steps; the page keeps its models
    replay.click(
        handlers.hand_step,
        [run, epoch, seed_box, grid, steps_box, loss],
        [hand_verdicts, hand_piles, hand_caption],
        api_name="hand_step",
        api_description=f"Train by hand from the epoch's G and D: steps is a string of D and G (at most "
        f"{arena.MAX_HAND_STEPS}), applied in order, each on one batch. {run_epoch}; {widgets.SEED_DOC}; "
        f"{widgets.GRID_DOC}; {LOSS_DOC}. Returns (verdicts PNG, piles PNG, caption).",
        **widgets.LIVE,
    )
    gr.api(
        handlers.discriminate,
        api_name="discriminate",
        api_description=f"The epoch's D output (a probability that the picture is a real digit) for a picture. "
        f"{run_epoch}; image: rows of grey levels (28x28 white on black is used as is; other pictures are "
        "preprocessed as MNIST was) or a data URL. Returns (score, caption).",
    )
    upload.upload(handlers.upload, [run, epoch, upload], upload_caption, api_visibility="private")


def sample_range(grid_size: object, sample: object):
    """The chosen-sample slider follows the grid: 1 to n x n."""
    if not isinstance(grid_size, (int, float)) or not 1 <= grid_size <= MAX_GRID:
        return gr.skip()
    top = int(grid_size) ** 2
    value = min(int(sample), top) if isinstance(sample, (int, float)) and sample == sample else 1
    return gr.Slider(1, top, value=max(1, value), step=1)
