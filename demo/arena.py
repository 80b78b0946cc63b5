"""The game between the two networks, computed: what D says of real and fake pictures, where it looks, the push G
gets through it, D of every epoch against G of every epoch, and single training steps taken by hand.

Pure math and pictures, no UI. Every model here is read-only and shared, except a HandGame's own copies (one per
visitor). Pictures are (N, 784) in [-1, 1], as the models see them; scores are D's probabilities that a picture
is real.
"""

import base64
import binascii
import copy
import io
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch.nn import functional as F

from demo import critic
from demo.engine import Engine, seed_latents
from demo.mnist_style import to_mnist
from demo.validation import InputError, shown
from gan.images import to_uint8
from gan.layout import read_metrics
from gan.models import Discriminator, Generator

PILE_SIZE = 1000  # pictures in each pile: the 1,000 shipped test digits, and as many fakes
PILE_SEED = 0  # the fakes of the piles come from this seed's latents, the same at every epoch
BINS = 20  # histogram bins over D's score, 0 to 1
ARMS_FAKES = 256  # fakes per Generator in the arms race
ARMS_SEED = 1
MAX_ARMS_EPOCHS = 30  # the arms race takes at most this many saved epochs (evenly spread, first and last kept)
HAND_BATCH = 100  # the recipe's batch size: one hand step uses 100 real digits and 100 fresh z
HAND_SEED = 2
MAX_HAND_STEPS = 60  # steps one /hand_step call replays
LOSSES = {  # G's loss, by name: (formula, plain words)
    "non-saturating": ("−log D(G(z))", "the tutorial's"),
    "minimax": ("log(1 − D(G(z)))", "the original minimax"),
}
REAL_COLOUR, FAKE_COLOUR = (16, 185, 129), (239, 68, 68)  # the app's colours of D(x) and D(G(z))
SURE = 0.1  # D is "sure" the fakes are fake when it gives them less than this on average
CACHED_PILES = 256  # (run, epoch) pairs whose piles are kept


# ---- inputs -------------------------------------------------------------------------------------------------


_real: torch.Tensor | None = None
_real_lock = threading.Lock()


def real_inputs() -> torch.Tensor:
    """The 1,000 shipped MNIST test digits as D's input (1000, 784) in [-1, 1]; read once."""
    global _real
    with _real_lock:
        if _real is None:
            images, _ = critic.real_digits()
            _real = critic.to_model_input(images.astype(np.float32) / 255.0)
        return _real


def fakes(generator: Generator, count: int, seed: int) -> torch.Tensor:
    """G's pictures (count, 784) of the seed's first `count` latents."""
    with torch.inference_mode():
        return generator(seed_latents(seed, count, generator.latent_dim))


def picture_input(value: object) -> np.ndarray:
    """A picture from the API or an upload -> (28, 28) float32 in 0..1, white digit on black, as MNIST was made
    (a 28x28 white-on-black picture is used as it is). Takes rows of grey levels (0-255, or 0-1), a data URL
    (data:image/png;base64,...), or a PIL image; anything else is an InputError saying what is taken."""
    allowed = (
        "image must be a picture: rows of grey levels (a list of lists, 0-255 or 0-1) or a data URL "
        "(data:image/png;base64,...)"
    )
    if isinstance(value, Image.Image):
        return to_mnist(value)
    if isinstance(value, str):
        head, _, data = value.partition(",")
        if not (head.startswith("data:image/") and head.endswith(";base64")) or len(data) > 8 * 2**20:
            raise InputError(f"{allowed}; got {shown(value)}")
        try:
            picture = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
            if picture.width * picture.height > 4096 * 4096:
                raise InputError(f"the picture is {picture.width}x{picture.height}; at most 4096x4096 is taken")
            picture.load()
        except (binascii.Error, OSError, ValueError, Image.DecompressionBombError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"image: the data URL does not hold a picture PIL can read ({shown(value)})") from None
        return to_mnist(picture)
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        flat = [item for row in value for item in (row if isinstance(row, list) else [row])]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat)
        if not numeric or len(flat) > 4096 * 4096:
            raise InputError(f"{allowed}; got {shown(value)}")
        lengths = {len(row) for row in value}
        if len(lengths) != 1:
            raise InputError(f"image: every row must have the same length; got rows of {sorted(lengths)[:5]} values")
        return to_mnist(np.asarray(value, dtype=np.float64))
    raise InputError(f"{allowed}; got {shown(value)}")


