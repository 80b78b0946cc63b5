"""MNIST as whole tensors (no per-sample PIL work), plus a small generated stand-in for tests."""

import math
import os
import struct
from pathlib import Path

import numpy as np
import torch

from gan.errors import UsageError

MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def raw_folder(data_dir: str | os.PathLike) -> Path:
    """Where torchvision's MNIST keeps (and looks for) the four *-ubyte files."""
    return Path(data_dir) / "MNIST" / "raw"


IDX_MAGIC = {3: 0x0803, 1: 0x0801}  # unsigned bytes, 3 dimensions (images) or 1 (labels)


def read_idx(path: Path, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `dims` dimensions, as the MNIST files are; ValueError names the damage."""
    data = path.read_bytes()
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(f"{path.name} is {len(data)} bytes, shorter than its header")
    magic, *shape = struct.unpack(f">I{dims}I", data[:header])
    if magic != IDX_MAGIC[dims]:
        raise ValueError(f"{path.name} starts with 0x{magic:08x}, not the IDX mark 0x{IDX_MAGIC[dims]:08x}")
    if len(data) != header + math.prod(shape):
        raise ValueError(f"{path.name} holds {len(data) - header} bytes of data, its header says {math.prod(shape)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(data_dir: str | os.PathLike, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64: read straight from the *-ubyte files when they are there (a
    second's less start-up than importing torchvision), else through torchvision, downloading if online."""
    root = Path(data_dir)
    if root.exists() and not root.is_dir():
        raise UsageError(f"--data-dir {root} is a file, not a folder")
    names = MNIST_FILES[train]
    if all((raw_folder(root) / name).is_file() for name in names):
        try:
            images = torch.from_numpy(read_idx(raw_folder(root) / names[0], 3).copy())
            labels = torch.from_numpy(read_idx(raw_folder(root) / names[1], 1).copy())
        except (OSError, ValueError) as err:
            raise UsageError(
                f"corrupt or truncated MNIST file in {raw_folder(root)} ({err}); replace the *-ubyte files with good "
                "copies"
            ) from None
        return checked(root, images, labels)
    return torchvision_mnist(root, train)


def torchvision_mnist(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """torchvision's MNIST, which downloads the files when some are missing (and the internet is reachable)."""
    from torchvision.datasets import MNIST

    missing = [name for pair in MNIST_FILES.values() for name in pair if not (raw_folder(root) / name).is_file()]
    try:
        dataset = MNIST(str(root), train=train, download=bool(missing))
    except (OSError, RuntimeError) as err:
        if missing:
            raise UsageError(
                f"MNIST is not in {raw_folder(root)} and could not be downloaded ({type(err).__name__}); "
                f"put the four *-ubyte files ({', '.join(n for p in MNIST_FILES.values() for n in p)}) there"
            ) from None
        raise UsageError(f"could not read MNIST from {raw_folder(root)}: {err}") from None
    except Exception as err:  # torchvision signals a malformed IDX file with assorted errors
        raise UsageError(
            f"corrupt or truncated MNIST file in {raw_folder(root)} ({type(err).__name__}: {err}); "
            "replace the *-ubyte files with good copies"
        ) from None
    return checked(root, dataset.data, dataset.targets)


def checked(root: Path, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels as read, once they have MNIST's shapes."""
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != torch.uint8:
        raise UsageError(
            f"MNIST images in {raw_folder(root)} have shape {tuple(images.shape)}, expected (N, 28, 28) uint8"
        )
    if len(images) != len(labels) or len(images) == 0:
        raise UsageError(f"MNIST files in {raw_folder(root)} hold {len(images)} images but {len(labels)} labels")
    return images, labels.long()


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [-1, 1], as ToTensor + Normalize((0.5,), (0.5,))."""
    return images.reshape(len(images), -1).float().div_(127.5).sub_(1.0)


def denormalise(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]."""
    return ((images + 1) / 2).clamp_(0, 1)


def fake_digits(count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A small MNIST stand-in: digit glyphs drawn with PIL at random places, sizes and strokes."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count)
    for i, label in enumerate(labels):
        size = int(rng.integers(16, 23))
        font = ImageFont.load_default(size=size)
        canvas = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(canvas)
        offset = (int(rng.integers(3, 10)), int(rng.integers(-2, 4)))
        draw.text(offset, str(label), fill=255, font=font, stroke_width=int(rng.integers(0, 2)), stroke_fill=255)
        images[i] = np.asarray(canvas)
    return torch.from_numpy(images), torch.from_numpy(labels).long()


def write_idx(data_dir: str | os.PathLike, images: torch.Tensor, labels: torch.Tensor, train: bool) -> Path:
    """Write images and labels as IDX files in the MNIST/raw layout torchvision reads."""
    folder = raw_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    image_name, label_name = MNIST_FILES[train]
    array = images.numpy().astype(np.uint8)
    (folder / image_name).write_bytes(struct.pack(">IIII", 0x0803, *array.shape) + array.tobytes())
    (folder / label_name).write_bytes(
        struct.pack(">II", 0x0801, len(labels)) + labels.numpy().astype(np.uint8).tobytes()
    )
    return folder


def write_fake_mnist(data_dir: str | os.PathLike, train_count: int = 600, test_count: int = 200, seed: int = 0) -> Path:
    """A tiny MNIST-shaped dataset on disk, so tests run the real torchvision loading path."""
    write_idx(data_dir, *fake_digits(train_count, seed), train=True)
    return write_idx(data_dir, *fake_digits(test_count, seed + 1), train=False)


__all__ = [
    "denormalise",
    "fake_digits",
    "load_mnist",
    "normalise",
    "raw_folder",
    "write_fake_mnist",
    "write_idx",
]
