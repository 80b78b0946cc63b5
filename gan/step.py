"""One training step of the GAN, written twice.

`autograd_step` is the tutorial's step as autograd computes it: the definition. `fast_step`, the
trainer's default, computes the same numbers with the backward passes written out by hand, without
autograd's graph and bookkeeping (docs/benchmarks.md: what it bought). Both draw the step's noise in one call,
`torch.randn(2 * batch, latent_dim)`: the first half for the D step, the second, fresh, for the G step.
So from the same weights and random state they agree to float rounding; tests hold them together,
and `python -m gan.train --step autograd` trains with the definition.
"""

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from gan.config import TrainConfig
from gan.models import Discriminator, Generator

StepLogits = tuple[torch.Tensor, torch.Tensor]  # D's logits on real then fake (2B, 1), the G step's (B, 1)


@dataclass
class GAN:
    """Both models, their optimisers and, when enabled, the EMA copy of G."""

    generator: Generator
    discriminator: Discriminator
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    ema_generator: Generator | None = None
    targets: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def exported(self) -> Generator:
        """The Generator that is saved and sampled: the EMA copy when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator


def build_gan(cfg: TrainConfig, device: torch.device) -> GAN:
    """Seed the global RNG, then build both models (tutorial init), their Adams and the BCE targets."""
    torch.manual_seed(cfg.seed)
    generator = Generator(cfg.latent_dim, cfg.hidden_dim).to(device)
    discriminator = Discriminator(cfg.latent_dim, cfg.hidden_dim).to(device)
    fused = device.type in ("cpu", "cuda")
    betas = (cfg.beta1, 0.999)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=betas, fused=fused)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr, betas=betas, fused=fused)
    ema_generator = copy.deepcopy(generator).requires_grad_(False) if cfg.ema > 0 else None
    batch = cfg.batch_size
    # D sees real then fake in one pass; its targets are 1 - smoothing for real, 0 for fake.
    d_target = torch.cat([torch.full((batch, 1), 1.0 - cfg.label_smoothing), torch.zeros(batch, 1)]).to(device)
    targets = {"d": d_target, "g": torch.ones(batch, 1, device=device)}
    return GAN(generator, discriminator, g_optimizer, d_optimizer, ema_generator, targets)


def discriminator_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0), from one pass over real and fake stacked (equal halves)."""
    return 2 * F.binary_cross_entropy_with_logits(logits, targets)