# ---- the two piles ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piles:
    """D's scores on the real test digits and on as many fakes of one Generator."""

    real: np.ndarray  # (PILE_SIZE,)
    fake: np.ndarray  # (PILE_SIZE,)

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        edges = np.linspace(0.0, 1.0, BINS + 1)
        return np.histogram(self.real, edges)[0], np.histogram(self.fake, edges)[0]

    @property
    def overlap(self) -> float:
        """The share of the two piles that lies on top of each other (0: D tells every picture apart, 1: the
        piles are the same and D cannot tell real from fake)."""
        real, fake = self.counts()
        return float(np.minimum(real / real.sum(), fake / fake.sum()).sum())

    @property
    def accuracy(self) -> float:
        """How often D is right when it calls a score above 0.5 real and below it fake."""
        return float(((self.real > 0.5).sum() + (self.fake <= 0.5).sum()) / (len(self.real) + len(self.fake)))


def piles(discriminator: Discriminator, generator: Generator, count: int = PILE_SIZE) -> Piles:
    """D's scores on the first `count` shipped test digits and on `count` fakes from PILE_SEED's latents."""
    with torch.inference_mode():
        real = critic.scores(discriminator, real_inputs()[:count])
        fake = critic.scores(discriminator, fakes(generator, count, PILE_SEED))
    return Piles(real, fake)


_piles: OrderedDict = OrderedDict()
_piles_lock = threading.Lock()


def epoch_piles(engine: Engine, epoch: int) -> Piles | None:
    """The piles of a saved epoch (its own G and D), computed once; None when the epoch has no D."""
    key = (engine.run.folder.resolve(), epoch, engine.run.generators[epoch])
    with _piles_lock:
        if key in _piles:
            _piles.move_to_end(key)
            return _piles[key]
    discriminator = critic.discriminator(engine.run.folder, epoch)
    if discriminator is None:
        return None
    found = piles(discriminator, engine.run.generators[epoch])
    with _piles_lock:
        _piles[key] = found
        while len(_piles) > CACHED_PILES:
            _piles.popitem(last=False)
    return found


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def piles_picture(found: Piles, title: str, width: int = 640, height: int = 280) -> Image.Image:
    """Two overlapping histograms of D's score: the real digits (green) and the fakes (red); where they lie on top
    of each other the colours mix. The x axis runs from 0 (D: surely fake) to 1 (D: surely real)."""
    real, fake = found.counts()
    left, right, top, bottom = 44, 16, 34, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    picture = Image.new("RGB", (width, height), (255, 255, 255))
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw, bars = ImageDraw.Draw(picture), ImageDraw.Draw(layer)
    highest = max(int(real.max()), int(fake.max()), 1)
    step = plot_w / BINS
    for counts, colour in ((real, REAL_COLOUR), (fake, FAKE_COLOUR)):
        for index, count in enumerate(counts):
            if count:
                x0 = left + index * step + 1
                y0 = top + plot_h * (1 - count / highest)
                bars.rectangle([x0, y0, x0 + step - 2, top + plot_h], fill=(*colour, 140))
    picture.paste(layer, (0, 0), layer)
    small, label = font(11), font(13)
    draw.line([left, top + plot_h, left + plot_w, top + plot_h], fill=(60, 60, 60))
    draw.line([left, top, left, top + plot_h], fill=(60, 60, 60))
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_w
        draw.line([x, top + plot_h, x, top + plot_h + 4], fill=(60, 60, 60))
        draw.text((x, top + plot_h + 6), f"{tick:g}", fill=(40, 40, 40), font=small, anchor="mt")
    draw.text((left, height - 6), "0: D is sure it is fake", fill=(40, 40, 40), font=small, anchor="ls")
    draw.text((left + plot_w, height - 6), "1: D is sure it is real", fill=(40, 40, 40), font=small, anchor="rs")
    draw.text((left + plot_w / 2, height - 6), "D's score", fill=(40, 40, 40), font=small, anchor="ms")
    draw.text((left - 6, top), str(highest), fill=(40, 40, 40), font=small, anchor="rt")
    draw.text((left - 6, top + plot_h), "0", fill=(40, 40, 40), font=small, anchor="rb")
    draw.text((8, 8), title, fill=(20, 20, 20), font=label)
    legend_x = width - right - 250
    for offset, (name, colour) in enumerate(
        ((f"{len(found.real):,} real test digits", REAL_COLOUR), (f"{len(found.fake):,} fakes", FAKE_COLOUR))
    ):
        x = legend_x + offset * 150
        draw.rectangle([x, 10, x + 12, 22], fill=colour)
        draw.text((x + 16, 16), name, fill=(20, 20, 20), font=small, anchor="lm")
    return picture


