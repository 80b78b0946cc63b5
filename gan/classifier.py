"""A small CNN that judges generated digits: its labels and penultimate features feed FID and IS, and it
may say "not a digit".

python -m gan.classifier --data-dir ../shared/data --out weights/classifier
python -m gan.classifier --data-dir ../shared/data --out weights/classifier --judge-only   # refit the rejection

The rejection. A softmax always names a digit, even for noise (pure noise reads "8" at 100%), and the
penultimate features alone do not help: noise and the first epochs' blobs land close to the real 8s there. What
does tell them apart is how the inside of the network responds: three summaries of a picture (the second and the
third convolution block, each as its channels' mean and root-mean-square, and the 128 penultimate features) are
compared with the real digits of the predicted class, each as a Mahalanobis distance (class means and one shared
covariance per summary, fitted on MNIST train images 10,000-59,999). A picture is "not a digit" when any of the
three lies further out than nearly all real digits do: each distance is divided by its 99th percentile on the
held-out train images 0-9,999, the largest of the three is the picture's distance, and the threshold is that
distance's 99th percentile on the same held-out images. The MNIST test set (never seen by either) checks it.
"""

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file
from torch import nn
from tqdm import tqdm

from gan.data import load_mnist, normalise
from gan.errors import UsageError, run_cli
from gan.io import atomic_dir, atomic_write_bytes

WEIGHTS_FILE = "model.safetensors"
INFO_FILE = "info.json"
REJECTION_FILE = "rejection.safetensors"  # class means, precisions and thresholds of the "not a digit" test
HELD_OUT = 10_000  # MNIST train images 0-9,999 set the rejection's thresholds; the rest give its statistics
REAL_QUANTILE = 0.99  # a picture further out than this share of held-out real digits is "not a digit"
RIDGE = 1e-3  # added to each covariance's diagonal (times its mean variance) so its inverse stays tame
# The judge's view of real data, computed once and shipped beside its weights (python -m gan.evaluate
# --write-reference): the test set's feature mean and covariance (FID's reference) and class shares, and the
# real-vs-real floor (train images scored as if generated). Tied to the weights by their sha256.
REFERENCE_FILE = "reference.safetensors"
REFERENCE_TENSORS = ("mean", "cov", "histogram")
REPOSITORY = Path(__file__).resolve().parents[1]  # a relative classifier path is also looked up here