def generator_loss(fake_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Non-saturating: BCE(D(G(z)), 1)."""
    return F.binary_cross_entropy_with_logits(fake_logits, targets)


def epoch_statistics(
    d_logits: torch.Tensor, g_logits: torch.Tensor, targets: dict[str, torch.Tensor]
) -> dict[str, float]:
    """The epoch's mean D loss, G loss, D(x) and D(G(z)) from every step's logits, stacked as
    (steps, 2B) and (steps, B): the mean over steps of each step's loss, in one pass."""
    half = d_logits.shape[1] // 2
    d_targets = targets["d"].view(1, -1).expand_as(d_logits)
    scores = torch.sigmoid(d_logits)
    figures = {
        "d_loss": discriminator_loss(d_logits, d_targets),
        "g_loss": generator_loss(g_logits, targets["g"].view(1, -1).expand_as(g_logits)),
        "d_real": scores[:, :half].mean(),
        "d_fake": scores[:, half:].mean(),
    }
    return {name: round(float(value), 5) for name, value in figures.items()}


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of |d logit / d x|^2 at real images (Mescheder et al. 2018), differentiable."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)  # (B, 784)
    return grad.pow(2).sum(dim=1).mean()


def autograd_step(gan: GAN, real_images: torch.Tensor, cfg: TrainConfig) -> StepLogits:
    """One D step, then one G step on fresh noise, through autograd. Returns the logits both steps saw."""
    generator, discriminator = gan.generator, gan.discriminator
    batch, device = len(real_images), real_images.device
    real_labels = torch.full((batch, 1), 1.0 - cfg.label_smoothing, device=device)  # one-sided smoothing
    fake_labels = torch.zeros(batch, 1, device=device)
    d_noise, g_noise = torch.randn(2 * batch, cfg.latent_dim, device=device).chunk(2)  # (B, latent) each

    # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
    discriminator.zero_grad(set_to_none=True)
    real_images = real_images.detach().requires_grad_(cfg.r1 > 0)  # R1 differentiates D(x) by x
    real_logits = discriminator.logits(real_images)  # (B, 1)
    d_loss_real = F.binary_cross_entropy_with_logits(real_logits, real_labels)
    fake_images = generator(d_noise).detach()  # (B, 784); D's step does not move G
    fake_logits = discriminator.logits(fake_images)  # (B, 1)
    d_loss_fake = F.binary_cross_entropy_with_logits(fake_logits, fake_labels)
    d_loss = d_loss_real + d_loss_fake
    if cfg.r1 > 0:
        d_loss = d_loss + cfg.r1 / 2 * r1_penalty(real_logits, real_images)
    d_loss.backward()
    gan.d_optimizer.step()

    # (2) Update G: maximise log D(G(z)) (the non-saturating loss BCE(D(G(z)), 1)) through the new D.
    generator.zero_grad(set_to_none=True)
    g_logits = discriminator.logits(generator(g_noise))  # (B, 1)
    g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
    g_loss.backward()  # D's weights collect a gradient too; D's next step clears it unused
    gan.g_optimizer.step()

    # (3) The exported average of G: ema = decay * ema + (1 - decay) * weight.
    if gan.ema_generator is not None:
        with torch.no_grad():
            for average, weight in zip(gan.ema_generator.parameters(), generator.parameters(), strict=True):
                average.mul_(cfg.ema).add_(weight, alpha=1 - cfg.ema)
    return torch.cat([real_logits, fake_logits]).detach(), g_logits.detach()


# The fast step: autograd's backward written out. For BCE on a logit l with target t,
# d BCE / d l = sigmoid(l) - t; the D loss is a mean over B real plus a mean over B fake rows, so each
# row's gradient is (sigmoid(l) - t) / B, and the same holds for G's loss over its B rows. A linear
# layer y = x W^T + b passes back dx = dy W and collects dW = dy^T x and db = dy summed over rows;
# LeakyReLU scales dy by 1 or its slope where its input was negative, ReLU by 1 or 0, tanh by 1 - y^2.
# The G step runs that chain through D down to D's input (D's own weights get nothing), then
# through G. R1's gradient is derived at `add_r1_gradient`. Each product is the one autograd records.


def _linear_params(model: torch.nn.Module) -> list[torch.Tensor]:
    """weight, bias of linear1..3, each with a gradient buffer that the fast step writes into."""
    params = [getattr(getattr(model, f"linear{i}"), name) for i in (1, 2, 3) for name in ("weight", "bias")]
    for param in params:
        if param.grad is None:
            param.grad = torch.zeros_like(param)
    return params


PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}  # the fast step's GEMM dtype (--precision)


def _d_forward(images: torch.Tensor, params: list[torch.Tensor], slope: float) -> tuple[torch.Tensor, ...]:
    """D's forward pass keeping what its backward needs: (h1, h2, logits). Each LeakyReLU runs in place on
    its GEMM's output (one pass over memory fewer); its backward reads the sign from the output, which
    has the input's sign since the slope is positive."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = F.leaky_relu_(torch.addmm(b1, images, w1.t()), slope)  # (N, hidden)
    h2 = F.leaky_relu_(torch.addmm(b2, h1, w2.t()), slope)  # (N, hidden)
    return h1, h2, torch.addmm(b3, h2, w3.t())


_aten = torch.ops.aten


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _leaky_relu_backward_(grad: torch.Tensor, activation: torch.Tensor, slope: float) -> torch.Tensor:
    """grad scaled in place by 1 or the slope, by the sign of the LeakyReLU's output: autograd's kernel,
    written into the GEMM output it reads (no new buffer)."""
    return _aten.leaky_relu_backward.grad_input(grad, activation, slope, True, grad_input=grad)


def _relu_backward_(grad: torch.Tensor, activation: torch.Tensor) -> torch.Tensor:
    """grad zeroed in place where the ReLU's output is 0: autograd's kernel, into the GEMM output it reads."""
    return _aten.threshold_backward.grad_input(grad, activation, 0, grad_input=grad)


def _mm_into(grad: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """grad = a @ b, written straight into the fp32 gradient buffer when a and b are fp32 too."""
    if a.dtype == grad.dtype:
        torch.mm(a, b, out=grad)
    else:
        grad.copy_(torch.mm(a, b))


def _sum_into(grad: torch.Tensor, rows: torch.Tensor) -> None:
    """grad = rows summed over the batch, accumulated in grad's dtype."""
    torch.sum(rows, 0, dtype=grad.dtype, out=grad)


