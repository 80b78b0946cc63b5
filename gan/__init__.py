"""An MNIST MLP GAN you can watch learn: models, training, metrics and Hub export."""

from gan.models import Discriminator, Generator

__all__ = ["Discriminator", "Generator"]
