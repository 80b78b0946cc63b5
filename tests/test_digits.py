"""Digits by name: labels, morph end points, where a label flips, steering toward a digit, the digit sheet.

These use the shipped runs and classifier (the tiny test runs draw no digits)."""

import gc
import math
import weakref
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from demo import digits
from demo.context import Context
from demo.engine import Engine, load_run
from demo.runs import Runs
from demo.tabs import digits as digits_tab
from demo.tabs import edit, generate, interpolate
from demo.ui import build_demo

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [name for name in ("tutorial", "stable") if (ROOT / "weights" / name / "epoch-200").is_dir()]
LAST = 200
SEED = 0  # the seed the app starts with
PAIRS = [(a, b) for a in range(10) for b in range(10) if a != b]


@pytest.fixture(scope="module")
def judge() -> digits.Judge:
    return digits.shared_judge()


@pytest.fixture(scope="module")
def engines() -> dict[str, Engine]:
    return {name: Engine(load_run(ROOT / "weights" / name)) for name in SHIPPED}


@pytest.fixture(scope="module")
def tutorial(engines) -> Engine:
    return engines["tutorial"]


def test_shipped_runs_are_there():
    assert "tutorial" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("seed", [SEED, 1, 2])
def test_morph_end_points_are_labelled_a_and_b_for_all_90_pairs(judge, engines, name, seed):
    """At epoch 200, for every ordered pair, the morph's images at t = 0 and t = 1 are labelled A and B with
    confidence >= 0.9: all 180 images go through the Generator and the classifier in one batch."""
    engine = engines[name]
    ends = [digits.endpoints(judge, engine, LAST, a, b, seed) for a, b in PAIRS]
    assert all(e.found_a and e.found_b for e in ends)
    latents = torch.cat([digits.morph_latents(e, [0.0, 1.0]) for e in ends])  # (180, latent_dim)
    probs = digits.label(judge, engine, LAST, latents).probs.reshape(len(PAIRS), 2, 10)
    wanted = torch.tensor(PAIRS)  # (90, 2): A at t = 0, B at t = 1
    confidence = probs.gather(2, wanted[:, :, None])[:, :, 0]
    assert torch.equal(probs.argmax(dim=2), wanted), "an end point is labelled another digit"
    worst = float(confidence.min())
    assert worst >= 0.9, f"{name}, seed {seed}: weakest end point has confidence {worst:.3f}"


def test_morph_end_points_are_deterministic_and_distinct(judge, tutorial):
    first = digits.endpoints(judge, tutorial, LAST, 3, 8, 7)
    again = digits.endpoints(judge, tutorial, LAST, 3, 8, 7)
    assert torch.equal(first.a, again.a) and torch.equal(first.b, again.b)
    other = digits.endpoints(judge, tutorial, LAST, 3, 8, 8)
    assert not torch.equal(first.a, other.a)
    same_digit = digits.endpoints(judge, tutorial, LAST, 3, 3, 7)  # A == B: the two surest 3s
    assert same_digit.found_a and same_digit.found_b and not torch.equal(same_digit.a, same_digit.b)
    ends = digits.morph_latents(first, [0.0, 0.5, 1.0])
    assert torch.allclose(ends[0], first.a[0], atol=1e-5) and torch.allclose(ends[2], first.b[0], atol=1e-5)
    assert abs(float(ends[1].norm()) - float(first.a.norm())) < 0.1 * float(first.a.norm())  # slerp keeps length


def test_label_path_says_where_the_label_flips(judge, tutorial):
    ends = digits.endpoints(judge, tutorial, LAST, 3, 8, SEED)
    runs = digits.label_path(judge, tutorial, LAST, ends)
    assert runs[0][0] == 3 and runs[-1][0] == 8 and runs[0][1] == 0.0 and runs[-1][2] == 1.0
    assert all(a[2] < b[1] for a, b in zip(runs, runs[1:], strict=False))  # runs follow each other along t
    text = digits.flips_text(runs)
    assert text.startswith("the label flips from 3 to") and "at t = 0." in text
    assert digits.flips_text([(4, 0.0, 1.0)]) == "the label stays 4"
    flips = digits.flips_text([(3, 0.0, 0.4), (5, 0.42, 0.5), (8, 0.52, 1.0)])
    assert flips == "the label flips from 3 to 5 at t = 0.41, then from 5 to 8 at t = 0.51"