class DigitClassifier(nn.Module):
    """Flattened images (B, 784) in [-1, 1] -> logits (B, 10); `features` gives the (B, 128) penultimate layer."""

    feature_dim = 128

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 3, 3)
        )  # fmt: skip
        self.hidden = nn.Linear(64 * 3 * 3, self.feature_dim)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.feature_dim, 10)
        self.rejection: Rejection | None = None  # the "not a digit" test; load_classifier sets it

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.conv(images.reshape(-1, 1, 28, 28))
        return F.relu(self.hidden(x.flatten(1)))  # (B, 128)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(images)))  # (B, 10)

    def summaries(self, images: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """What the rejection compares, ([(B, 64), (B, 128), (B, 128)], features (B, 128)): the second and
        third convolution blocks as their channels' mean and root-mean-square, and the penultimate features."""
        block1 = self.conv[:3](images.reshape(-1, 1, 28, 28))  # (B, 16, 14, 14)
        block2 = self.conv[3:6](block1)  # (B, 32, 7, 7)
        block3 = self.conv[6:](block2)  # (B, 64, 3, 3)
        features = F.relu(self.hidden(block3.flatten(1)))  # (B, 128)
        return [channel_stats(block2), channel_stats(block3), features], features


def channel_stats(maps: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 2C): each channel's mean and root-mean-square over the picture."""
    return torch.cat([maps.mean(dim=(2, 3)), maps.square().mean(dim=(2, 3)).sqrt()], dim=1)


class Rejection:
    """The "not a digit" test (see the module docstring): per summary, the ten class means (10, D) and the
    shared precision (D, D); the per-summary scales (S,) and the threshold on the largest scaled distance.
    Plain tensors, not a module: the classifier's state_dict (and model.safetensors) stays as it was."""

    DIMS = (64, 128, 128)  # the sizes of DigitClassifier.summaries

    def __init__(self, tensors: dict[str, torch.Tensor] | None = None):
        tensors = tensors or {}
        self.means = [tensors.get(f"means_{i}", torch.zeros(10, d)) for i, d in enumerate(self.DIMS)]
        self.precisions = [tensors.get(f"precision_{i}", torch.eye(d)) for i, d in enumerate(self.DIMS)]
        self.scales = tensors.get("scales", torch.ones(len(self.DIMS)))
        self.threshold = tensors.get("threshold", torch.ones(()))
        shapes = [m.shape for m in self.means] + [p.shape for p in self.precisions] + [self.scales.shape]
        expected = [(10, d) for d in self.DIMS] + [(d, d) for d in self.DIMS] + [(len(self.DIMS),)]
        if [tuple(shape) for shape in shapes] != expected or self.threshold.numel() != 1:
            raise ValueError(f"rejection tensors of shapes {shapes}, expected {expected}")

    def tensors(self) -> dict[str, torch.Tensor]:
        out = {f"means_{i}": m for i, m in enumerate(self.means)}
        out.update({f"precision_{i}": p for i, p in enumerate(self.precisions)})
        return {**out, "scales": self.scales, "threshold": self.threshold.reshape(())}

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> "Rejection":
        return Rejection({k: v.to(device, dtype) for k, v in self.tensors().items()})

    def distances(self, summaries: list[torch.Tensor], digits: torch.Tensor) -> torch.Tensor:
        """(B, S) Mahalanobis distances (squared) of each summary to the real digits of the predicted class."""
        out = []
        for summary, means, precision in zip(summaries, self.means, self.precisions, strict=True):
            offset = summary.to(precision.dtype) - means[digits]  # (B, D)
            out.append(((offset @ precision) * offset).sum(dim=1))
        return torch.stack(out, dim=1)

    def distance(self, summaries: list[torch.Tensor], digits: torch.Tensor) -> torch.Tensor:
        """(B,) the largest scaled distance over the threshold: above 1.0 the picture is not a digit."""
        return (self.distances(summaries, digits) / self.scales).amax(dim=1) / self.threshold


def save_classifier(model: DigitClassifier, folder: str | Path, info: dict, rejection: Rejection) -> None:
    """Write model.safetensors, rejection.safetensors and info.json into `folder`, atomically as a whole."""
    with atomic_dir(folder) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp / WEIGHTS_FILE)
        save_file({k: v.float().contiguous() for k, v in rejection.tensors().items()}, tmp / REJECTION_FILE)
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")


@torch.no_grad()
def fit_rejection(
    model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor, held_images: torch.Tensor, batch: int = 500
) -> Rejection:
    """The rejection's statistics from real digits `images` (their true labels), its scales and threshold from
    other real digits `held_images` (so that REAL_QUANTILE of them pass). Images flattened in [-1, 1]."""
    parts = [model.summaries(chunk)[0] for chunk in images.split(batch)]
    summaries = [torch.cat(column).double() for column in zip(*parts, strict=True)]
    tensors = {}
    for index, summary in enumerate(summaries):
        means = torch.stack([summary[labels == digit].mean(dim=0) for digit in range(10)])  # (10, D)
        offset = summary - means[labels]
        covariance = offset.T @ offset / len(offset)
        covariance += RIDGE * covariance.diagonal().mean() * torch.eye(len(covariance), dtype=covariance.dtype)
        tensors[f"means_{index}"], tensors[f"precision_{index}"] = means, torch.linalg.inv(covariance)
    rejection = Rejection(tensors).to("cpu")  # float32, as it is saved and used
    distances = []
    for chunk in held_images.split(batch):
        held, features = model.summaries(chunk)
        distances.append(rejection.distances(held, model.head(features).argmax(dim=1)))
    distances = torch.cat(distances).double()  # (N, S)
    scales = distances.quantile(REAL_QUANTILE, dim=0)
    threshold = (distances / scales).amax(dim=1).quantile(REAL_QUANTILE)
    return Rejection({**rejection.tensors(), "scales": scales, "threshold": threshold}).to("cpu")