def piles_caption(found: Piles, what: str) -> str:
    return (
        f"{what}: D gives the real digits {found.real.mean():.2f} on average and the fakes {found.fake.mean():.2f}; "
        f"it sorts {found.accuracy:.0%} of the 2,000 pictures right (score above 0.5: real). "
        f"The piles overlap by **{found.overlap:.0%}**. Where the piles overlap, D cannot tell real from fake."
    )


# ---- verdicts on a grid -------------------------------------------------------------------------------------


def verdict_colour(score: float) -> tuple[int, int, int]:
    """Red (D: fake) through amber (unsure) to green (D: real)."""
    amber = (245, 158, 11)
    if score < 0.5:
        t = score / 0.5
        return tuple(round(a + (b - a) * t) for a, b in zip(FAKE_COLOUR, amber, strict=True))
    t = (score - 0.5) / 0.5
    return tuple(round(a + (b - a) * t) for a, b in zip(amber, REAL_COLOUR, strict=True))


def verdict_picture(
    tiles: np.ndarray, scores: np.ndarray, rows: int, cols: int, mark: int | None = None, width: int = 512
):
    """Each tile in a frame coloured by D's score on it, the score written under it; `mark` (an index) gets a
    white outline: the sample chosen below. Tiles are upscaled by a whole factor to about `width` pixels in all."""
    scale = max(2, math.ceil(width / (cols * 28 + cols * 10)))
    side, frame, band = 28 * scale, 3, 16
    cell_w, cell_h = side + 2 * frame + 6, side + 2 * frame + band + 4
    picture = Image.new("RGB", (cols * cell_w + 4, rows * cell_h + 4), (17, 24, 39))
    draw, small = ImageDraw.Draw(picture), font(12)
    for index, (tile, score) in enumerate(zip(tiles, scores, strict=True)):
        row, col = divmod(index, cols)
        x, y = 4 + col * cell_w, 4 + row * cell_h
        colour = verdict_colour(float(score))
        draw.rectangle([x, y, x + side + 2 * frame - 1, y + side + 2 * frame - 1], fill=colour)
        digit = Image.fromarray(tile, "L").resize((side, side), Image.Resampling.NEAREST)
        picture.paste(digit.convert("RGB"), (x + frame, y + frame))
        if index == mark:
            draw.rectangle([x - 2, y - 2, x + side + 2 * frame + 1, y + side + 2 * frame + 1], outline=(255, 255, 255))
        draw.text(
            (x + frame + side / 2, y + side + 2 * frame + 2), f"{score:.2f}", fill=colour, font=small, anchor="mt"
        )
    return picture


def verdict_caption(scores: np.ndarray) -> str:
    real = int((scores > 0.5).sum())
    return (
        f"D calls **{real} of {len(scores)}** of these fakes real (score above 0.5); their mean score is "
        f"{scores.mean():.2f}. Frame colour: red, D is sure it is fake; amber, unsure; green, D takes it for real."
    )


# ---- where D looks, and the push G gets -------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    """D's view of one picture: its score, where a change would move the score most, and G's push."""

    image: torch.Tensor  # (784,) in [-1, 1]
    score: float
    looks: torch.Tensor  # (784,) |dD/dx|
    push: torch.Tensor  # (784,) -dL_G/dx: positive makes the pixel brighter
    stepped: torch.Tensor  # (784,) the picture after a small step along the push
    stepped_score: float
    scale: float  # the largest pixel of the stronger of the two losses' pushes: both are drawn and stepped by it
    sizes: dict  # loss name -> the largest pixel of its push


