"""Quality measures: FID, Inception Score, class balance, Parzen; the judge classifier; per-epoch records."""

import json
import math

import numpy as np
import pytest
import torch
from conftest import tiny_train

from gan.classifier import (
    REJECTION_FILE,
    DigitClassifier,
    accuracy,
    fit_rejection,
    is_digit,
    judge,
    load_classifier,
    predict,
    save_classifier,
    train_classifier,
)
from gan.data import fake_digits, normalise
from gan.errors import UsageError
from gan.metrics import (
    DIGIT_SHARE,
    choose_parzen_sigma,
    class_histogram,
    digits_drawn,
    drawn_histogram,
    feature_stats,
    fid_from_features,
    frechet_distance,
    inception_score,
    kl_divergence,
    parzen_log_likelihood,
)


def save_tiny_judge(folder, steps: int = 30) -> DigitClassifier:
    """A classifier trained briefly on fake digits, with its rejection fitted on 300 and set on 100 of them."""
    images, labels = fake_digits(400, seed=0)
    data = normalise(images)
    model = train_classifier(data, labels, batch_size=50, steps=steps, progress=False)
    save_classifier(model, folder, {}, fit_rejection(model, data[:300], labels[:300], data[300:]))
    return model


def numpy_frechet(mu1, cov1, mu2, cov2) -> float:
    """The textbook formula with a general (complex) matrix square root via eig."""
    values, vectors = np.linalg.eig(cov1 @ cov2)
    root = (vectors * np.sqrt(values.astype(complex))) @ np.linalg.inv(vectors)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(root).real)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    features = torch.randn(2000, 16, generator=torch.Generator().manual_seed(0))
    assert fid_from_features(features, features) == pytest.approx(0, abs=1e-6)
    distances = [fid_from_features(features, features + shift) for shift in (0.1, 0.5, 1.0)]
    assert distances == sorted(distances) and distances[0] > 0
    assert distances[-1] == pytest.approx(16.0, rel=1e-6)  # a shift of 1 in each of 16 dims, same covariance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_matches_the_direct_formula(seed):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(50, 6, generator=generator, dtype=torch.float64)
    b = (
        torch.randn(40, 6, generator=generator, dtype=torch.float64)
        @ torch.randn(6, 6, generator=generator, dtype=torch.float64)
        + 0.3
    )
    (mu1, cov1), (mu2, cov2) = feature_stats(a), feature_stats(b)
    expected = numpy_frechet(mu1.numpy(), cov1.numpy(), mu2.numpy(), cov2.numpy())
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-8)


def test_inception_score_limits():
    uniform_one_hot = torch.eye(10).repeat(100, 1)  # every class equally often, each prediction certain
    assert inception_score(uniform_one_hot)[0] == pytest.approx(10.0, rel=1e-6)
    single_class = torch.zeros(1000, 10)
    single_class[:, 3] = 1
    assert inception_score(single_class)[0] == pytest.approx(1.0, rel=1e-6)
    unsure = torch.full((1000, 10), 0.1)
    assert inception_score(unsure)[0] == pytest.approx(1.0, rel=1e-6)


def test_class_histogram_and_kl():
    histogram = class_histogram(torch.tensor([0, 0, 1, 9]))
    assert histogram.tolist() == [0.5, 0.25] + [0.0] * 7 + [0.25]
    uniform = torch.full((10,), 0.1)
    assert kl_divergence(uniform, uniform) == pytest.approx(0.0, abs=1e-12)
    collapsed = torch.zeros(10)
    collapsed[4] = 1
    assert kl_divergence(collapsed, uniform) == pytest.approx(math.log(10), rel=1e-6)


def test_parzen_matches_a_direct_sum():
    generator = torch.Generator().manual_seed(0)
    samples, points, sigma = torch.rand(30, 5, generator=generator), torch.rand(7, 5, generator=generator), 0.3
    direct = []
    for x in points.double():
        densities = [
            torch.exp(-((x - s.double()) ** 2).sum() / (2 * sigma**2)) / (2 * math.pi * sigma**2) ** 2.5
            for s in samples
        ]
        direct.append(math.log(sum(float(d) for d in densities) / len(samples)))
    assert parzen_log_likelihood(samples, points, sigma, batch=3).tolist() == pytest.approx(direct, rel=1e-9)
    best, scores = choose_parzen_sigma(samples, samples[:10], torch.logspace(-1, 0, 10))
    assert best == pytest.approx(0.1) and scores == sorted(scores, reverse=True)  # points on samples: narrowest wins


