"""Your digit: draw or upload a digit; see what the classifier and D (at every epoch) make of it, find the z that
draws it, and hold any sample against its nearest training images."""

import functools
import math
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image

from demo import critic, digits, links, own_digit, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import BANK_SIZE, Engine
from demo.mnist_style import SIDE, to_mnist
from demo.validation import InputError, shown, whole_number
from gan.images import upscale

TITLE = "Your digit"
SCALE = 10  # the 28x28 pictures are upscaled this many times (nearest neighbour)
RANDOM_SAMPLES = 64  # random samples of an epoch the inversion's distance is compared with
STRIP_COLUMNS = 10  # epochs per row of "how each epoch would have written it"
MAX_LATENT = 100.0  # a z coordinate beyond this is refused (random ones stay within about 5)
YOURS, REAL, FAKE = "your digit", "a real digit", "a fake"  # the curves' names
CURVE_COLORS = {YOURS: "#7c3aed", REAL: "#10b981", FAKE: "#ef4444"}


def examples(facts: Facts) -> dict[str, dict]:
    images, labels = real_test_digits()
    seven = (images[int(np.nonzero(labels == 7)[0][0])] / 255.0).round(3).tolist()  # 28 rows of 28 numbers
    return {
        "d_curve": {"run": facts.run, "image": seven},
        "invert": {"run": facts.run, "epoch": facts.last, "image": seven},
        "neighbours": {"run": facts.run, "epoch": facts.last, "seed": 0, "index": 3},
    }


@functools.cache
def real_test_digits() -> tuple[np.ndarray, np.ndarray]:
    return critic.real_digits()


def chosen_latent(ctx: Context) -> gr.State:
    """The z a visitor handed on with "Use this z" (a list of floats, or None): one per page, shared by the tabs
    that take it (Interpolate as seed A, Edit as the top-left digit). Made by whichever tab asks first."""
    state = getattr(ctx, "_chosen_latent", None)
    if state is None:
        state = gr.State(None)
        ctx._chosen_latent = state
    return state


def latent_value(value: object, latent_dim: int) -> torch.Tensor:
    """A z from JSON: a list of `latent_dim` finite numbers, each within +-MAX_LATENT."""
    allowed = f"z must be a list of {latent_dim} numbers from -{MAX_LATENT:g} to {MAX_LATENT:g}"
    if not isinstance(value, (list, tuple)) or len(value) != latent_dim:
        raise InputError(f"{allowed}; got {shown(value)}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise InputError(f"{allowed}; got {shown(value)}")
    latent = torch.tensor([float(v) for v in value], dtype=torch.float32)
    if not bool(torch.isfinite(latent).all()) or float(latent.abs().max()) > MAX_LATENT:
        raise InputError(f"{allowed}; got {shown(value)}")
    return latent


def picture_value(value: object, cache: Path) -> np.ndarray:
    """What an `image` argument may be, as MNIST's 28x28 in 0..1: a picture file uploaded to this app (Gradio's
    file data, as a file input sends it; a drawing pad's value), or 28x28 (or 784) numbers from 0 to 1."""
    allowed = "image must be a picture uploaded to this app, or 28 rows of 28 numbers from 0 to 1"
    if isinstance(value, dict) and "composite" in value:  # a drawing pad's layers and their composite
        value = value["composite"]
    if value is None:
        raise InputError("no picture: draw a digit or upload an image")
    if isinstance(value, dict):
        path = value.get("path")
        if not isinstance(path, str) or not path:
            raise InputError(f"{allowed}; got {shown(value)}")
        file = Path(path).resolve()
        if not file.is_relative_to(cache.resolve()) or not file.is_file():  # only what was uploaded here
            raise InputError(f"{allowed}; {shown(path)} is not a file uploaded to this app")
        try:
            with Image.open(file) as opened:
                opened.load()
                return to_mnist(opened)
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"{allowed}; the file is not a picture that can be read") from None
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise InputError(f"{allowed}; got {shown(value)}") from None
        if array.size != SIDE * SIDE or not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise InputError(f"{allowed}; got {shown(value)}")
        return to_mnist(array.reshape(SIDE, SIDE).astype(np.float32))
    raise InputError(f"{allowed}; got {shown(value)}")


def pixels(picture01: np.ndarray) -> np.ndarray:
    """0..1 -> uint8, as the pictures are shown."""
    return np.round(np.asarray(picture01, np.float32) * 255).clip(0, 255).astype(np.uint8)