def push(discriminator: Discriminator, image: torch.Tensor, loss: str, step: float) -> Push:
    """D(x), |dD/dx| and -dL_G/dx for one picture (784,) in [-1, 1]. With a = D's logit and D = sigmoid(a),
    dD/dx = D (1 - D) da/dx; G lowers its loss by raising a, so its push is -dL/dx = (1 - D) da/dx under -log D
    and D da/dx under log(1 - D). The step moves the picture along the push by `step` (in [-1, 1] units) at its
    most pushed pixel, less elsewhere, then clips it to [-1, 1]. Both losses' pushes point the same way and differ
    in size only, so both are measured against the stronger one: a push that is 50 times weaker is drawn 50 times
    fainter and moves the picture 50 times less."""
    x = image.detach().clone().float().requires_grad_(True)
    logit = discriminator.logits(x[None])[0, 0]
    (slope,) = torch.autograd.grad(logit, x)  # da/dx
    score = float(torch.sigmoid(logit.detach()))
    factors = {"non-saturating": 1.0 - score, "minimax": score}
    steepest = float(slope.abs().max())
    sizes = {name: factor * steepest for name, factor in factors.items()}
    scale = max(sizes.values())
    pushed = factors[loss] * slope
    stepped = x.detach() + (step * pushed / scale if scale > 0 else 0.0)
    stepped = stepped.clamp(-1.0, 1.0)
    with torch.inference_mode():
        stepped_score = float(discriminator(stepped[None])[0, 0])
    looks = (score * (1.0 - score) * slope).abs()
    return Push(x.detach(), score, looks, pushed.detach(), stepped, stepped_score, scale, sizes)