def resolve_classifier(folder: str | Path) -> Path:
    """`folder`, or, when it is relative and holds no classifier from here, the same path in the
    repository beside the package (so the default weights/classifier works from any directory)."""
    folder = Path(folder)
    if (folder / WEIGHTS_FILE).is_file() or folder.is_absolute():
        return folder
    beside = REPOSITORY / folder
    return beside if (beside / WEIGHTS_FILE).is_file() else folder


def weights_digest(folder: str | Path) -> str:
    """sha256 of the classifier's weights file: what shipped reference statistics belong to."""
    return hashlib.sha256((resolve_classifier(folder) / WEIGHTS_FILE).read_bytes()).hexdigest()


def save_reference(folder: str | Path, tensors: dict[str, torch.Tensor], info: dict) -> Path:
    """Write REFERENCE_FILE into the classifier's folder (atomically): `tensors` (mean, cov, histogram) and `info`
    (JSON: image counts, the floor record), stamped with the weights' digest."""
    folder = resolve_classifier(folder)
    path = folder / REFERENCE_FILE
    metadata = {"info": json.dumps(info), "weights_sha256": weights_digest(folder)}
    data = {name: tensors[name].double().contiguous() for name in REFERENCE_TENSORS}
    atomic_write_bytes(path, save(data, metadata=metadata))
    return path


def load_reference(folder: str | Path) -> tuple[dict[str, torch.Tensor], dict] | None:
    """The shipped reference statistics (tensors, info) of the classifier in `folder`; None when there are none or
    they belong to other weights (a retrained classifier), so the caller computes them from the images."""
    folder = resolve_classifier(folder)
    path = folder / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in REFERENCE_TENSORS}
        info = json.loads(metadata["info"])
    except Exception as err:
        raise UsageError(f"{path} is not a reference-statistics file ({type(err).__name__}); delete it") from None
    if metadata.get("weights_sha256") != weights_digest(folder):
        return None
    return tensors, info


def load_classifier(folder: str | Path, device: torch.device | str = "cpu") -> DigitClassifier:
    """The classifier in `folder` with its rejection as `model.rejection` (both are needed: a judge that cannot
    say "not a digit" would count noise as digits)."""
    folder = resolve_classifier(folder)
    path, rejection_path = folder / WEIGHTS_FILE, folder / REJECTION_FILE
    if not path.is_file():
        raise UsageError(f"no classifier at {path}; train one with python -m gan.classifier")
    if not rejection_path.is_file():
        raise UsageError(
            f"no {REJECTION_FILE} beside {path}; fit it with python -m gan.classifier --out {folder} --judge-only"
        )
    model = DigitClassifier()
    try:
        model.load_state_dict(load_file(path))
    except Exception as err:
        raise UsageError(f"{path} is not a DigitClassifier ({type(err).__name__})") from None
    try:
        rejection = Rejection(load_file(rejection_path))
    except Exception as err:
        raise UsageError(f"{rejection_path} does not fit this classifier ({type(err).__name__})") from None
    # NHWC weights take oneDNN's faster convolutions on CPU: half the time of NCHW for scoring here.
    model = model.to(device, memory_format=torch.channels_last).eval()
    model.rejection = rejection.to(device)
    return model


@torch.no_grad()
def predict(model: DigitClassifier, images: torch.Tensor, batch: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 128) and class probabilities (N, 10) for flattened images in [-1, 1]. Chunks of 400
    keep the activations in cache (2000 at once took twice as long)."""
    features, probs = [], []
    for chunk in images.split(batch):
        feats = model.features(chunk)
        features.append(feats)
        probs.append(model.head(feats).softmax(dim=1))
    return torch.cat(features), torch.cat(probs)


@torch.no_grad()
def judge(
    model: DigitClassifier, images: torch.Tensor, batch: int = 400
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Features (N, 128), class probabilities (N, 10) and the rejection's distance (N,) for flattened images
    in [-1, 1]: a distance above 1 means "not a digit". Needs a classifier from load_classifier."""
    features, probs, distances = [], [], []
    for chunk in images.split(batch):
        summaries, feats = model.summaries(chunk)
        chunk_probs = model.head(feats).softmax(dim=1)
        features.append(feats)
        probs.append(chunk_probs)
        distances.append(model.rejection.distance(summaries, chunk_probs.argmax(dim=1)))
    return torch.cat(features), torch.cat(probs), torch.cat(distances)


