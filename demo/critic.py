"""The Discriminator's side of the game: each run's per-epoch D, loaded on first use, and what it says of pictures.

Runs trained before D was exported beside G have no epoch-NNN/discriminator/; views that need D then say so in
one line (`missing_line`) and everything else works as before.
"""

import json
import threading
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from gan.layout import discriminator_folder, epoch_name
from gan.models import Discriminator

_cache: dict[tuple[Path, int], Discriminator] = {}
_lock = threading.Lock()


def missing_line(run_name: str) -> str:
    """The one line a view that needs D shows for a run without it."""
    return (
        f"The run {run_name} has no Discriminator saved (it was trained before D was exported beside G), "
        "so this view has nothing to show for it; pick another run."
    )


def epoch_folder(run_folder: Path, epoch: int) -> Path:
    return Path(run_folder) / epoch_name(epoch)


def has_discriminator(run_folder: Path, epoch: int) -> bool:
    return discriminator_folder(epoch_folder(run_folder, epoch)) is not None


def discriminator(run_folder: Path, epoch: int) -> Discriminator | None:
    """The epoch's D in fp32, eval mode, no weight gradients (shared by every request); None when not saved.
    Built on the meta device and given the file's tensors (as the app loads G): no random init to throw away."""
    key = (Path(run_folder).resolve(), epoch)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    folder = discriminator_folder(epoch_folder(run_folder, epoch))
    if folder is None:
        return None
    config = json.loads((folder / "config.json").read_text())
    with torch.device("meta"):
        model = Discriminator(**{k: int(config[k]) for k in ("latent_dim", "hidden_dim", "image_size") if k in config})
    model.load_state_dict(load_file(folder / "model.safetensors"), strict=True, assign=True)
    model = model.float().eval().requires_grad_(False)
    with _lock:
        return _cache.setdefault(key, model)


def to_model_input(images01: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Pictures in 0..1 (N, 28, 28) or (N, 784) -> D's input (N, 784) in [-1, 1], as training normalised MNIST."""
    tensor = torch.as_tensor(np.asarray(images01, dtype=np.float32))
    return tensor.reshape(len(tensor), -1) * 2.0 - 1.0


@torch.no_grad()
def scores(model: Discriminator, images: torch.Tensor) -> np.ndarray:
    """D's probability that each picture is real; `images` is (N, 784) in [-1, 1] (G's output or to_model_input)."""
    return model(images.float()).reshape(-1).numpy()


REAL_DIGITS = Path(__file__).resolve().parents[1] / "weights" / "real-digits.safetensors"


def real_digits(path: Path = REAL_DIGITS) -> tuple[np.ndarray, np.ndarray]:
    """The first 1,000 MNIST test digits, shipped with the app (so a Space has them without MNIST):
    images (1000, 28, 28) uint8, white on black, and labels (1000,) int64."""
    tensors = load_file(path)
    return tensors["images"].numpy(), tensors["labels"].numpy()