def heat(values: np.ndarray) -> np.ndarray:
    """Values >= 0 -> RGB (..., 3) uint8 from black through purple and orange to yellow, scaled to their max."""
    top = float(values.max())
    t = values / top if top > 0 else np.zeros_like(values)
    stops = np.array([[0, 0, 0], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32)
    position = t * (len(stops) - 1)
    low = np.clip(np.floor(position).astype(int), 0, len(stops) - 2)
    frac = (position - low)[..., None]
    return np.round(stops[low] * (1 - frac) + stops[low + 1] * frac).astype(np.uint8)


def overlay(image: np.ndarray, pushed: np.ndarray, scale: float) -> np.ndarray:
    """The digit in grey, red where the push makes a pixel brighter, blue where it makes it darker, the colour as
    strong as the push is against `scale`."""
    grey = np.repeat(image[..., None].astype(np.float32) * 0.6, 3, axis=-1)
    strength = np.clip(np.abs(pushed) / scale if scale > 0 else np.zeros_like(pushed), 0.0, 1.0)[..., None]
    colour = np.where(
        (pushed > 0)[..., None], np.array([239, 68, 68], np.float32), np.array([59, 130, 246], np.float32)
    )
    return np.round(grey * (1 - strength) + colour * strength).astype(np.uint8)


def push_picture(found: Push, side: int = 28) -> Image.Image:
    """Four panels side by side: the sample, where D looks, the push, the sample after a small step."""
    scale = 6
    pushed = overlay(to_uint8(found.image, side)[0], found.push.reshape(side, side).numpy(), found.scale)
    panels = [
        ("the sample", np.repeat(to_uint8(found.image, side)[0][..., None], 3, axis=-1)),
        ("where D looks", heat(found.looks.reshape(side, side).numpy())),
        ("the push (red: brighter)", pushed),
        ("after a small step", np.repeat(to_uint8(found.stepped, side)[0][..., None], 3, axis=-1)),
    ]
    size, gap, band = side * scale, 12, 22
    picture = Image.new("RGB", (len(panels) * (size + gap) + gap, size + 2 * band), (255, 255, 255))
    draw, small = ImageDraw.Draw(picture), font(13)
    for index, (title, pixels) in enumerate(panels):
        x = gap + index * (size + gap)
        picture.paste(Image.fromarray(pixels, "RGB").resize((size, size), Image.Resampling.NEAREST), (x, band))
        draw.text((x + size / 2, band / 2), title, fill=(20, 20, 20), font=small, anchor="mm")
    scores = {0: found.score, 3: found.stepped_score}
    for index, score in scores.items():
        x = gap + index * (size + gap) + size / 2
        draw.text((x, band + size + band / 2), f"D = {score:.3f}", fill=(20, 20, 20), font=small, anchor="mm")
    return picture


def push_caption(found: Push, loss: str, sample: int, step: float) -> str:
    formula, words = LOSSES[loss]
    change = found.stepped_score - found.score
    return (
        f"Sample {sample}: D gives it **{found.score:.3f}**. *Where D looks*: how much each pixel would move D's "
        "score (|∂D/∂x|, brightest where a change matters most). *The push*: the direction G's training moves this "
        f"picture, −∂L_G/∂x for G's loss {formula} ({words}); red: make this pixel brighter, blue: darker. "
        f"*After a small step* along the push (a pixel moves at most {step:g}), D gives "
        f"**{found.stepped_score:.3f}** ({change:+.3f}): G's weights are nudged so that its pictures move this way. "
        f"Size of the push (its strongest pixel): **{found.sizes['non-saturating']:.3g}** under −log D(G(z)), "
        f"**{found.sizes['minimax']:.3g}** under log(1 − D(G(z))); the weaker one is drawn fainter and steps less."
    )


# ---- the arms race ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmsRace:
    """mean D(G(z)) for the D of every saved epoch (rows) and the fakes of every saved epoch's G (columns), and
    each D's mean score on the real test digits."""

    d_epochs: list[int]
    g_epochs: list[int]
    fake: np.ndarray  # (len(d_epochs), len(g_epochs))
    real: np.ndarray  # (len(d_epochs),)
    seconds: float = 0.0


_arms: dict = {}
_arms_lock = threading.Lock()
_arms_locks: dict = {}


def arms_race(engine: Engine) -> ArmsRace | None:
    """The run's arms race, computed on first use (a few seconds) and kept; None when no epoch has D."""
    import time

    key = (engine.run.folder.resolve(), tuple(engine.epochs))
    with _arms_lock:
        if key in _arms:
            return _arms[key]
        lock = _arms_locks.setdefault(key, threading.Lock())
    with lock:  # one computation per run, however many ask at once
        with _arms_lock:
            if key in _arms:
                return _arms[key]
        start = time.perf_counter()
        g_epochs = arms_epochs(engine.epochs)
        d_epochs = [e for e in g_epochs if critic.has_discriminator(engine.run.folder, e)]
        if not d_epochs:
            return None
        pictures = torch.cat([fakes(engine.run.generators[e], ARMS_FAKES, ARMS_SEED) for e in g_epochs])
        real = real_inputs()
        fake_means, real_means = [], []
        for epoch in d_epochs:
            discriminator = critic.discriminator(engine.run.folder, epoch)
            fake_means.append(critic.scores(discriminator, pictures).reshape(len(g_epochs), ARMS_FAKES).mean(axis=1))
            real_means.append(critic.scores(discriminator, real).mean())
        found = ArmsRace(d_epochs, g_epochs, np.stack(fake_means), np.array(real_means), time.perf_counter() - start)
        with _arms_lock:
            _arms[key] = found
        return found


def arms_epochs(epochs: list[int]) -> list[int]:
    """At most MAX_ARMS_EPOCHS of the saved epochs, evenly spread, the first and the last kept (the cost grows with
    the square of their number: every D scores the fakes of every G)."""
    if len(epochs) <= MAX_ARMS_EPOCHS:
        return list(epochs)
    picks = np.linspace(0, len(epochs) - 1, MAX_ARMS_EPOCHS).round().astype(int)
    return [epochs[i] for i in sorted(set(picks))]


def cached_arms_race(engine: Engine) -> ArmsRace | None:
    """The arms race if it was computed already, else None (nothing is computed)."""
    with _arms_lock:
        return _arms.get((engine.run.folder.resolve(), tuple(engine.epochs)))


def arms_picture(found: ArmsRace, mark: int | None = None) -> Image.Image:
    """A heatmap: one row per D, one column per G, and a last column for the real digits; red: D is sure the
    pictures are fake, amber: unsure, green: D takes them for real. The cells where D and G are of the same epoch
    (the game as it was played) are outlined; `mark`'s row and column are pointed at."""
    cell = max(12, min(28, 560 // (len(found.g_epochs) + 2)))
    left, top, gap = 64, 90, 8
    width = max(left + (len(found.g_epochs) + 1) * cell + gap + 12, left + 400)  # room for the titles and legend
    height = top + len(found.d_epochs) * cell + 40
    picture = Image.new("RGB", (width, height), (255, 255, 255))
    draw, small, label = ImageDraw.Draw(picture), font(max(9, min(12, cell - 4))), font(13)
    for row, d_epoch in enumerate(found.d_epochs):
        y = top + row * cell
        draw.text((left - 4, y + cell / 2), str(d_epoch), fill=(20, 20, 20), font=small, anchor="rm")
        for col, g_epoch in enumerate(found.g_epochs):
            x = left + col * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=verdict_colour(float(found.fake[row, col])))
            if d_epoch == g_epoch:
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], outline=(17, 24, 39), width=2)
        x = left + len(found.g_epochs) * cell + gap
        draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=verdict_colour(float(found.real[row])))
    stagger = max(len(str(e)) for e in found.g_epochs) * small.size * 0.6 > cell  # labels wider than a cell
    for col, g_epoch in enumerate(found.g_epochs):
        x = left + col * cell + cell / 2
        y = top - 4 - (small.size + 2) * (col % 2 if stagger else 0)  # every other label a line higher
        draw.text((x, y), str(g_epoch), fill=(20, 20, 20), font=small, anchor="ms")
        if g_epoch == mark:
            draw.polygon([(x - 4, top - 36), (x + 4, top - 36), (x, top - 30)], fill=(17, 24, 39))
    if mark in found.d_epochs:
        y = top + found.d_epochs.index(mark) * cell + cell / 2
        draw.polygon([(left - 30, y - 4), (left - 30, y + 4), (left - 24, y)], fill=(17, 24, 39))
    real_x = left + len(found.g_epochs) * cell + gap + cell / 2
    draw.text((real_x, top - 4), "real", fill=(20, 20, 20), font=small, anchor="ms")
    draw.text((left, 10), "columns: the fakes of G saved after epoch ...", fill=(20, 20, 20), font=label)
    draw.text((left, 30), "rows: the D saved after epoch ...", fill=(20, 20, 20), font=label)
    legend_y = top + len(found.d_epochs) * cell + 14
    for index, (score, words) in enumerate(((0.0, "sure: fake"), (0.5, "unsure"), (1.0, "taken for real"))):
        x = left + index * 130
        draw.rectangle([x, legend_y, x + 14, legend_y + 14], fill=verdict_colour(score))
        draw.text((x + 20, legend_y + 7), f"{score:g} {words}", fill=(20, 20, 20), font=small, anchor="lm")
    return picture


