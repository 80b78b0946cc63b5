"""The trainer's step written with autograd, as the reference that `gan.train.train_step` (which
writes its backward passes out by hand) is tested against."""

import torch

from gan.train import GAN, StepLogits, adam_step, discriminator_loss, generator_loss, update_ema


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of |d logit / d x|^2 at real images (Mescheder et al. 2018), differentiable."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)  # (B, 784)
    return grad.pow(2).sum(dim=1).mean()


def autograd_step(gan: GAN, real_images: torch.Tensor, latent_dim: int, ema: float, r1: float = 0.0) -> StepLogits:
    """One D step then one G step (fresh z) through autograd, R1 by double backward."""
    batch = len(real_images)
    generator, discriminator = gan.generator, gan.discriminator

    # Discriminator: no gradient flows into G.
    with torch.no_grad():
        fake_images = generator(torch.randn(batch, latent_dim, device=real_images.device))  # (B, 784)
    if r1 > 0:
        real_images = real_images.detach().requires_grad_(True)
    logits = discriminator.logits(torch.cat([real_images, fake_images]))  # (2B, 1)
    d_loss = discriminator_loss(logits, gan.targets["d"])
    gan.d_optimizer.zero_grad(set_to_none=True)
    objective = d_loss + r1 / 2 * r1_penalty(logits[:batch], real_images) if r1 > 0 else d_loss
    objective.backward()
    adam_step(gan.d_optimizer)

    # Generator: D's weights need no gradient, only its input does.
    discriminator.requires_grad_(False)
    fake_images = generator(torch.randn(batch, latent_dim, device=real_images.device))
    fake_logits = discriminator.logits(fake_images)
    g_loss = generator_loss(fake_logits, gan.targets["g"])
    gan.g_optimizer.zero_grad(set_to_none=True)
    g_loss.backward()
    adam_step(gan.g_optimizer)
    discriminator.requires_grad_(True)
    update_ema(gan, ema)
    return logits.detach(), fake_logits.detach()
