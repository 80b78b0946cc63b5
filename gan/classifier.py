"""A small CNN that judges generated digits: its labels and penultimate features feed FID and IS.

python -m gan.classifier --data-dir ../shared/data --out weights/classifier
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

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.conv(images.reshape(-1, 1, 28, 28))
        return F.relu(self.hidden(x.flatten(1)))  # (B, 128)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(images)))  # (B, 10)


def save_classifier(model: DigitClassifier, folder: str | Path, info: dict) -> None:
    """Write model.safetensors and info.json into `folder`, atomically as a whole."""
    with atomic_dir(folder) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp / WEIGHTS_FILE)
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")


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
    path = resolve_classifier(folder) / WEIGHTS_FILE
    if not path.is_file():
        raise UsageError(f"no classifier at {path}; train one with python -m gan.classifier")
    model = DigitClassifier()
    try:
        model.load_state_dict(load_file(path))
    except Exception as err:
        raise UsageError(f"{path} is not a DigitClassifier ({type(err).__name__})") from None
    # NHWC weights take oneDNN's faster convolutions on CPU: half the time of NCHW for scoring here.
    return model.to(device, memory_format=torch.channels_last).eval()


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
    args = parser.parse_args(argv)
    if args.epochs <= 0:
        raise UsageError(f"--epochs must be a positive integer, got {args.epochs}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    train_images, train_labels = load_mnist(args.data_dir, train=True)
    test_images, test_labels = load_mnist(args.data_dir, train=False)
    start = time.perf_counter()
    model = train_classifier(normalise(train_images), train_labels, epochs=args.epochs, seed=args.seed)
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, normalise(test_images), test_labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "test_accuracy": round(test_accuracy, 4),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
    }
    save_classifier(model, out, info)
    from gan.evaluate import FLOOR_IMAGES, Evaluator  # (gan.evaluate imports this module)

    judge = Evaluator(out, test_images, test_labels)
    floor = judge.floor(train_images[:FLOOR_IMAGES])
    reference = {"reference_images": judge.reference_count, "floor_images": floor["eval_samples"], "floor": floor}
    save_reference(out, judge.reference_tensors(), reference)  # the new weights' view of real data, shipped with them
    print(f"test accuracy {test_accuracy:.2%} after {args.epochs} epochs ({seconds:.0f} s); saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
