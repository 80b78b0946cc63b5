"""A visitor's own digit: the z that draws it (inversion), what D made of it at every epoch, and the training images
nearest to any picture (is the Generator copying?). No UI here.

Inversion: z* = argmin_z ||G(z) - x||^2 + PRIOR_WEIGHT * latent_dim * (||z||^2 / latent_dim - 1)^2, the prior
keeping z on the shell where Gaussian latents of that size live. Adam from RESTARTS starting points at once (the
ones of CANDIDATES random z whose pictures are already closest), the best kept.

Nearest neighbours: an exact search over MNIST's 60,000 training images in pixel space (0..1 per pixel),
one matrix product for candidates, then their distances worked out again one by one in float64.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demo import critic
from gan.data import MNIST_FILES, load_mnist, raw_folder
from gan.errors import UsageError
from gan.models import Generator

log = logging.getLogger("demo")

RESTARTS = 16  # starting points optimised together, as one batch
STEPS = 200  # Adam steps
CANDIDATES = 512  # random z looked at first; the RESTARTS whose pictures are closest start the search
LEARNING_RATE = 0.05
PRIOR_WEIGHT = 0.05  # how firmly ||z||^2 is held near latent_dim
NEIGHBOURS = 5  # training images shown beside a sample
RERANKED = 64  # candidates of the matrix product whose distances are computed again exactly
RETRY_S = 300.0  # after MNIST could not be had, the next attempt waits this long
DATA_DIR_ENV = "GAN_DATA_DIR"


# ---- distances and inversion -------------------------------------------------------------------------------


def pixel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two pictures with pixels in 0..1 (a blank and a full 28x28 are 28 apart)."""
    diff = np.asarray(a, np.float64).reshape(-1) - np.asarray(b, np.float64).reshape(-1)
    return float(np.sqrt(diff @ diff))


@dataclass(frozen=True)
class Inversion:
    latent: torch.Tensor  # (latent_dim,) float32: z*
    distance: float  # between G(z*) and the target, pixels in 0..1


def invert(
    generator: Generator,
    target01: np.ndarray,
    restarts: int = RESTARTS,
    steps: int = STEPS,
    seed: int = 0,
) -> Inversion:
    """The z whose picture G(z) is closest to `target01` (28x28 or 784 pixels in 0..1), with the shell prior.
    The same target and seed give the same z (a fixed random start)."""
    target = torch.as_tensor(np.asarray(target01, np.float32).reshape(1, -1)) * 2.0 - 1.0  # (1, 784) in [-1, 1]
    dim = generator.latent_dim
    random = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        pool = torch.randn(CANDIDATES, dim, generator=random)  # (CANDIDATES, dim)
        closest = ((generator(pool) - target) ** 2).sum(1).argsort()[:restarts]
        latents = pool[closest].clone().requires_grad_(True)  # (restarts, dim)
    optimiser = torch.optim.Adam([latents], lr=LEARNING_RATE)
    with torch.enable_grad():
        for _ in range(steps):
            optimiser.zero_grad(set_to_none=True)
            error = ((generator(latents) - target) ** 2).sum(1)  # (restarts,)
            prior = PRIOR_WEIGHT * dim * ((latents * latents).sum(1) / dim - 1.0) ** 2
            (error + prior).sum().backward()
            optimiser.step()
    with torch.no_grad():
        error = ((generator(latents) - target) ** 2).sum(1)
        best = int(error.argmin())
    # In 0..1 pixels the squared error is a quarter of the one in [-1, 1].
    return Inversion(latents[best].detach().clone(), float(error[best].sqrt()) / 2.0)


# ---- what D made of a picture at every epoch ------------------------------------------------------------


@dataclass(frozen=True)
class Curves:
    epochs: list[int]  # epochs whose D was saved
    drawing: list[float]  # D(picture) at each
    real: list[float]  # D(a real test digit), or [] without one
    fake: list[float]  # D(G_epoch(z)) for one fixed z


def critic_curves(
    run_folder: Path,
    generators: dict[int, Generator],
    picture01: np.ndarray,
    real01: np.ndarray | None,
    fake_latent: torch.Tensor,
) -> Curves:
    """D's probability of 'real' at every saved epoch that has D, for the picture, a real digit and a fake (the
    same z drawn by that epoch's G)."""
    epochs, drawing, real, fake = [], [], [], []
    pictures = [picture01] + ([real01] if real01 is not None else [])
    inputs = critic.to_model_input(np.stack([np.asarray(p, np.float32).reshape(-1) for p in pictures]))
    for epoch, generator in generators.items():
        model = critic.discriminator(run_folder, epoch)
        if model is None:
            continue
        with torch.no_grad():
            made = generator(fake_latent.reshape(1, -1))  # (1, 784) in [-1, 1]
        values = critic.scores(model, torch.cat([inputs, made]))
        epochs.append(epoch)
        drawing.append(float(values[0]))
        if real01 is not None:
            real.append(float(values[1]))
        fake.append(float(values[-1]))
    return Curves(epochs, drawing, real, fake)


