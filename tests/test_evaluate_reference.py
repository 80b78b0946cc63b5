"""The judge's real-data statistics: shipped beside its weights, loaded instead of recomputed, and checked by
`python -m gan.evaluate --recompute-reference` against the data they came from."""

import os
import shutil
from pathlib import Path

import pytest
import torch

from gan.classifier import REFERENCE_FILE, fit_rejection, load_reference, save_classifier, train_classifier
from gan.data import fake_digits, load_mnist, normalise, write_fake_mnist
from gan.errors import run_cli
from gan.evaluate import FLOOR_IMAGES, Evaluator, main
from gan.models import Generator

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "weights" / "classifier"
MNIST = Path(os.environ.get("MNIST_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="module")
def judge(tmp_path_factory) -> tuple[Path, Path]:
    """A small classifier trained for a few steps on generated digits, and a generated MNIST folder."""
    root = tmp_path_factory.mktemp("judge")
    data = root / "data"
    write_fake_mnist(data, train_count=300, test_count=120)
    images, labels = fake_digits(300)
    model = train_classifier(normalise(images), labels, steps=5, batch_size=32, progress=False)
    data_images = normalise(images)
    rejection = fit_rejection(model, data_images[:200], labels[:200], data_images[200:])
    save_classifier(model, root / "classifier", {"steps": 5}, rejection)
    return root / "classifier", data


def evaluate(*argv: str) -> int:
    return run_cli(lambda: main(list(argv)))


def test_written_statistics_are_loaded_instead_of_recomputed(judge, capsys):
    classifier, data = judge
    assert load_reference(classifier) is None  # none yet: the trainer computes them itself
    with pytest.raises(Exception, match="has no reference statistics of its own"):
        Evaluator(classifier)
    assert evaluate("--write-reference", "--classifier", str(classifier), "--data-dir", str(data)) == 0
    assert (classifier / REFERENCE_FILE).is_file()
    test_images, test_labels = load_mnist(data, train=False)
    computed = Evaluator(classifier, test_images, test_labels)
    loaded = Evaluator(classifier)  # no images: the shipped statistics
    for name, tensor in computed.reference_tensors().items():
        assert torch.equal(loaded.reference_tensors()[name], tensor.double()), name
    train_images, _ = load_mnist(data, train=True)
    assert loaded.shipped_floor == computed.floor(train_images[:FLOOR_IMAGES])
    generator = Generator()
    assert loaded.evaluate(generator, 200) | {"eval_seconds": 0} == computed.evaluate(generator, 200) | {
        "eval_seconds": 0
    }
    assert evaluate("--recompute-reference", "--classifier", str(classifier), "--data-dir", str(data)) == 0
    assert "match" in capsys.readouterr().err


def test_recompute_reference_finds_statistics_that_do_not_match(judge, tmp_path, capsys):
    classifier, data = judge
    other = tmp_path / "other-data"
    write_fake_mnist(other, train_count=300, test_count=120, seed=5)  # other digits than the ones written
    assert evaluate("--write-reference", "--classifier", str(classifier), "--data-dir", str(data)) == 0
    capsys.readouterr()
    assert evaluate("--recompute-reference", "--classifier", str(classifier), "--data-dir", str(other)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: the reference statistics shipped in {classifier} do not match") and "mean" in err
    assert len(err.splitlines()) == 1 and "--write-reference" in err


def test_statistics_of_other_weights_are_not_used(judge, tmp_path):
    classifier, data = judge
    assert evaluate("--write-reference", "--classifier", str(classifier), "--data-dir", str(data)) == 0
    retrained = tmp_path / "retrained"
    shutil.copytree(classifier, retrained)
    images, labels = fake_digits(100, seed=3)
    model = train_classifier(normalise(images), labels, steps=2, batch_size=32, progress=False)
    rejection = fit_rejection(model, normalise(images)[:70], labels[:70], normalise(images)[70:])
    save_classifier(model, retrained, {}, rejection)
    shutil.copy(classifier / REFERENCE_FILE, retrained / REFERENCE_FILE)
    assert load_reference(classifier) is not None and load_reference(retrained) is None


@pytest.mark.slow
@pytest.mark.skipif(not (MNIST / "MNIST" / "raw").is_dir(), reason=f"needs MNIST in {MNIST}")
def test_the_shipped_statistics_match_mnist(capsys):
    """What ships in weights/classifier is what the shipped judge computes from MNIST (20,000 images scored)."""
    assert load_reference(SHIPPED) is not None  # shipped, and for these weights
    assert evaluate("--recompute-reference", "--classifier", str(SHIPPED), "--data-dir", str(MNIST)) == 0
    assert f"the shipped reference statistics in {SHIPPED} match" in capsys.readouterr().err
