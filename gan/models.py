"""The tutorial's MLP Generator and Discriminator."""

import contextlib
import io
import os

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


class Generator(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="pytorch",
    tags=["gan", "mnist", "image-generation"],
    license="mit",
    pipeline_tag="unconditional-image-generation",
):
    """Latent vector (B, latent_dim) -> flattened image (B, image_size) in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, hidden_dim: int = 256, image_size: int = 784):
        super().__init__()
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.image_size = image_size
        # The tutorial writes nn.ReLU(0.2); that argument is `inplace`, so this is plain ReLU.
        self.relu = nn.ReLU()
        self.linear1 = nn.Linear(latent_dim, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, hidden_dim)
        self.linear3 = nn.Linear(hidden_dim, image_size)
        self.tanh = nn.Tanh()

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.linear1(noise))  # (B, hidden_dim)
        x = self.relu(self.linear2(x))  # (B, hidden_dim)
        return self.tanh(self.linear3(x))  # (B, image_size)


class Discriminator(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="pytorch",
    tags=["gan", "mnist", "discriminator"],
    license="mit",
):
    """Flattened image (B, image_size) -> probability (B, 1) that it is real."""

    def __init__(self, latent_dim: int = 100, hidden_dim: int = 256, image_size: int = 784):
        super().__init__()
        self.latent_dim = latent_dim  # unused by D; kept so both models share one signature
        self.hidden_dim = hidden_dim
        self.image_size = image_size
        self.leaky_relu = nn.LeakyReLU(0.2)
        self.linear1 = nn.Linear(image_size, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, hidden_dim)
        self.linear3 = nn.Linear(hidden_dim, 1)
        self.sigmoid = nn.Sigmoid()

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid score; training uses it with BCEWithLogitsLoss (same math, stabler)."""
        x = self.leaky_relu(self.linear1(images))  # (B, hidden_dim)
        x = self.leaky_relu(self.linear2(x))  # (B, hidden_dim)
        return self.linear3(x)  # (B, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.logits(images))


def _load(cls: type, folder: str | os.PathLike) -> nn.Module:
    weights = os.path.join(folder, "model.safetensors")
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"no model.safetensors in {folder}")
    with contextlib.redirect_stdout(io.StringIO()):
        return cls.from_pretrained(folder, strict=True)


def load_generator(folder: str | os.PathLike) -> Generator:
    """`Generator.from_pretrained(folder, strict=True)` from model.safetensors only (never a pickle),
    without the mixin's "Loading weights" print."""
    return _load(Generator, folder)


def load_discriminator(folder: str | os.PathLike) -> Discriminator:
    """`Discriminator.from_pretrained(folder, strict=True)` (an epoch's `discriminator/` folder), in fp32 whatever the
    file's precision (runs store D in half precision: its values are exact in fp32)."""
    return _load(Discriminator, folder).float()