def test_an_epoch_that_cannot_draw_a_digit_says_so(judge, tutorial):
    """Epoch 1 of the tutorial run draws speckled noise that the softmax calls "8" at once: the judge accepts
    none of it, so a morph from 8 to 2 has stand-ins at both ends and says so; at epoch 200 it finds both."""
    ends = digits.endpoints(judge, tutorial, 1, 8, 2, SEED)
    assert not ends.found_a and not ends.found_b and ends.p_a > 0.5  # the softmax is sure; the judge is not
    message = digits.missing_text(8, ends.found_a, ends.p_a, 1)
    assert message.startswith("Epoch 1 cannot draw a 8 from this seed: none of its 256 latents is accepted")
    late = digits.endpoints(judge, tutorial, LAST, 8, 2, SEED)
    assert late.found_a and late.found_b and digits.missing_text(8, late.found_a, late.p_a, LAST) == ""


def test_labels_say_not_a_digit_on_noise_and_name_digits_late(tutorial):
    latents = tutorial.latents(SEED, 9)
    _, early = digits.grid_picture(tutorial, 1, latents, 3, 3, True)
    assert early == "The classifier sees no digit: all 9 not a digit."
    samples = digits.label(digits.shared_judge(), tutorial, 1, latents)
    assert digits.labels_of(samples) == [digits.NOT_A_DIGIT] * 9 and sum(samples.histogram()) == 0
    late = digits.label(digits.shared_judge(), tutorial, LAST, tutorial.latents(SEED, 100))
    assert sum(late.rejected) <= 10 and math.isclose(sum(late.histogram()), 1 - sum(late.rejected) / 100)


def test_best_of_prefers_confident_samples_of_the_digit():
    probs = torch.tensor([[0.1, 0.9] + [0.0] * 8, [0.0, 0.95] + [0.05] + [0.0] * 7, [0.6, 0.4] + [0.0] * 8])
    assert digits.best_of(probs, 1, accepted=torch.tensor([True, False, True])) == (0, True)  # 1 is not a digit
    assert digits.best_of(probs, 1, accepted=torch.tensor([False, False, True])) == (1, False)
    assert digits.best_of(probs, 1) == (1, True)
    assert digits.best_of(probs, 1, skip=1) == (0, True)
    assert digits.best_of(probs, 0) == (2, True)
    assert digits.best_of(probs, 2) == (1, False)  # nobody is labelled 2: the highest p(2) stands in


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("epoch", [10, LAST])
def test_steer_raises_p_of_every_digit_from_a_fixed_seed(judge, engines, name, epoch):
    engine = engines[name]
    generator = engine.run.generators[engine.nearest_epoch(epoch)]
    latents = engine.latents(SEED, 25)
    for digit in range(10):
        steered, before_all, after_all = digits.steer(judge, generator, latents, digit, 3.0)
        before, after = before_all[:, digit], after_all[:, digit]
        assert bool((after >= before).all()), f"p({digit}) fell for some z"
        assert float(after.mean()) > float(before.mean()), f"p({digit}) did not rise over the grid"
        assert float(after[0]) > float(before[0]), f"p({digit}) did not rise for the top-left digit"
        # z stays on its own sphere and moves at most `strength`
        assert torch.allclose(steered.norm(dim=1), latents.norm(dim=1), rtol=1e-4)
        assert float((steered - latents).norm(dim=1).max()) <= 3.0 + 1e-4
        probs = judge.probabilities(generator(steered))
        assert torch.allclose(probs, after_all, atol=1e-4)  # `after` is what the judge says of the steered images


@pytest.mark.slow
def test_steer_is_deterministic_and_zero_strength_keeps_z(judge, tutorial):
    generator, latents = tutorial.run.generators[LAST], tutorial.latents(3, 4)
    one = digits.steer(judge, generator, latents, 5, 2.0)
    two = digits.steer(judge, generator, latents, 5, 2.0)
    assert all(torch.equal(a, b) for a, b in zip(one, two, strict=True))
    kept, before, after = digits.steer(judge, generator, latents, 5, 0.0)
    assert torch.allclose(kept, latents) and torch.allclose(before, after)