def believed_text(curves: Curves) -> str:
    """When D would have called the picture real (a score of at least 0.5), in words."""
    believed = [e for e, s in zip(curves.epochs, curves.drawing, strict=True) if s >= 0.5]
    if not believed:
        return "D never took it for a real digit (its score stayed under 0.5 at every saved epoch)."
    if len(believed) == len(curves.epochs):
        return "D took it for a real digit (a score of 0.5 or more) at every saved epoch."
    return (
        f"D took it for a real digit (a score of 0.5 or more) at {len(believed)} of {len(curves.epochs)} saved "
        f"epochs, first at epoch {believed[0]}, last at epoch {believed[-1]}."
    )


# ---- nearest training images -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    index: int  # in MNIST's training set
    label: int
    distance: float  # pixels in 0..1


class NeighbourIndex:
    """The training images as one float32 matrix (N, 784) in 0..1 with their squared lengths: the nearest of N to a
    picture is one matrix-vector product, then the best RERANKED are measured again exactly."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, note: str = ""):
        self.images = images.numpy()  # (N, 28, 28) uint8
        self.labels = labels.numpy()  # (N,)
        self.matrix = images.reshape(len(images), -1).float().div_(255.0)  # (N, 784)
        self.lengths = (self.matrix * self.matrix).sum(1)  # (N,)
        self.note = note  # e.g. that MNIST was downloaded just now

    def __len__(self) -> int:
        return len(self.labels)

    def nearest(self, picture01: np.ndarray, count: int = NEIGHBOURS) -> list[Neighbour]:
        """The `count` training images closest to the picture (784 pixels in 0..1), nearest first; ties go to the
        lower index."""
        query = torch.as_tensor(np.asarray(picture01, np.float32).reshape(-1))
        rough = self.lengths - 2.0 * (self.matrix @ query)  # squared distance less |query|^2, (N,)
        chosen = rough.topk(min(max(RERANKED, count), len(self)), largest=False).indices.numpy()
        exact = self.images[chosen].reshape(len(chosen), -1).astype(np.float64) / 255.0
        exact = np.sqrt(((exact - np.asarray(picture01, np.float64).reshape(1, -1)) ** 2).sum(1))
        order = np.lexsort((chosen, exact))[:count]  # by distance, then index
        return [Neighbour(int(chosen[k]), int(self.labels[chosen[k]]), float(exact[k])) for k in order]


def default_data_dir() -> Path:
    """$GAN_DATA_DIR, else ../shared/data when it holds MNIST's folder, else data (all from the working folder)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    shared = Path("..") / "shared" / "data"
    return shared if (shared / "MNIST").is_dir() else Path("data")


class NoNeighbours(Exception):
    """MNIST's training set cannot be had; the message is the one line the neighbours view shows."""


_indexes: dict[Path, NeighbourIndex | tuple[str, float]] = {}
_index_lock = threading.Lock()


def neighbour_index(data_dir: str | Path | None = None) -> NeighbourIndex:
    """The index over MNIST's training images in `data_dir` (default: default_data_dir()), built once (and MNIST
    downloaded there first when it is missing and the machine is online); NoNeighbours when it cannot be had."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    key = folder.resolve()
    with _index_lock:  # one build at a time; others wait for it rather than building too
        found = _indexes.get(key)
        if isinstance(found, NeighbourIndex):
            return found
        if found is not None and time.monotonic() - found[1] < RETRY_S:
            raise NoNeighbours(found[0])
        missing = not all((raw_folder(folder) / name).is_file() for name in MNIST_FILES[True])
        if missing:
            log.info("MNIST's training set is not in %s: downloading it (first use of the neighbours view)", folder)
        try:
            images, labels = load_mnist(folder, train=True)
        except (UsageError, OSError) as err:
            line = (
                f"The nearest training images need MNIST's training set, which is not in {raw_folder(folder)} and "
                f"could not be had ({str(err).splitlines()[0][:160]}); the rest of this tab works without it."
            )
            log.warning("%s", line)
            _indexes[key] = (line, time.monotonic())
            raise NoNeighbours(line) from None
        note = f"MNIST's training set was downloaded to {folder} on first use." if missing else ""
        index = NeighbourIndex(images, labels, note)
        _indexes[key] = index
        return index


def clear_indexes() -> None:
    with _index_lock:
        _indexes.clear()