def arms_caption(found: ArmsRace, run: str) -> str:
    first_d, last_d = found.d_epochs[0], found.d_epochs[-1]
    first_g, last_g = found.g_epochs[0], found.g_epochs[-1]
    fake = found.fake
    late_d_on_early_g = fake[-1, 0]
    early_d_on_late_g = fake[0, -1]
    return (
        f"**{run}**: each cell is D's mean score on {ARMS_FAKES} fakes (mean D(G(z))); a row is the Discriminator "
        "saved after one epoch, a column the Generator saved after one epoch, and the last column D's mean score on "
        f"the {PILE_SIZE:,} real test digits. Outlined: D and G of the same epoch, the game as it was played. "
        f"The D of epoch {last_d} gives the fakes of epoch {first_g} {late_d_on_early_g:.2f}; the D of epoch "
        f"{first_d} gives those of epoch {last_g} {early_d_on_late_g:.2f}. Each side learns to beat the other's "
        "present, so an old opponent is often easier to beat (or to fool) than the current one."
        + (f" (Computed in {found.seconds:.1f} s, then kept.)" if found.seconds else "")
    )


# ---- one step by hand ---------------------------------------------------------------------------------------


def adam_settings(folder: Path) -> dict:
    """The recipe's Adam settings (lr, betas) from the run's metrics.json; the tutorial's when none is recorded."""
    try:
        config = read_metrics(folder).get("config", {})
    except Exception:  # noqa: BLE001 - an unreadable metrics.json: the run's plots already say so
        config = {}
    lr = config.get("lr", 2e-4)
    beta1 = config.get("beta1", 0.9)
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lr, beta1)) and lr > 0 and 0 <= beta1 < 1
    return {"lr": float(lr), "betas": (float(beta1), 0.999)} if ok else {"lr": 2e-4, "betas": (0.9, 0.999)}


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad, eps 1e-8), written out: the same numbers, without
    the 1.7 s that building the first torch.optim optimiser of a process costs (it imports the compiler stack)."""

    def __init__(self, parameters, lr: float, betas: tuple[float, float], eps: float = 1e-8):
        self.parameters = [p for p in parameters if p.requires_grad]
        self.lr, self.betas, self.eps, self.steps = lr, betas, eps, 0
        self.first = [torch.zeros_like(p) for p in self.parameters]  # running mean of the gradients
        self.second = [torch.zeros_like(p) for p in self.parameters]  # running mean of their squares

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        correction1, correction2 = 1 - beta1**self.steps, 1 - beta2**self.steps
        for parameter, first, second in zip(self.parameters, self.first, self.second, strict=True):
            if parameter.grad is None:
                continue
            first.lerp_(parameter.grad, 1 - beta1)
            second.mul_(beta2).addcmul_(parameter.grad, parameter.grad, value=1 - beta2)
            denominator = (second.sqrt() / math.sqrt(correction2)).add_(self.eps)
            parameter.addcdiv_(first, denominator, value=-self.lr / correction1)


@dataclass
class HandGame:
    """One visitor's copies of an epoch's G and D with fresh Adam optimisers; `step` applies one update."""

    key: tuple
    generator: Generator
    discriminator: Discriminator
    g_optimizer: Adam
    d_optimizer: Adam
    adam: dict
    steps: list[str] = field(default_factory=list)
    last: dict = field(default_factory=dict)  # what the last step measured
    kept: dict = field(default_factory=dict)  # the piles' halves, kept while the model they depend on is unchanged
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, engine: Engine, epoch: int) -> "HandGame | None":
        """Copies of the epoch's G and D (the shared ones are never touched); None when the epoch has no D."""
        shared = critic.discriminator(engine.run.folder, epoch)
        if shared is None:
            return None
        generator = copy.deepcopy(engine.run.generators[epoch]).requires_grad_(True)
        discriminator = copy.deepcopy(shared).requires_grad_(True)
        adam = adam_settings(engine.run.folder)
        saved = epoch_piles(engine, epoch)  # before any step the piles are the epoch's own, computed once
        return cls(
            (engine.run.folder.resolve(), epoch),
            generator,
            discriminator,
            Adam(generator.parameters(), **adam),
            Adam(discriminator.parameters(), **adam),
            adam,
            kept={"real_scores": saved.real, "fake_scores": saved.fake},
        )

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next step's 100 real digits and 100 latents, fixed by the step's number (replays are exact)."""
        rng = torch.Generator().manual_seed(HAND_SEED + len(self.steps))
        real = real_inputs()
        picks = torch.randperm(len(real), generator=rng)[:HAND_BATCH]
        return real[picks], torch.randn(HAND_BATCH, self.generator.latent_dim, generator=rng)

    def step(self, kind: str, loss: str) -> None:
        """One D step (BCE on real -> 1 and fake -> 0) or one G step (G's loss `loss`) on the next batch."""
        with self.lock:
            real, noise = self.batch()
            if kind == "D":
                with torch.no_grad():
                    fake = self.generator(noise)
                real_logits, fake_logits = self.discriminator.logits(real), self.discriminator.logits(fake)
                d_loss = F.binary_cross_entropy_with_logits(
                    real_logits, torch.ones_like(real_logits)
                ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
                self.d_optimizer.zero_grad(set_to_none=True)
                d_loss.backward()
                self.d_optimizer.step()
                self.last = {"kind": "D", "loss": d_loss.item()}
            else:
                self.discriminator.requires_grad_(False)
                try:
                    logits = self.discriminator.logits(self.generator(noise))
                    g_loss = generator_loss(logits, loss)
                    self.g_optimizer.zero_grad(set_to_none=True)
                    g_loss.backward()
                    self.g_optimizer.step()
                finally:
                    self.discriminator.requires_grad_(True)
                self.last = {"kind": "G", "loss": g_loss.item(), "g_loss": loss}
            self.steps.append(kind)
            self.kept.pop("real_scores" if kind == "D" else "fakes", None)  # a D step rescores all, a G step redraws
            self.kept.pop("fake_scores", None)

    def piles(self) -> Piles:
        """D's scores on the shipped test digits and on G's pile of fakes, as the two models stand now; each half
        is recomputed only when a step changed the model it depends on (a D step keeps G's fakes, a G step keeps
        D's scores on the real digits)."""
        with self.lock, torch.inference_mode():
            if "fakes" not in self.kept:
                self.kept["fakes"] = fakes(self.generator, PILE_SIZE, PILE_SEED)
            if "real_scores" not in self.kept:
                self.kept["real_scores"] = critic.scores(self.discriminator, real_inputs()[:PILE_SIZE])
            if "fake_scores" not in self.kept:
                self.kept["fake_scores"] = critic.scores(self.discriminator, self.kept["fakes"])
            return Piles(self.kept["real_scores"], self.kept["fake_scores"])

    def push_sizes(self) -> dict[str, float]:
        """The size of G's push (the norm of the gradient on G's weights) under each loss, and mean D(G(z)), on the
        next batch of fakes, as D stands now."""
        with self.lock:
            _, noise = self.batch()
            parameters = list(self.generator.parameters())
            self.discriminator.requires_grad_(False)
            try:
                logits = self.discriminator.logits(self.generator(noise))
                sizes = {}
                for name in LOSSES:
                    grads = torch.autograd.grad(generator_loss(logits, name), parameters, retain_graph=True)
                    sizes[name] = float(torch.sqrt(sum((g**2).sum() for g in grads)))
            finally:
                self.discriminator.requires_grad_(True)
            sizes["d_fake"] = float(torch.sigmoid(logits.detach()).mean())
            return sizes


def generator_loss(logits: torch.Tensor, loss: str) -> torch.Tensor:
    """G's loss from D's logits on its fakes: -log D(G(z)) (non-saturating) or log(1 - D(G(z))) (minimax)."""
    if loss == "non-saturating":
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))  # -log sigmoid(a)
    return -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))  # log(1 - sigmoid(a))