def is_digit(distance: torch.Tensor) -> torch.Tensor:
    """True where the rejection accepts the picture as a digit."""
    return distance <= 1.0


def random_shift(images: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Shift each 28x28 image by up to `max_shift` pixels (background -1 fills the gap)."""
    batch = images.reshape(-1, 1, 28, 28)
    padded = F.pad(batch, [max_shift] * 4, value=-1.0)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2,)).tolist()
    return padded[:, :, dy : dy + 28, dx : dx + 28].reshape(len(images), -1)


def train_classifier(
    train_images: torch.Tensor, train_labels: torch.Tensor, epochs: int = 4, batch_size: int = 128, lr: float = 2e-3,
    seed: int = 0, steps: int = 0, progress: bool = True,
) -> DigitClassifier:  # fmt: skip
    """Adam with a one-cycle schedule and small random shifts; deterministic for a seed on CPU."""
    torch.manual_seed(seed)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = len(train_images) // batch_size
    total = steps or epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    model.train()
    bar = tqdm(total=total, desc="classifier", disable=not progress, file=sys.stderr)
    step = 0
    while step < total:
        order = torch.randperm(len(train_images))
        for start in range(0, steps_per_epoch * batch_size, batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(random_shift(train_images[index])), train_labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            bar.update()
            if step == total:
                break
    bar.close()
    return model.eval()


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    _, probs = predict(model, images)
    return float((probs.argmax(dim=1) == labels).double().mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan.classifier", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data", help="holds MNIST/raw/*-ubyte (default: data)")
    parser.add_argument("--out", default="weights/classifier", help="folder for model.safetensors + info.json")
    parser.add_argument("--epochs", type=int, default=4, help="passes over MNIST train (default: 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (default: 0)")
    parser.add_argument(
        "--judge-only",
        action="store_true",
        help=f"keep the classifier in --out and refit only its rejection ({REJECTION_FILE})",
    )
    args = parser.parse_args(argv)
    if args.epochs <= 0:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    train_images, train_labels = load_mnist(args.data_dir, train=True)
    test_images, test_labels = load_mnist(args.data_dir, train=False)
    if args.judge_only:
        model = DigitClassifier()
        try:
            model.load_state_dict(load_file(out / WEIGHTS_FILE))
        except Exception as err:
            raise UsageError(f"no classifier to keep in {out} ({type(err).__name__})") from None
        model.eval()
        info = json.loads((out / INFO_FILE).read_text()) if (out / INFO_FILE).is_file() else {}
        seconds = 0.0
    else:
        start = time.perf_counter()
        model = train_classifier(normalise(train_images), train_labels, epochs=args.epochs, seed=args.seed)
        seconds = time.perf_counter() - start
        info = {"epochs": args.epochs, "seed": args.seed, "train_seconds": round(seconds, 1)}
    test_accuracy = accuracy(model, normalise(test_images), test_labels)
    rejection = fit_rejection(
        model, normalise(train_images[HELD_OUT:]), train_labels[HELD_OUT:], normalise(train_images[:HELD_OUT])
    )
    model.rejection = rejection
    _, _, distance = judge(model, normalise(test_images))
    test_accepted = float(is_digit(distance).double().mean())
    info.update(test_accuracy=round(test_accuracy, 4), test_accepted_as_digits=round(test_accepted, 4))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_classifier(model, out, info, rejection)
    print(
        f"test accuracy {test_accuracy:.2%}, test digits accepted {test_accepted:.2%}"
        + (f" after {args.epochs} epochs ({seconds:.0f} s)" if not args.judge_only else "")
        + f"; saved to {out}"
    )
    from gan.evaluate import FLOOR_IMAGES, Evaluator  # (gan.evaluate imports this module)

    evaluator = Evaluator(out, test_images, test_labels)
    floor = evaluator.floor(train_images[:FLOOR_IMAGES])
    reference = {"reference_images": evaluator.reference_count, "floor_images": floor["eval_samples"], "floor": floor}
    # the new weights' view of real data, shipped with them
    save_reference(out, evaluator.reference_tensors(), reference)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