def test_digit_sheet_shows_collapse_early_and_all_digits_late(judge, tutorial):
    early = digits.digit_sheet(judge, tutorial, 1, SEED, 4)
    late = digits.digit_sheet(judge, tutorial, LAST, SEED, 4)
    assert early.not_a_digit >= 0.95 and late.not_a_digit <= 0.1  # epoch 1 is noise: the judge says so
    assert math.isclose(sum(early.shares), 1 - early.not_a_digit, abs_tol=1e-9)
    assert math.isclose(sum(late.shares), 1 - late.not_a_digit, abs_tol=1e-9)
    assert sum(c > 0 for c in early.counts) <= 1  # epoch 1 draws at most one digit
    assert all(c == 4 for c in late.counts)  # epoch 200 fills every column
    assert early.image.mode == "L" and early.image.size == late.image.size
    caption = digits.sheet_caption(early, 1, SEED)
    assert "Not drawn yet" in caption and "**0 of 10 digits drawn**" in caption and "of N = 500 samples" in caption
    assert "Not drawn yet" not in digits.sheet_caption(late, LAST, SEED)
    again = digits.digit_sheet(judge, tutorial, 1, SEED, 4)
    assert np.array_equal(np.asarray(early.image), np.asarray(again.image))


def test_labelled_grid_has_a_label_band_under_each_row(tutorial):
    latents = tutorial.latents(SEED, 9)
    image, sentence = digits.grid_picture(tutorial, LAST, latents, 3, 3, True)
    plain, nothing = digits.grid_picture(tutorial, LAST, latents, 3, 3, False)
    assert nothing == "" and np.array_equal(np.asarray(plain), np.asarray(tutorial.grid(LAST, latents, 3, 3)))
    assert image.mode == "L" and image.width == plain.width and image.height > plain.height
    assert sentence.startswith("The classifier sees ") and sentence.endswith(".")
    named, _, rejected = sentence[20:].rstrip(".").partition("; ")
    counts = [int(part.split(" x")[1].split()[0]) for part in named.split(", ")]
    assert sum(counts) + (int(rejected.split()[0]) if rejected else 0) == 9
    assert digits.label_text(7, 0.999) == "7 99%" and digits.label_text(2, 0.424) == "2 42%"
    assert digits.label_summary([1, 1, 7], [0.9, 0.3, 0.8]) == "1 x2, 7 x1 (1 unsure, in grey)"
    assert digits.label_summary([1, 1, 7], [0.9, 0.3, 0.8], [False, True, False]) == "1 x1, 7 x1; 1 not a digit"
    assert digits.label_text(8, 0.99, rejected=True) == "not a digit"


def test_small_probability():
    assert [digits.small_probability(p) for p in (0.125, 0.001, 3.2e-6)] == ["12.5%", "0.1%", "3.2e-06"]


def test_share_text():
    assert [digits.share_text(s) for s in (0.0, 0.016, 0.094, 0.25)] == ["0%", "1.6%", "9.4%", "25%"]


def test_missing_classifier_is_one_line_and_the_handler_says_so(tmp_path, tutorial, monkeypatch):
    with pytest.raises(digits.NoJudge) as caught:
        digits.shared_judge(str(tmp_path / "nowhere"))
    assert "\n" not in str(caught.value) and "classifier" in str(caught.value)
    monkeypatch.setenv("GAN_CLASSIFIER", str(tmp_path / "nowhere"))
    try:
        assert digits_tab.judge_note().startswith("The digit features")
        context = Context(Runs({"tutorial": tutorial}))
        with pytest.raises(gr.Error, match="need the project's classifier"):
            digits_tab.Handlers(context).digit_sheet("tutorial", LAST, 0, 3)
        with pytest.raises(gr.Error, match="need the project's classifier"):
            interpolate.Handlers(context).morph("tutorial", LAST, 3, 8, 0.5, 0)
        with pytest.raises(gr.Error, match="need the project's classifier"):
            edit.Handlers(context).steer("tutorial", LAST, 0, 2, 3, 1.0)
        image, stats = generate.Handlers(context).generate("tutorial", LAST, 0, 2, True)  # the grid, unlabelled
        assert image.size == tutorial.grid(LAST, tutorial.latents(0, 4), 2, 2).size and "need the project" in stats
        assert build_demo(context.runs) is not None  # the rest of the app builds
    finally:
        monkeypatch.delenv("GAN_CLASSIFIER")
    assert digits_tab.judge_note() == ""
    assert digits.shared_judge() is digits.shared_judge()  # loaded once


@pytest.fixture(scope="module")
def sheet_handlers(tutorial) -> digits_tab.Handlers:
    return digits_tab.Handlers(Context(Runs({"tutorial": tutorial})))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", LAST, 0, 3), "run must be one of"),
        (("tutorial", float("nan"), 0, 3), "epoch must be a whole number"),
        (("tutorial", LAST, -1, 3), "seed must be a whole number"),
        (("tutorial", LAST, 0, 11), "rows must be a whole number from 1 to 10"),
        (("tutorial", LAST, 0, float("nan")), "rows must be a whole number"),
        (("tutorial", LAST, 0, "3"), "rows must be a whole number"),
    ],
)
def test_digit_sheet_rejects_bad_input(sheet_handlers, args, message):
    with pytest.raises(gr.Error, match=message):
        sheet_handlers.digit_sheet(*args)