@pytest.mark.slow
def test_classifier_trains_and_round_trips(tmp_path):
    images, labels = fake_digits(400, seed=0)
    data = normalise(images)
    before = accuracy(DigitClassifier().eval(), data, labels)
    model = train_classifier(data, labels, batch_size=50, steps=60, progress=False)
    assert accuracy(model, data, labels) > max(0.5, before + 0.2)
    again = train_classifier(data, labels, batch_size=50, steps=60, progress=False)
    assert all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True)
    )  # seeded
    save_classifier(model, tmp_path / "judge", {"test_accuracy": 0}, fit_rejection(model, data, labels, data))
    loaded = load_classifier(tmp_path / "judge")
    features, probs = predict(model, data[:20])
    features2, probs2 = predict(loaded, data[:20])
    assert features.shape == (20, DigitClassifier.feature_dim) and probs.shape == (20, 10)
    assert all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    # loaded in channels_last: another convolution kernel, so equal up to float rounding
    torch.testing.assert_close(features2, features, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(probs2, probs, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_tiny_run_records_the_quality_fields(tmp_path):
    save_tiny_judge(tmp_path / "judge")
    out = tiny_train(tmp_path / "run", 2, "--classifier", str(tmp_path / "judge"), "--eval-samples", "200")
    metrics = json.loads((out / "metrics.json").read_text())
    floor = metrics["reference"]
    assert floor["fid"] >= 0 and 1 <= floor["inception_score"] <= 10
    for record in metrics["epochs"]:
        assert record["eval_samples"] == 200 and record["eval_seconds"] > 0
        assert record["fid"] >= 0 and 1 <= record["inception_score"] <= 10
        assert len(record["class_histogram"]) == 10 and 0 <= record["not_a_digit"] <= 1
        assert sum(record["class_histogram"]) == pytest.approx(1 - record["not_a_digit"], abs=1e-3)
        assert record["digits_present"] == len(digits_drawn(record["class_histogram"])) and record["class_kl"] >= 0
    assert 0 <= floor["not_a_digit"] <= 1


@pytest.mark.slow
def test_evaluate_cli_prints_a_table_with_parzen(tmp_path, tiny_weights, capsys):
    from gan.data import write_fake_mnist
    from gan.errors import run_cli
    from gan.evaluate import main

    write_fake_mnist(tmp_path / "data", train_count=1200, test_count=200)
    save_tiny_judge(tmp_path / "judge", steps=20)
    args = [
        str(tiny_weights),
        "--classifier",
        str(tmp_path / "judge"),
        "--data-dir",
        str(tmp_path / "data"),
        "--samples",
        "300",
    ]
    assert (
        run_cli(lambda: main([*args, "--epochs", "1", "3", "--parzen", "--json", str(tmp_path / "scores.json")])) == 0
    )
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("epoch | fid | inception_score") and "parzen" in table[0]
    assert [line.split(" | ")[0] for line in table[1:]] == ["real", "1", "3"]
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert [row["epoch"] for row in scores["epochs"]] == [1, 3] and math.isfinite(scores["epochs"][0]["parzen"])
    assert run_cli(lambda: main([*args, "--epochs", "3", "--raw-checkpoint"])) == 0
    assert [line.split(" | ")[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["real", "3", "raw 3"]
    assert run_cli(lambda: main([*args, "--epochs", "7"])) == 2
    assert "epoch(s) 7 not in" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_seed_chooses_the_scored_latents(tmp_path, tiny_weights, capsys):
    """--seed N scores other samples of the same Generator; the default is the fixed EVAL_SEED."""
    from gan.data import write_fake_mnist
    from gan.errors import run_cli
    from gan.evaluate import EVAL_SEED, main

    write_fake_mnist(tmp_path / "data", train_count=300, test_count=200)
    save_tiny_judge(tmp_path / "judge", steps=20)
    args = [str(tiny_weights), "--classifier", str(tmp_path / "judge"), "--data-dir", str(tmp_path / "data")]
    args += ["--samples", "200", "--epochs", "3"]
    rows = {}
    for seed in (None, EVAL_SEED, 1):
        out = tmp_path / f"seed-{seed}.json"
        argv = [*args, "--json", str(out), *(["--seed", str(seed)] if seed else [])]
        assert run_cli(lambda argv=argv: main(argv)) == 0
        document = json.loads(out.read_text())
        assert document["latent_seed"] == (seed or EVAL_SEED)
        rows[seed] = {k: v for k, v in document["epochs"][0].items() if k != "eval_seconds"}
    capsys.readouterr()
    assert rows[None] == rows[EVAL_SEED]
    assert rows[1]["fid"] != rows[EVAL_SEED]["fid"]


def test_drawn_histogram_counts_accepted_samples_of_all_n():
    labels = torch.tensor([3] * 6 + [5] * 3 + [7])
    accepted = torch.tensor([True] * 5 + [False] + [True] * 2 + [False, True])
    histogram = drawn_histogram(labels, accepted)
    assert histogram.tolist() == pytest.approx([0, 0, 0, 0.5, 0, 0.2, 0, 0.1, 0, 0])  # shares of all 10
    assert digits_drawn(histogram) == [3, 5, 7]
    assert digits_drawn([DIGIT_SHARE] * 10) == list(range(10)) and digits_drawn([DIGIT_SHARE / 2] * 10) == []
    assert drawn_histogram(labels, torch.zeros(10, dtype=torch.bool)).sum() == 0  # nothing accepted: no digit


def test_rejection_sets_its_threshold_on_held_out_digits_and_refuses_noise(tmp_path):
    """On held-out real digits the rejection passes about REAL_QUANTILE of them (that is how its threshold is
    set); pure noise, which the softmax still names with confidence, is rejected; saved and loaded, it says the
    same; a classifier without its rejection file is refused with the command that fits one."""
    images, labels = fake_digits(1200, seed=3)
    data = normalise(images)
    model = train_classifier(data[:800], labels[:800], batch_size=50, steps=80, progress=False)
    rejection = fit_rejection(model, data[:800], labels[:800], data[800:])
    model.rejection = rejection
    _, _, held = judge(model, data[800:])
    assert 0.97 <= float(is_digit(held).double().mean()) <= 1.0
    noise = torch.rand(300, 784, generator=torch.Generator().manual_seed(0)) * 2 - 1
    _, probs, distance = judge(model, noise)
    assert float(is_digit(distance).double().mean()) <= 0.05 and float(probs.max(dim=1).values.mean()) > 0.3
    save_classifier(model, tmp_path / "judge", {}, rejection)
    loaded = load_classifier(tmp_path / "judge")
    torch.testing.assert_close(judge(loaded, noise)[2], distance, rtol=1e-4, atol=1e-4)
    (tmp_path / "judge" / REJECTION_FILE).unlink()
    with pytest.raises(UsageError, match="--judge-only"):
        load_classifier(tmp_path / "judge")