def big(tile: np.ndarray) -> Image.Image:
    """One 28x28 tile, upscaled SCALE times, nearest neighbour."""
    return upscale(tile, SCALE)


def judge_or_none(engine: Engine) -> digits.Judge | None:
    try:
        digits.check_side(engine)
        return digits.shared_judge()
    except digits.NoJudge:
        return None


def check_side(engine: Engine) -> None:
    if engine.side != SIDE:
        raise InputError(f"this view needs a run that draws {SIDE}x{SIDE} digits; this one draws {engine.side}")


def a_digit(digit: int) -> str:
    """'a 7', 'an 8'."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def sure(judge: digits.Judge, tile01: np.ndarray) -> tuple[int, float]:
    """The classifier's digit for one picture in 0..1, and its probability."""
    probs = judge.probabilities(critic.to_model_input(np.asarray(tile01, np.float32)[None]))[0]
    return int(probs.argmax()), float(probs.max())


class Handlers:
    def __init__(self, ctx: Context, cache: str | Path | None = None):
        self.ctx = ctx
        self.cache = Path(cache) if cache else None

    def picture(self, value: object) -> np.ndarray:
        cache = self.cache or Path(gr.Image(render=False).GRADIO_CACHE)
        return picture_value(value, cache)

    @shown_errors
    def d_curve(self, run: str, image):
        """What the models make of a picture: the 28x28 they see (made as MNIST was: white on black, cropped,
        fitted into 20x20, centre of mass in the middle), the classifier's digit, and D's score (its probability
        that the picture is a real digit) at every saved epoch that kept D, beside the same for a real test digit
        of that label and for one fake.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            image: 28 rows of 28 numbers from 0 (black) to 1 (white), a white digit on black as in MNIST, or a
                picture file uploaded to the app (gradio_client's handle_file; a dark digit on light paper or a
                light one on dark), which is made MNIST-like first.
        """
        engine = self.ctx.engine(run)
        check_side(engine)
        picture = self.picture(image)
        judge = judge_or_none(engine)
        lines, real = [], None
        if judge is None:
            lines.append("The classifier is not there, so no digit is named (and no real digit drawn beside).")
        else:
            digit, probability = sure(judge, picture)
            lines.append(f"The classifier reads **{a_digit(digit)}** ({digits.percent(probability)} sure).")
            images, labels = real_test_digits()
            real = images[int(np.nonzero(labels == digit)[0][0])] / 255.0
        curves = own_digit.critic_curves(
            engine.run.folder, engine.run.generators, picture, real, engine.latents(0, 1)[0]
        )
        rows = [(e, s, YOURS) for e, s in zip(curves.epochs, curves.drawing, strict=True)]
        rows += [(e, s, REAL) for e, s in zip(curves.epochs, curves.real, strict=True)]
        rows += [(e, s, FAKE) for e, s in zip(curves.epochs, curves.fake, strict=True)]
        frame = pd.DataFrame(rows, columns=["epoch", "D(real)", "picture"])
        if not curves.epochs:
            lines.append(critic.missing_line(run))
        else:
            lines.append(own_digit.believed_text(curves))
            last = curves.epochs[-1]
            real_name = f"the first {digit} of MNIST's test set" if curves.real else ""
            lines.append(
                f"At epoch {last}: your digit {curves.drawing[-1]:.2f}"
                + (f", a real digit ({real_name}) {curves.real[-1]:.2f}" if curves.real else "")
                + f", a fake (seed 0's first sample, drawn by each epoch) {curves.fake[-1]:.2f}."
            )
        tile = pixels(picture)
        return widgets.named(big(tile), run, "all", "drawn", "mnist-style"), " ".join(lines), frame

    @shown_errors
    def invert(self, run: str, epoch: float, image):
        """The z that draws a picture: z* = argmin ||G(z) - x||^2 plus a prior that keeps z where Gaussian latents
        live (16 restarts, Adam). Returns G(z*) (that epoch's Generator applied to z*, 28x28 upscaled 10 times,
        nearest neighbour), a caption with the distance (pixels from 0 to 1) beside that of random samples, and z*.

        Args:
            run: name of a loaded run.
            epoch: training epoch whose Generator to invert (the nearest saved one is used).
            image: 28 rows of 28 numbers from 0 to 1 (white digit on black), or a picture file uploaded to the app.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, note = ctx.epoch(engine, epoch)
        check_side(engine)
        picture = self.picture(image)
        found = own_digit.invert(engine.run.generators[epoch], picture)
        tile = engine.tiles(epoch, found.latent[None])[0]  # exactly what the app draws for z*
        distance = own_digit.pixel_distance(tile / 255.0, picture)
        samples = engine.tiles(epoch, engine.latents(0, RANDOM_SAMPLES)) / 255.0
        typical = float(np.median([own_digit.pixel_distance(s, picture) for s in samples]))
        caption = (
            f"**Distance {distance:.2f}** between G(z\\*) and your digit at epoch {epoch} (the square root of the "
            f"summed squared pixel differences, pixels from 0 to 1); a random sample of this epoch is typically "
            f"{typical:.2f} away. |z\\*| = {float(found.latent.norm()):.2f} (random z: about "
            f"{math.sqrt(engine.latent_dim):.0f})."
        )
        judge = judge_or_none(engine)
        if judge is not None:
            digit, probability = sure(judge, tile / 255.0)
            caption += f" The classifier reads G(z\\*) as **{a_digit(digit)}** ({digits.percent(probability)} sure)."
        latent = [float(v) for v in found.latent]
        image_out = widgets.named(big(tile), run, epoch, "inverted")
        return image_out, caption + (f"\n\n{note}" if note else ""), latent

    @shown_errors
    def latent_epochs(self, run: str, latent: list):
        """One z drawn by every saved epoch, the epoch under each."""
        engine = self.ctx.engine(run)
        z = latent_value(latent, engine.latent_dim)
        tiles = np.stack([engine.tiles(e, z[None])[0] for e in engine.epochs])
        columns = min(STRIP_COLUMNS, len(tiles))
        rows = math.ceil(len(tiles) / columns)
        picture = digits.labelled_grid(tiles, [f"ep {e}" for e in engine.epochs], [False] * len(tiles), rows, columns)
        return widgets.named(picture, run, "all", "inverted", "by-epoch")

    @shown_errors
    def neighbours(self, run: str, epoch: float, seed: float, index: float):
        """A generated sample beside its 5 nearest MNIST training images (pixel distance, pixels from 0 to 1), the
        label and distance under each: does the Generator copy its training set?

        Args:
            run: name of a loaded run.
            epoch: training epoch to draw the sample with (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; picks the latents, as in Generate.
            index: which of the seed's latents, 0 to 99 (a 10x10 grid's samples, row by row).

        Returns (picture, caption, found): found is {"sample": 784 numbers from 0 to 1, the generated picture,
        "neighbours": [{"index": index in MNIST's training set, "label": its digit, "distance": ...}, ...]}.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed = ctx.epoch(engine, epoch), ctx.seed(seed)
        index = whole_number(index, "index", 0, BANK_SIZE - 1)
        check_side(engine)
        tile = engine.tiles(epoch, engine.latents(seed, index + 1)[index:])[0]
        picture, caption, found = self.nearest_view(tile)
        picture = widgets.named(picture, run, epoch, seed, f"sample-{index}", "neighbours")
        where = f"Sample {index} of seed {seed} at epoch {epoch}. "
        return picture, where + caption + (f"\n\n{note}" if note else ""), found

    @shown_errors
    def latent_neighbours(self, run: str, epoch: float, latent: list):
        """The neighbours view for G(z) of a given z (z* from the inversion)."""
        ctx = self.ctx
        engine = ctx.engine(run)
        epoch, _ = ctx.epoch(engine, epoch)
        check_side(engine)
        tile = engine.tiles(epoch, latent_value(latent, engine.latent_dim)[None])[0]
        picture, caption, found = self.nearest_view(tile)
        where = f"G(z\\*) at epoch {epoch}. "
        return widgets.named(picture, run, epoch, "inverted", "neighbours"), where + caption, found

    @staticmethod
    def nearest_view(tile: np.ndarray) -> tuple[Image.Image, str, dict]:
        """A sample (uint8 28x28) beside its nearest training images, a caption and the found JSON."""
        sample = tile.astype(np.float64) / 255.0
        found = {"sample": [float(v) for v in sample.reshape(-1)], "neighbours": []}
        try:
            index = own_digit.neighbour_index()
        except own_digit.NoNeighbours as err:
            return big(tile), str(err), found
        nearest = index.nearest(sample)
        found["neighbours"] = [{"index": n.index, "label": n.label, "distance": round(n.distance, 4)} for n in nearest]
        tiles = np.stack([tile] + [index.images[n.index] for n in nearest])
        texts = ["sample"] + [f"{n.label}: {n.distance:.1f}" for n in nearest]
        picture = digits.labelled_grid(tiles, texts, [False] * len(tiles), 1, len(tiles))
        listed = ", ".join(f"#{n.index} ({a_digit(n.label)}, {n.distance:.2f})" for n in nearest)
        caption = (
            f"Left: the sample; then its {len(nearest)} nearest of the {len(index):,} MNIST training images by "
            f"pixel distance (label: distance under each): {listed}. Close to a distance of 0 would be a copy; "
            "a different picture of the same digit is usually 4 to 7 away."
        )
        return picture, caption + (f" {index.note}" if index.note else ""), found

    @staticmethod
    def prepare(picture):
        """A drawing or an upload as the 28x28 the models see, as a picture and as 28 rows of 28 numbers (what the
        endpoints take); None twice for an emptied pad."""
        try:
            tile = pixels(to_mnist(picture))
        except InputError:
            return None, None
        return Image.fromarray(tile, mode="L"), (tile / 255.0).round(4).tolist()


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    last = engine.epochs[-1]
    doc = f"{widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}"
    image_doc = "image: 28 rows of 28 numbers from 0 to 1 (white digit on black), or an uploaded picture file"
    gr.Markdown("Draw a digit on the pad (pick the brush on its left first), or upload a picture of one.")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            pad = gr.Sketchpad(
                label="Draw",
                canvas_size=(280, 280),
                brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"),
                layers=False,
                transforms=(),
                type="pil",
                image_mode="RGBA",
                elem_id="own-pad",
            )
            upload = gr.Image(
                label="Or upload a picture",
                sources=["upload", "clipboard"],
                type="pil",
                image_mode="RGBA",
                height=160,
                elem_id="own-upload",
            )
            run = widgets.run_dropdown(ctx)  # under the pad: the pad and what the models see open in view together
            epoch = widgets.epoch_slider(engine.epochs, last, "Epoch (for the inversion and the samples)")
            share = links.share_row("own")
        with gr.Column(scale=1, min_width=280):
            preview = widgets.image("What the models see (28x28)", height=200, elem_id="own-preview")
            label_line = gr.Markdown("Draw a digit to begin.", elem_id="own-label")
            gr.Markdown(
                "It is made into a 28x28 picture the way MNIST's digits were: white on black, cropped, fitted into "
                "20x20, its centre of mass in the middle. Then: what the classifier reads, what the "
                "**Discriminator** (D, the network that tells real digits from made ones) thought of it at every "
                "saved epoch, and the latent *z\\** whose picture G(z\\*) comes closest to it (an *inversion*: a "
                "search for the input that gives a wanted output)."
            )
            curve = gr.LinePlot(
                None,
                x="epoch",
                y="D(real)",
                color="picture",
                color_map=CURVE_COLORS,
                y_lim=[0, 1],
                title="D's score per epoch (1: real)",
                elem_id="own-curve",
            )
            # The picture the endpoints take (28 rows of 28 numbers from 0 to 1): a JSON value, so that any value
            # an API call sends reaches the handler's checks (a file component's would be refused before them).
            drawn = gr.JSON(None, visible=False)
    handlers.cache = Path(drawn.GRADIO_CACHE)
    gr.Markdown(
        "### The z that draws it\nG(z\\*), the closest picture this epoch's Generator can draw to yours, and the same "
        "z\\* drawn by every saved epoch: how each epoch would have written your digit."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            inverted = widgets.image("G(z*)", height=280, elem_id="own-inverted")
            use = gr.Button("Use this z in Interpolate (as seed A) and Edit (top-left digit)", interactive=False)
            used = gr.Markdown("")
        with gr.Column(scale=2, min_width=300):
            inverted_caption = gr.Markdown("", elem_id="own-inverted-caption")
            by_epoch = widgets.image("z* drawn by every saved epoch", elem_id="own-epochs")
            with gr.Accordion("z* (its 100 numbers)", open=False):
                latent = gr.JSON(None, label="z*", elem_id="own-z")
    gr.Markdown(
        "### What the Generator did not copy\n"
        "A sample beside its nearest training images (as in Figure 2 of the first GAN paper): if the Generator "
        "copied, the nearest would be the same picture."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            seed_box, dice = widgets.seed_box("Seed", 0)
            index = gr.Slider(0, BANK_SIZE - 1, value=0, step=1, label="Sample (of the seed's 10x10 grid, row by row)")
            find = gr.Button("Nearest training images", variant="primary")
            find_own = gr.Button("Nearest training images of G(z*)")
        with gr.Column(scale=2, min_width=300):
            near_picture = widgets.image("Nearest training images", elem_id="own-neighbours")
            near_caption = gr.Markdown("", elem_id="own-neighbours-caption")
            with gr.Accordion("As JSON", open=False):
                found = gr.JSON(None, label="found")

    chosen = chosen_latent(ctx)
    curve_outputs = [preview, label_line, curve]
    invert_outputs = [inverted, inverted_caption, latent]

    def when_drawn(handler, outputs: int):
        """A handler for a redraw that does nothing while no picture (or no z*) is there yet."""

        def redraw(*values):
            return [gr.skip()] * outputs if values[-1] is None else handler(*values)

        return redraw

    def after(event, public: bool):
        """What a new picture sets going: D's curve, then the inversion, then z* through every epoch. The upload's
        chain carries the endpoints' names (an upload is never empty); the pad's skips an emptied pad."""
        if public:
            curve_fn, invert_fn = handlers.d_curve, handlers.invert
            curve_names = {
                "api_name": "d_curve",
                "api_description": f"{widgets.run_doc(ctx)}; {image_doc}. Returns (28x28 PNG upscaled, caption with "
                "the classifier's digit and when D believed it, D's score per epoch as a long table).",
            }
            invert_names = {
                "api_name": "invert",
                "api_description": f"The z whose picture is closest to the image. {doc}; {image_doc}. Returns "
                "(G(z*) PNG, caption with the distance, z* as 100 numbers).",
            }
        else:
            curve_fn, invert_fn = when_drawn(handlers.d_curve, 3), when_drawn(handlers.invert, 3)
            curve_names = invert_names = {"api_visibility": "private"}
        step = event.success(curve_fn, [run, drawn], curve_outputs, **curve_names, **widgets.LIVE)
        step = step.success(invert_fn, [run, epoch, drawn], invert_outputs, **invert_names, **widgets.LIVE)
        step = step.success(
            when_drawn(handlers.latent_epochs, 1), [run, latent], by_epoch, api_visibility="private", **widgets.LIVE
        )
        step.success(lambda: gr.Button(interactive=True), None, use, **widgets.PRIVATE)

    hidden = {"trigger_mode": "always_last", "show_progress": "hidden", "api_visibility": "private"}
    after(upload.upload(handlers.prepare, upload, [preview, drawn], **hidden), public=True)
    after(pad.change(handlers.prepare, pad, [preview, drawn], **hidden), public=False)

    private = {"api_visibility": "private", **widgets.LIVE}
    redone = epoch.input(when_drawn(handlers.invert, 3), [run, epoch, drawn], invert_outputs, **private)
    redone.success(when_drawn(handlers.latent_epochs, 1), [run, latent], by_epoch, **private)
    followed = run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE)
    followed = followed.then(when_drawn(handlers.d_curve, 3), [run, drawn], curve_outputs, **private)
    followed = followed.success(when_drawn(handlers.invert, 3), [run, epoch, drawn], invert_outputs, **private)
    followed.success(when_drawn(handlers.latent_epochs, 1), [run, latent], by_epoch, **private)

    use.click(lambda z: z, latent, chosen, **widgets.PRIVATE).then(
        lambda: (
            "Handed on: Interpolate's seed A and Edit's top-left digit are now your z\\* (a button there goes back "
            "to the seed)."
        ),
        None,
        used,
        **widgets.PRIVATE,
    )

    near_inputs, near_outputs = [run, epoch, seed_box, index], [near_picture, near_caption, found]
    find.click(
        handlers.neighbours,
        near_inputs,
        near_outputs,
        api_name="neighbours",
        api_description=(
            f"A sample beside its {own_digit.NEIGHBOURS} nearest MNIST training images in pixel space. {doc}; "
            f"{widgets.SEED_DOC}; index 0-{BANK_SIZE - 1}. Returns (PNG, caption, found: {{sample: 784 numbers "
            "0-1, neighbours: [{index, label, distance}]}})."
        ),
        preprocess=False,
    )
    gr.on([tab.select, index.input, seed_box.submit], handlers.neighbours, near_inputs, near_outputs, **private)
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.neighbours, near_inputs, near_outputs, api_visibility="private", **widgets.LIVE
    )
    find_own.click(when_drawn(handlers.latent_neighbours, 3), [run, epoch, latent], near_outputs, **private)
    # A link carries the run, the epoch and the nearest-neighbours sample (a drawing cannot travel in an address).
    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_box)]
    params += [links.whole(index, "index", 0, BANK_SIZE - 1)]
    links.add(ctx, "own", TITLE, share, params, handlers.neighbours, near_outputs)