@torch.no_grad()
def fast_step(gan: GAN, real_images: torch.Tensor, cfg: TrainConfig) -> StepLogits:
    """`autograd_step` with the backward passes written by hand. No host sync here.

    Both noise halves go through G as one batch, since G does not change between the D and the G step;
    the G step backpropagates through its half. G's output is written straight after the real images
    into one (3B, 784) block, so D's pass over real and fake needs no concatenation.
    With cfg.precision "bf16" the GEMMs and activations run in bfloat16 on bf16 copies of the weights;
    the losses' gradients, the weight gradients, Adam and the weights stay fp32. "fp32" casts nothing."""
    batch, dtype = len(real_images), PRECISIONS[cfg.precision]
    gw1, gb1, gw2, gb2, gw3, gb3 = g_params = _linear_params(gan.generator)  # fp32, with the .grad buffers
    dw1, db1, dw2, db2, dw3, db3 = d_params = _linear_params(gan.discriminator)
    cast = _identity if dtype == torch.float32 else lambda x: x.to(dtype)  # fp32: no cast calls at all
    g_w1, g_b1, g_w2, g_b2, g_w3, g_b3 = (cast(param) for param in g_params)  # what G's GEMMs read
    slope = gan.discriminator.leaky_relu.negative_slope

    noise = cast(torch.randn(2 * batch, cfg.latent_dim, device=real_images.device))  # (2B, latent)
    g_h1 = torch.addmm(g_b1, noise, g_w1.t()).relu_()  # (2B, hidden)
    g_h2 = torch.addmm(g_b2, g_h1, g_w2.t()).relu_()  # (2B, hidden)
    block = real_images.new_empty(3 * batch, real_images.shape[1], dtype=dtype)  # real, fake for D, fake for G
    block[:batch] = real_images
    torch.addmm(g_b3, g_h2, g_w3.t(), out=block[batch:]).tanh_()

    # D step on real then fake (2B, 784).
    images = block[: 2 * batch]
    w1, _, w2, _, w3, _ = d_weights = [cast(param) for param in d_params]  # fp32: the params themselves
    h1, h2, logits = _d_forward(images, d_weights, slope)  # logits (2B, 1)
    logits = logits.float()
    grad = cast((torch.sigmoid(logits) - gan.targets["d"]).div_(batch))
    _mm_into(dw3.grad, grad.t(), h2)
    _sum_into(db3.grad, grad)
    grad = _leaky_relu_backward_(torch.mm(grad, w3), h2, slope)
    _mm_into(dw2.grad, grad.t(), h1)
    _sum_into(db2.grad, grad)
    grad = _leaky_relu_backward_(torch.mm(grad, w2), h1, slope)
    _mm_into(dw1.grad, grad.t(), images)
    _sum_into(db1.grad, grad)
    if cfg.r1 > 0:
        add_r1_gradient(gan.discriminator, h1[:batch].float(), h2[:batch].float(), cfg.r1)
    adam_step(gan.d_optimizer)

    # G step through the updated D; D's weights get no gradient, only its input.
    fake, g_h1, g_h2, noise = block[2 * batch :], g_h1[batch:], g_h2[batch:], noise[batch:]
    w1, _, w2, _, w3, _ = d_weights = [cast(param) for param in d_params]
    h1, h2, fake_logits = _d_forward(fake, d_weights, slope)  # fake_logits (B, 1)
    fake_logits = fake_logits.float()
    grad = cast((torch.sigmoid(fake_logits) - gan.targets["g"]).div_(batch))
    grad = _leaky_relu_backward_(torch.mm(grad, w3), h2, slope)
    grad = _leaky_relu_backward_(torch.mm(grad, w2), h1, slope)
    grad = torch.mm(grad, w1)
    _aten.tanh_backward.grad_input(grad, fake, grad_input=grad)  # (B, 784): into G's output layer
    _mm_into(gw3.grad, grad.t(), g_h2)
    _sum_into(gb3.grad, grad)
    grad = _relu_backward_(torch.mm(grad, g_w3), g_h2)
    _mm_into(gw2.grad, grad.t(), g_h1)
    _sum_into(gb2.grad, grad)
    grad = _relu_backward_(torch.mm(grad, g_w2), g_h1)
    _mm_into(gw1.grad, grad.t(), noise)
    _sum_into(gb1.grad, grad)
    adam_step(gan.g_optimizer)
    update_ema(gan, cfg.ema)
    return logits, fake_logits