def test_digit_sheet_handler(sheet_handlers):
    image, caption = sheet_handlers.digit_sheet("tutorial", 2, 0, 3)  # epoch 2 is saved
    again, _ = sheet_handlers.digit_sheet("tutorial", 2, 0, 3)
    assert np.array_equal(np.asarray(image), np.asarray(again))
    assert caption.startswith("Epoch 2, seed 0: of N = 500 samples")


def test_pools_are_cached_per_engine_and_let_go_with_it(judge, tutorial):
    engine = Engine(tutorial.run)
    first = digits.pool(judge, engine, LAST, 4, 16)
    assert digits.pool(judge, engine, LAST, 4, 16) is first
    alive = weakref.ref(engine)
    del engine, first
    gc.collect()
    assert alive() is None  # the cache does not keep a dropped engine (and its Generators) in memory


@pytest.fixture(scope="module")
def context(tutorial) -> Context:
    return Context(Runs({"tutorial": tutorial}))


NAN = float("nan")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((LAST, 10, 8, 0.5, 0), "digit A must be a whole number from 0 to 9"),
        ((LAST, 3, -1, 0.5, 0), "digit B must be a whole number from 0 to 9"),
        ((LAST, NAN, 8, 0.5, 0), "digit A must be a whole number"),
        ((LAST, 3, 2.5, 0.5, 0), "digit B must be a whole number"),
        ((LAST, 3, 8, NAN, 0), "t must be a number from 0 to 1"),
        ((LAST, 3, 8, 1.01, 0), "t must be a number from 0 to 1"),
        ((LAST, 3, 8, 0.5, NAN), "seed must be a whole number"),
        ((NAN, 3, 8, 0.5, 0), "epoch must be a whole number"),
    ],
)
def test_morph_rejects_bad_input(context, args, message):
    handlers = interpolate.Handlers(context)
    with pytest.raises(gr.Error, match=message):
        handlers.morph("tutorial", *args)
    frames_args = (*args[:3], 4, args[4])  # the same values with a valid frame count
    if "t must" not in message:
        with pytest.raises(gr.Error, match=message):
            handlers.morph_strip("tutorial", *frames_args)


def test_morph_strip_rejects_bad_frames(context):
    for frames in (1, 31, NAN, "10"):
        with pytest.raises(gr.Error, match="frames must be a whole number from 2 to 30"):
            interpolate.Handlers(context).morph_strip("tutorial", LAST, 3, 8, frames, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 5, 10, 3.0, False), "digit must be a whole number from 0 to 9"),
        ((0, 5, NAN, 3.0, False), "digit must be a whole number"),
        ((0, 5, 3, NAN, False), "strength must be a number from 0 to 6"),
        ((0, 5, 3, -0.5, False), "strength must be a number from 0 to 6"),
        ((0, 5, 3, 6.5, False), "strength must be a number from 0 to 6"),
        ((0, 5, 3, float("inf"), False), "strength must be a number from 0 to 6"),
        ((0, 5, 3, 3.0, "true"), "labels must be true or false"),
        ((0, 11, 3, 3.0, False), "grid size must be a whole number from 1 to 10"),
    ],
)
def test_steer_rejects_bad_input(context, args, message):
    with pytest.raises(gr.Error, match=message):
        edit.Handlers(context).steer("tutorial", LAST, *args)


def test_morph_and_steer_handlers_are_deterministic(context):
    morph = interpolate.Handlers(context).morph
    image, caption = morph("tutorial", LAST, 3, 8, 0.3, 11)
    again, same = morph("tutorial", LAST, 3, 8, 0.3, 11)
    assert np.array_equal(np.asarray(image), np.asarray(again)) and caption == same
    assert "the label flips from 3 to" in caption or "the label stays" in caption
    steer = edit.Handlers(context).steer
    one = steer("tutorial", LAST, 4, 3, 7, 3.0, True)
    two = steer("tutorial", LAST, 4, 3, 7, 3.0, True)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(one[:2], two[:2], strict=True))
    assert one[2] == two[2] and one[2].startswith("Towards **7** with strength 3, epoch 200: the digit went from")
