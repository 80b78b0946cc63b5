"""Speaking in digits: the project's classifier (the judge) labels samples, finds latents that draw a chosen
digit, says where a morph changes label, steers a latent toward a digit and lays out what an epoch can draw.

No UI here. The judge is loaded once (shared_judge); without weights/classifier every digit feature says so
in one line and the rest of the app works.
"""

import functools
import itertools
import logging
import math
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from demo.engine import PAD, Engine, display_scale, gif_bytes, grid_side, slerp, with_caption
from gan.classifier import DigitClassifier, is_digit, load_classifier
from gan.errors import UsageError
from gan.images import to_uint8, upscale
from gan.metrics import DIGIT_SHARE, digits_drawn, drawn_histogram

log = logging.getLogger("demo")

CLASSIFIER = Path(__file__).resolve().parents[1] / "weights" / "classifier"  # GAN_CLASSIFIER overrides it
JUDGE_SIDE = 28  # the classifier reads 28x28 digits
CANDIDATES = 256  # K: latents drawn from a seed when looking for a morph's end points
SHEET_SAMPLES = 500  # N: latents the digit sheet sorts into columns
FLOOR = 0.5  # a digit the judge accepts but gives its label less than this probability is "unsure" (grey)
NOT_A_DIGIT = "not a digit"  # what the label under a sample says when the judge rejects it
PATH_POINTS = 51  # t values (0, 0.02, ..., 1) at which a morph is labelled to find where the label flips
STEER_STEPS = 3  # gradient evaluations per steer: each costs a forward and backward pass through G and the judge
STEER_SHRINK = 8  # after a step that lowers p(digit), that z's next step is this many times shorter (then 64)
MAX_STEER = 6.0  # how far a steer may move z at most (a random z is about 10 long)
NOT_DRAWN = "not drawn yet"  # what an empty column of the digit sheet says
MORPH_COLUMNS = 5  # frames per row of a labelled morph strip: its labels stay readable on a phone
GIF_SIDE = 280  # morph GIF frames are about this wide: half the strip's scale, a third of the encoding time
LABEL_BAND = 0.5  # height of the label band under a tile, as a share of its side: 10x10 labels readable at 390 px
LOW_GREY = 120  # label colour for "not a digit" and for unsure labels (under FLOOR); sure labels are white
CACHED_POOLS = 64  # labelled pools (epoch, seed, count) kept per run: a t slider reuses one


class NoJudge(Exception):
    """The classifier's weights are missing or unreadable; the message is the one line the app shows."""


# ---- the judge -------------------------------------------------------------------------------