def add_r1_gradient(discriminator: Discriminator, h1: torch.Tensor, h2: torch.Tensor, gamma: float) -> None:
    """Add the gradient of the R1 penalty gamma/2 * mean_i |d logit_i / d x_i|^2 (Mescheder et al.
    2018) to D's weight gradients, given the real rows' activations (B, hidden) from the D pass.

    With the LeakyReLU slopes fixed by that pass (m1, m2: 1 or the slope, by the activation's sign), the
    input gradient is x_grad = (m1 * ((m2 * w3) @ W2)) @ W1, linear in each weight; biases do not enter
    it. Its gradient is that chain run backwards, what autograd's double backward computes."""
    w1, w2, w3 = discriminator.linear1.weight, discriminator.linear2.weight, discriminator.linear3.weight
    slope = discriminator.leaky_relu.negative_slope
    masked = torch.ops.aten.leaky_relu_backward  # (grad, activation) -> grad * (1 or slope)
    u2 = masked(w3.expand(len(h2), -1), h2, slope, True)  # (B, hidden)
    u1 = masked(torch.mm(u2, w2), h1, slope, True)  # (B, hidden)
    x_grad = torch.mm(u1, w1).mul_(gamma / len(h1))  # (B, 784), now d penalty / d x_grad
    w1.grad.addmm_(u1.t(), x_grad)
    v1 = masked(torch.mm(x_grad, w1.t()), h1, slope, True)  # d penalty / d (u2 @ W2), masked
    w2.grad.addmm_(u2.t(), v1)
    w3.grad.add_(masked(torch.mm(v1, w2.t()), h2, slope, True).sum(0, keepdim=True))


def adam_step(optimizer: torch.optim.Optimizer) -> None:
    """`optimizer.step()` for a fused Adam with one parameter group, minus the per-call Python
    bookkeeping (about 0.1 ms a call, 2% of a step here): the same kernel on the optimizer's own state,
    so its state_dict and the results are unchanged. Anything else goes through `step()`."""
    groups = optimizer.param_groups
    group = groups[0]
    params = group["params"]
    states = [optimizer.state.get(param) for param in params]
    unusual = ("amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay")
    plain = len(groups) == 1 and group.get("fused") and not any(group.get(name) for name in unusual)
    if not plain or not all(states) or any(param.grad is None for param in params):
        optimizer.step()  # the first step creates the state; unusual settings keep the stock path
        return
    steps = [state["step"] for state in states]
    torch._foreach_add_(steps, 1)
    grads = [param.grad for param in params]
    exp_avgs, exp_avg_sqs = [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states]
    beta1, beta2 = group["betas"]
    torch._fused_adam_(
        params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2,
        weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
    )  # fmt: skip


def update_ema(gan: GAN, ema: float) -> None:
    """Move the EMA copy of G, when there is one, a step towards G (one fused lerp over all weights)."""
    if gan.ema_generator is not None:
        with torch.no_grad():
            torch._foreach_lerp_(list(gan.ema_generator.parameters()), list(gan.generator.parameters()), 1 - ema)


STEPS = {"fast": fast_step, "autograd": autograd_step}