def hand_caption(game: HandGame, loss: str, sizes: dict[str, float]) -> str:
    taken = "".join(game.steps)
    done = f"After **{len(taken)} step{'s' if len(taken) != 1 else ''}** ({taken})" if taken else "Before any step"
    last = ""
    if game.last:
        last = f" The last step was a {game.last['kind']} step; its loss on its batch was {game.last['loss']:.3f}."
    ns, mm = sizes["non-saturating"], sizes["minimax"]
    ratio = (ns / mm) if mm > 0 else float("inf")
    formula, words = LOSSES[loss]
    return (
        f"{done}, from this epoch's G and D with fresh Adam optimisers (lr {game.adam['lr']:g}, "
        f"betas {game.adam['betas'][0]:g}, {game.adam['betas'][1]:g}; the recipe's), G's loss {formula} "
        f"({words}).{last}\n\n"
        f"On the next batch D gives the fakes **{sizes['d_fake']:.3f}** on average. The push G would get (the size "
        f"of the gradient on G's weights): **{ns:.3g}** under −log D(G(z)), **{mm:.3g}** under log(1 − D(G(z)))"
        + (f", {ratio:.0f} times smaller." if math.isfinite(ratio) and ratio >= 2 else ".")
        + (
            " D is sure the fakes are fake (scores near 0): there log(1 − D) is flat and gives G almost no push, "
            "while −log D is steep and pushes hardest. That is why the tutorial uses −log D(G(z))."
            if sizes["d_fake"] < SURE
            else " Press **D step** until D is sure the fakes are fake (their mean score near 0), then compare: "
            "log(1 − D) is flat there and gives G almost no push, −log D is steep and pushes hardest."
        )
    )