class Judge:
    """The classifier and its "not a digit" test, read-only and shared by every request. Images are flattened
    (N, 784) in [-1, 1]."""

    def __init__(self, model: DigitClassifier):
        self.model = model.eval().requires_grad_(False)

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 784) -> (N, 10) class probabilities."""
        with torch.inference_mode():
            return self.model(images).softmax(dim=1)

    def verdict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 784) -> (class probabilities (N, 10), accepted as a digit (N,) bool)."""
        with torch.inference_mode():
            summaries, features = self.model.summaries(images)
            probs = self.model.head(features).softmax(dim=1)
            return probs, is_digit(self.model.rejection.distance(summaries, probs.argmax(dim=1)))

    def log_probs_and_gradient(
        self, generator: torch.nn.Module, latents: torch.Tensor, digit: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log p(. | G(z)) for each z (N, 10), and the gradient of log p(digit | G(z)) with respect to z."""
        with torch.enable_grad():
            noise = latents.detach().requires_grad_(True)
            log_probs = self.model(generator(noise)).log_softmax(dim=1)  # (N, 10)
            (gradient,) = torch.autograd.grad(log_probs[:, digit].sum(), noise)  # (N, latent_dim)
        return log_probs.detach(), gradient


@functools.cache
def load_judge(path: Path) -> Judge | str:
    """The judge in `path`, or the one line that says why there is none; once per path."""
    try:
        return Judge(load_classifier(path))
    except UsageError as err:
        log.warning("digit features off: %s", err)
        return (
            f"The digit features (labels, morphs, steering, the digit sheet) need the project's classifier, and "
            f"there is none at {path}."
        )


def shared_judge(folder: str | Path | None = None) -> Judge:
    """The judge from `folder` (default: $GAN_CLASSIFIER, else weights/classifier beside the package), loaded
    once and shared; NoJudge with one line when there is none."""
    judge = load_judge(Path(folder or os.environ.get("GAN_CLASSIFIER") or CLASSIFIER))
    if isinstance(judge, str):
        raise NoJudge(judge)
    return judge


def check_side(engine: Engine) -> None:
    if engine.side != JUDGE_SIDE:
        raise NoJudge(
            f"The classifier reads {JUDGE_SIDE}x{JUDGE_SIDE} digits; this run draws {engine.side}x{engine.side}."
        )


# ---- labelled samples ------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    """Samples with what the judge sees in them."""

    latents: torch.Tensor  # (N, latent_dim)
    tiles: np.ndarray  # (N, side, side) uint8
    probs: torch.Tensor  # (N, 10)
    accepted: torch.Tensor  # (N,) bool: the judge takes it for a digit (else it says "not a digit")

    @property
    def digits(self) -> list[int]:
        return self.probs.argmax(dim=1).tolist()

    @property
    def confidences(self) -> list[float]:
        return self.probs.max(dim=1).values.tolist()

    @property
    def rejected(self) -> list[bool]:
        return (~self.accepted).tolist()

    def histogram(self) -> list[float]:
        """Share of the N samples that are accepted digits labelled k (gan.metrics.drawn_histogram)."""
        return drawn_histogram(self.probs.argmax(dim=1), self.accepted).tolist()


def label(judge: Judge, engine: Engine, epoch: int, latents: torch.Tensor) -> Labelled:
    """Draw `latents` with one epoch's Generator and label every sample."""
    check_side(engine)
    with torch.inference_mode():
        images = engine.run.generators[epoch](latents)  # (N, 784) in [-1, 1]
    return Labelled(latents, to_uint8(images, engine.side), *judge.verdict(images))


def label_text(digit: int, confidence: float, rejected: bool = False) -> str:
    """'7 99%' (rounded down, so a label never claims 100%), or 'not a digit' where the judge rejects it."""
    return NOT_A_DIGIT if rejected else f"{digit} {min(99, math.floor(confidence * 100))}%"


def label_summary(digits: list[int], confidences: list[float], rejected: list[bool] | None = None) -> str:
    """'1 x9, 7 x4, 3 x2 (2 unsure, in grey); 5 not a digit': the grid's accepted labels, most common first."""
    rejected = rejected or [False] * len(digits)
    kept = [(d, c) for d, c, r in zip(digits, confidences, rejected, strict=True) if not r]
    counts = np.bincount([d for d, _ in kept], minlength=10)
    order = sorted(range(10), key=lambda d: (-counts[d], d))
    parts = [f"{d} x{counts[d]}" for d in order if counts[d]]
    unsure = sum(c < FLOOR for _, c in kept)
    text = ", ".join(parts) + (f" ({unsure} unsure, in grey)" if unsure else "")
    if sum(rejected):
        text += ("; " if text else "") + (
            f"{sum(rejected)} not a digit"
            if sum(rejected) < len(digits)
            else f"no digit: all {len(digits)} not a digit"
        )
    return text


def fitted_font(texts: list[str], width: int, height: int) -> ImageFont.ImageFont:
    """The largest default font (up to 80% of `height`) at which every text fits `width` pixels."""
    size = max(8, int(height * 0.8))
    font = ImageFont.load_default(size=size)
    widest = max(font.getlength(text) for text in texts)
    if widest > width:
        font = ImageFont.load_default(size=max(8, int(size * width / widest)))
    return font


def labelled_grid(tiles: np.ndarray, texts: list[str], unsure: list[bool], rows: int, cols: int) -> Image.Image:
    """Tiles laid out like Engine.grid (same width and scale), with a band under each row for a text per tile;
    unsure texts are grey."""
    count, side, _ = tiles.shape
    band = round(side * LABEL_BAND)  # in tile pixels, before upscaling
    sheet = np.zeros((rows * (side + band + PAD) + PAD, grid_side(cols, side)), np.uint8)
    for index in range(count):
        row, col = divmod(index, cols)
        top, left = PAD + row * (side + band + PAD), PAD + col * (side + PAD)
        sheet[top : top + side, left : left + side] = tiles[index]
    scale = display_scale(sheet.shape[1])
    image = upscale(sheet, scale)
    font = fitted_font(texts, side * scale - 2, band * scale)  # the padding keeps neighbours apart
    draw = ImageDraw.Draw(image)
    for index, text in enumerate(texts):
        row, col = divmod(index, cols)
        x = (PAD + col * (side + PAD) + side / 2) * scale
        y = (PAD + row * (side + band + PAD) + side + band / 2) * scale
        draw.text((x, y), text, fill=LOW_GREY if unsure[index] else 255, font=font, anchor="mm")
    return image


def labelled_picture(samples: Labelled, rows: int, cols: int) -> Image.Image:
    """A grid of samples, each with the judge's digit and confidence under it, or "not a digit" (grey)."""
    texts = labels_of(samples)
    grey = [r or c < FLOOR for c, r in zip(samples.confidences, samples.rejected, strict=True)]
    return labelled_grid(samples.tiles, texts, grey, rows, cols)


def labels_of(samples: Labelled) -> list[str]:
    return [label_text(d, c, r) for d, c, r in zip(samples.digits, samples.confidences, samples.rejected, strict=True)]


def grid_picture(
    engine: Engine, epoch: int, latents: torch.Tensor, rows: int, cols: int, labels: bool
) -> tuple[Image.Image, str]:
    """What every grid endpoint draws: Engine.grid, or with `labels` the labelled grid and a sentence naming
    the digits the classifier sees in it; without a classifier, the plain grid and the sentence why."""
    if not labels:
        return engine.grid(epoch, latents, rows, cols), ""
    try:
        samples = label(shared_judge(), engine, epoch, latents)
    except NoJudge as err:
        return engine.grid(epoch, latents, rows, cols), str(err)
    summary = label_summary(samples.digits, samples.confidences, samples.rejected)
    return labelled_picture(samples, rows, cols), f"The classifier sees {summary}."


# ---- pools of labelled latents: morph end points and the digit sheet ------------------------


_pools: "weakref.WeakKeyDictionary[Engine, OrderedDict]" = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def pool(judge: Judge, engine: Engine, epoch: int, seed: int, count: int) -> Labelled:
    """The seed's first `count` latents at one epoch, labelled; cached, as a t slider asks again and again.
    The cache is per engine and lets go of an engine nobody else holds (a live run reloaded, say)."""
    key = (judge, epoch, seed, count)
    with _pools_lock:
        cached = _pools.setdefault(engine, OrderedDict())
        if key in cached:
            cached.move_to_end(key)
            return cached[key]
    samples = label(judge, engine, epoch, engine.latents(seed, count))
    with _pools_lock:
        cached[key] = samples
        while len(cached) > CACHED_POOLS:
            cached.popitem(last=False)
    return samples


def clear_pools() -> None:
    with _pools_lock:
        _pools.clear()


def best_of(
    probs: torch.Tensor, digit: int, skip: int | None = None, accepted: torch.Tensor | None = None
) -> tuple[int, bool]:
    """The index of the sample accepted as a digit and labelled `digit` that the judge is surest of (at least
    FLOOR), and True; when there is none, the sample with the highest p(digit), and False. `skip` leaves one
    index out."""
    p = probs[:, digit].clone()
    if skip is not None:
        p[skip] = -1.0
    accepted = torch.ones(len(p), dtype=torch.bool) if accepted is None else accepted
    labelled = (probs.argmax(dim=1) == digit) & (p >= FLOOR) & accepted
    if labelled.any():
        return int(torch.where(labelled, p, -1.0).argmax()), True
    return int(p.argmax()), False


@dataclass(frozen=True)
class Endpoints:
    a: torch.Tensor  # (1, latent_dim)
    b: torch.Tensor  # (1, latent_dim)
    p_a: float  # p(digit A) at the start
    p_b: float  # p(digit B) at the end
    found_a: bool  # False: no latent of the pool was labelled A with at least FLOOR; a stand-in is used
    found_b: bool


def endpoints(judge: Judge, engine: Engine, epoch: int, digit_a: int, digit_b: int, seed: int) -> Endpoints:
    """Morph end points: of the seed's CANDIDATES latents, the one the judge surest labels A, and the one it
    surest labels B (for A == B, the two surest). Deterministic for a seed."""
    samples = pool(judge, engine, epoch, seed, CANDIDATES)
    index_a, found_a = best_of(samples.probs, digit_a, accepted=samples.accepted)
    index_b, found_b = best_of(
        samples.probs, digit_b, skip=index_a if digit_a == digit_b else None, accepted=samples.accepted
    )
    latents, probs = samples.latents, samples.probs
    return Endpoints(
        latents[index_a : index_a + 1],
        latents[index_b : index_b + 1],
        float(probs[index_a, digit_a]),
        float(probs[index_b, digit_b]),
        found_a,
        found_b,
    )


def morph_latents(ends: Endpoints, ts: list[float] | np.ndarray) -> torch.Tensor:
    """Latents along the sphere from A's z to B's z at each t, (len(ts), latent_dim)."""
    t = torch.tensor(np.asarray(ts, dtype=np.float32))[:, None]
    return slerp(ends.a, ends.b, t)


def label_path(judge: Judge, engine: Engine, epoch: int, ends: Endpoints) -> list[tuple[int | str, float, float]]:
    """The judge's label along the morph at PATH_POINTS values of t, as runs (digit or "not a digit", first t,
    last t)."""
    ts = np.linspace(0, 1, PATH_POINTS)
    samples = label(judge, engine, epoch, morph_latents(ends, ts))
    digits = [NOT_A_DIGIT if r else d for d, r in zip(samples.digits, samples.rejected, strict=True)]
    runs: list[tuple[int | str, float, float]] = []
    for t, digit in zip(ts.tolist(), digits, strict=True):
        if runs and runs[-1][0] == digit:
            runs[-1] = (digit, runs[-1][1], t)
        else:
            runs.append((digit, t, t))
    return runs


def flips_text(runs: list[tuple[int | str, float, float]]) -> str:
    """'the label flips from 3 to 8 at t = 0.47', or several flips, or 'the label stays 4'."""
    if len(runs) == 1:
        return f"the label stays {runs[0][0]}"
    flips = [f"from {a[0]} to {b[0]} at t = {(a[2] + b[1]) / 2:.2f}" for a, b in itertools.pairwise(runs)]
    return "the label flips " + (flips[0] if len(flips) == 1 else ", then ".join(flips))


def small_probability(p: float) -> str:
    """'12.5%', or for tiny ones '3.2e-06', so a rise from one tiny value to another still shows."""
    return f"{p:.1%}" if p >= 0.001 else f"{p:.1e}"


def percent(p: float) -> str:
    """A probability as a whole percentage rounded down ('99%', never '100%'), or '<1%'."""
    return "<1%" if p < 0.01 else f"{min(99, math.floor(p * 100))}%"


def missing_text(digit: int, found: bool, p: float, epoch: int, count: int = CANDIDATES) -> str:
    """What to say when an epoch cannot draw a digit (a finding, not an error); '' when it can."""
    if found:
        return ""
    return (
        f"Epoch {epoch} cannot draw a {digit} from this seed: none of its {count} latents is accepted as a digit and "
        f"labelled {digit} with at least {FLOOR:.0%} confidence. The latent with the highest p({digit}) "
        f"({percent(p)}) stands in for it."
    )


def morph_strip(
    judge: Judge, engine: Engine, epoch: int, ends: Endpoints, frames: int, gif: bool = True
) -> tuple[Image.Image, bytes | None]:
    """(labelled strip PNG, GIF there and back, or None without `gif`): `frames` steps from A to B, the
    classifier's label with each."""
    ts = np.linspace(0, 1, frames)
    samples = label(judge, engine, epoch, morph_latents(ends, ts))
    columns = min(frames, MORPH_COLUMNS)
    strip = labelled_picture(samples, math.ceil(frames / columns), columns)
    if not gif:
        return strip, None
    scale = max(1, GIF_SIDE // engine.side)
    texts = labels_of(samples)
    gif_frames = [
        with_caption(upscale(tile, scale), f"t = {t:.2f}: {text}")
        for tile, t, text in zip(samples.tiles, ts.tolist(), texts, strict=True)
    ]
    return strip, gif_bytes(gif_frames + gif_frames[-2:0:-1], 120, 120)


def morph_picture(
    judge: Judge, engine: Engine, epoch: int, digit_a: int, digit_b: int, t: float, seed: int
) -> tuple[Image.Image, str]:
    """The digit at t on the way from the seed's surest A to its surest B, and a caption: what the judge sees
    at t, how sure it is of the end points, where the label flips, and what the epoch cannot draw."""
    ends = endpoints(judge, engine, epoch, digit_a, digit_b, seed)
    latent = morph_latents(ends, [t])
    seen = label(judge, engine, epoch, latent)
    digit, confidence, rejected = seen.digits[0], seen.confidences[0], seen.rejected[0]
    if digit_a == digit_b:
        end = f"the next surest {digit_b}" if ends.found_b else f"a stand-in for a second {digit_b}"
    else:
        end = f"the surest {digit_b}" if ends.found_b else f"a stand-in for {digit_b}"
    start = f"the surest {digit_a}" if ends.found_a else f"a stand-in for {digit_a}"
    lines = [
        f"**{digit_a} into {digit_b}**, epoch {epoch}, seed {seed}: at **t = {t:.2f}** the classifier sees "
        f"**{label_text(digit, confidence, rejected)}**{' (unsure)' if confidence < FLOOR and not rejected else ''}. "
        f"Along the way, {flips_text(label_path(judge, engine, epoch, ends))}.",
        f"Start: {start} of {CANDIDATES} latents from the seed (p({digit_a}) = {percent(ends.p_a)}); "
        f"end: {end} (p({digit_b}) = {percent(ends.p_b)}).",
        missing_text(digit_a, ends.found_a, ends.p_a, epoch),
    ]
    if digit_b != digit_a or ends.found_a:
        lines.append(missing_text(digit_b, ends.found_b, ends.p_b, epoch))
    return engine.grid(epoch, latent, 1, 1), "\n\n".join(line for line in lines if line)


# ---- steering toward a digit -----------------------------------------------------------------


def steer(
    judge: Judge, generator: torch.nn.Module, latents: torch.Tensor, digit: int, strength: float,
    steps: int = STEER_STEPS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Classifier guidance in latent space: gradient ascent on log p(digit | G(z)) for each z.

    Each step moves z by at most strength / steps along the gradient's part tangent to the sphere, then puts z
    back on its own sphere (||z|| unchanged, so z stays where Gaussian latents live). A step that lowers
    p(digit) is undone, so p(digit) never falls, and that z's next step is made 8 times shorter, after a
    second rejection 64 times: log p is rough along the gradient (for a sure sample it can rise at a step of
    0.001 and fall at 0.01), and halving found no rise in three steps for a third of such z. Returns (steered
    latents, class probabilities (N, 10) before, and after), each row on its own.
    """
    radius = latents.norm(dim=1, keepdim=True)  # (N, 1)
    step = torch.full_like(radius, strength / steps)
    failures = torch.zeros_like(radius)  # rejected steps so far: each shrinks the next one more
    current = latents.clone()
    log_probs, gradient = judge.log_probs_and_gradient(generator, current, digit)
    start = log_probs.exp()
    for index in range(steps):
        tangent = gradient - (gradient * current).sum(dim=1, keepdim=True) * current / radius**2
        moved = current + step * tangent / tangent.norm(dim=1, keepdim=True).clamp_min(1e-12)
        moved = moved * radius / moved.norm(dim=1, keepdim=True)
        if index < steps - 1:
            new_log_probs, new_gradient = judge.log_probs_and_gradient(generator, moved, digit)
        else:  # the last step needs no gradient
            with torch.inference_mode():
                new_log_probs, new_gradient = judge.model(generator(moved)).log_softmax(dim=1), gradient
        better = (new_log_probs[:, digit] >= log_probs[:, digit])[:, None]  # (N, 1)
        current = torch.where(better, moved, current)
        gradient = torch.where(better, new_gradient, gradient)
        log_probs = torch.where(better, new_log_probs, log_probs)
        failures = torch.where(better, failures, failures + 1)
        step = torch.where(better, step, step / STEER_SHRINK**failures)
    return current, start, log_probs.exp()


def steer_pictures(
    judge: Judge, engine: Engine, epoch: int, latents: torch.Tensor, size: int, digit: int, strength: float,
    labels: bool,
) -> tuple[Image.Image, Image.Image, str]:  # fmt: skip
    """The seed's latents steered toward `digit`: (the top-left digit, the n x n grid, a caption with the top-left
    digit's label and p(digit) before and after, and how many of the grid the judge now labels `digit`)."""
    check_side(engine)
    generator = engine.run.generators[epoch]
    steered, before, after = steer(judge, generator, latents, digit, strength)
    with torch.inference_mode():
        images_before, images_after = generator(latents), generator(steered)
    accepted_before, accepted_after = judge.verdict(images_before)[1], judge.verdict(images_after)[1]
    if labels:
        grid = labelled_picture(
            Labelled(steered, to_uint8(images_after, engine.side), after, accepted_after), size, size
        )
    else:
        grid = engine.grid(epoch, steered, size, size)
    first_before = label_text(int(before[0].argmax()), float(before[0].max()), not bool(accepted_before[0]))
    first_after = label_text(int(after[0].argmax()), float(after[0].max()), not bool(accepted_after[0]))
    was, now = before[:, digit], after[:, digit]
    count_before = int(((before.argmax(dim=1) == digit) & accepted_before).sum())
    count_after = int(((after.argmax(dim=1) == digit) & accepted_after).sum())
    first_was, first_now = small_probability(float(was[0])), small_probability(float(now[0]))
    caption = (
        f"Towards **{digit}** with strength {strength:g}, epoch {epoch}: the digit went from **{first_before}** to "
        f"**{first_after}**, p({digit}) from {first_was} to {first_now}. Over the {size}x{size} grid, p({digit}) "
        f"averages {float(was.mean()):.0%} before and {float(now.mean()):.0%} after; accepted as a {digit}: "
        f"{count_before} before, {count_after} after."
    )
    if not bool(accepted_after.any()):
        caption += (
            f" The judge takes none of them for a digit: a higher p({digit}) on a picture that is not a digit means "
            "nothing (the classifier must name some digit, even for noise)."
        )
    return engine.grid(epoch, steered[:1], 1, 1), grid, caption


# ---- what an epoch can draw -----------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    image: Image.Image
    shares: list[float]  # share of the N samples that are accepted digits labelled each digit
    counts: list[int]  # how many samples each column shows
    not_a_digit: float  # share of the N samples the judge rejects
    samples: int  # N


def column_order(samples: Labelled, digit: int, rows: int) -> list[int]:
    """Indices of the accepted samples labelled `digit` with at least FLOOR, surest first, at most `rows`."""
    probs = samples.probs
    mine = ((probs.argmax(dim=1) == digit) & (probs[:, digit] >= FLOOR) & samples.accepted).nonzero()[:, 0]
    order = probs[mine, digit].argsort(descending=True, stable=True)
    return mine[order][:rows].tolist()


def digit_sheet(judge: Judge, engine: Engine, epoch: int, seed: int, rows: int) -> Sheet:
    """Ten columns, one per digit: the surest samples of each digit among the seed's SHEET_SAMPLES latents,
    the digit and its share on top; an empty column says 'not drawn yet'."""
    samples = pool(judge, engine, epoch, seed, SHEET_SAMPLES)
    side = engine.side
    shares = samples.histogram()
    columns = [column_order(samples, digit, rows) for digit in range(10)]
    header = round(side * 1.2)  # in tile pixels: the digit and its share, large enough to read on a phone
    sheet = np.zeros((header + rows * (side + PAD) + PAD, grid_side(10, side)), np.uint8)
    for digit, indices in enumerate(columns):
        left = PAD + digit * (side + PAD)
        for row, index in enumerate(indices):
            top = header + PAD + row * (side + PAD)
            sheet[top : top + side, left : left + side] = samples.tiles[index]
    scale = display_scale(sheet.shape[1])
    image = upscale(sheet, scale)
    draw = ImageDraw.Draw(image)
    cell = (side + PAD) * scale
    texts = [share_text(share) for share in shares]
    big = fitted_font(["8"], cell, header * scale * 0.5)
    small = fitted_font(texts, cell - 4, header * scale * 0.45)
    empty = fitted_font([NOT_DRAWN], (rows * (side + PAD) - PAD) * scale - 8, cell * 0.6)  # written downwards
    for digit, indices in enumerate(columns):
        x = (PAD + digit * (side + PAD) + side / 2) * scale
        grey = 255 if indices else LOW_GREY
        draw.text((x, header * scale * 0.27), str(digit), fill=grey, font=big, anchor="mm")
        draw.text((x, header * scale * 0.72), texts[digit], fill=grey, font=small, anchor="mm")
        if not indices:
            label = vertical_text(NOT_DRAWN, empty)
            image.paste(label, (round(x - label.width / 2), (header + PAD) * scale + 4))
    rejected = float((~samples.accepted).double().mean())
    return Sheet(image, shares, [len(c) for c in columns], rejected, len(samples.digits))


def vertical_text(text: str, font: ImageFont.ImageFont) -> Image.Image:
    """Grey text on black, turned to read from top to bottom (fits a narrow column)."""
    width, height = math.ceil(font.getlength(text)) + 4, math.ceil(font.size * 1.3)
    label = Image.new("L", (width, height), 0)
    ImageDraw.Draw(label).text((width / 2, height / 2), text, fill=LOW_GREY, font=font, anchor="mm")
    return label.rotate(270, expand=True)


def share_text(share: float) -> str:
    """'25%', '1.6%', '0%': one decimal under 10%, so a rare digit does not read as 2%."""
    return "0%" if share == 0 else f"{share:.0%}" if share >= 0.095 else f"{share:.1%}"


def sheet_caption(sheet: Sheet, epoch: int, seed: int) -> str:
    """Which digits the epoch draws (gan.metrics' rule), most common first, how many samples are not a digit,
    and which digits have no sample at all yet."""
    drawn = sorted(digits_drawn(sheet.shares), key=lambda d: -sheet.shares[d])
    missing = [d for d in range(10) if not sheet.counts[d]]
    text = (
        f"Epoch {epoch}, seed {seed}: of N = {sheet.samples} samples, {share_text(sheet.not_a_digit)} are not a "
        f"digit; **{len(drawn)} of 10 digits drawn** (each at least {DIGIT_SHARE:.0%} of N)"
        + (": " + ", ".join(f"{d} ({share_text(sheet.shares[d])})" for d in drawn) if drawn else "")
        + "."
    )
    if missing:
        text += (
            f" Not drawn yet (no sample accepted as a digit and labelled with at least {FLOOR:.0%}): "
            f"{', '.join(map(str, missing))}."
        )
    return text
