"""Train the tutorial's MLP GAN on MNIST, exporting the Generator after every epoch.

    python -m gan.train --data-dir ../shared/data --out runs/mnist

Each epoch writes OUT/epoch-NNN/ (config.json + model.safetensors), OUT/samples/epoch-NNN.png
(the same fixed latents every epoch), its record in OUT/metrics.json and OUT/checkpoint.pt
(everything needed to resume). All writes are atomic: a kill leaves the last good state.
"""

import argparse
import copy
import dataclasses
import inspect
import io
import math
import re
import sys
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from tqdm import tqdm

from gan.data import fake_digits, load_mnist, normalise
from gan.errors import UsageError, run_cli
from gan.images import image_grid
from gan.io import atomic_dir, atomic_write_bytes, atomic_write_json, remove_leftovers
from gan.layout import METRICS, epoch_name, read_metrics
from gan.models import Discriminator, Generator

CHECKPOINT = "checkpoint.pt"
SAMPLE_GRID = 10  # the fixed latent bank is SAMPLE_GRID x SAMPLE_GRID images

# Named recipes. "tutorial" is the seed's recipe (PyTorch's Adam betas (0.9, 0.999), hard labels,
# raw weights exported). "stable" is the best change measured (README has the ablation): an R1
# gradient penalty (gamma 1; 4 and 10 were close behind) keeps D smooth around the real digits,
# so Adam beta1 0.5 no longer collapses and G learns several times faster; an exponential moving
# average of G's weights (about 1.7 epochs long) is exported. Label smoothing, the previous stable
# recipe, is not needed with R1.
RECIPES = {
    "tutorial": {"beta1": 0.9, "ema": 0.0, "label_smoothing": 0.0, "lr_decay": "none", "r1": 0.0},
    "stable": {"beta1": 0.5, "ema": 0.999, "label_smoothing": 0.0, "lr_decay": "none", "r1": 1.0},
}
# Fields that must match for --resume to continue a run (what changes the learned weights).
RECIPE_FIELDS = (
    "batch_size",
    "lr",
    "beta1",
    "ema",
    "label_smoothing",
    "lr_decay",
    "r1",
    "latent_dim",
    "hidden_dim",
    "seed",
    "dataset",
)


@dataclass
class TrainConfig:
    epochs: int = 200  # passes over the training set (the tutorial's usual length)
    batch_size: int = 100  # images per step (tutorial: 100)
    lr: float = 2e-4  # Adam learning rate for both models (tutorial: 0.0002)
    latent_dim: int = 100  # size of the noise vector z (tutorial: 100)
    hidden_dim: int = 256  # width of both MLPs' hidden layers (tutorial: 256)
    recipe: str = "tutorial"  # preset for beta1 / ema / label_smoothing / lr_decay / r1: one of RECIPES
    beta1: float | None = None  # Adam beta1; None takes the recipe's value
    ema: float | None = None  # decay of an exponential moving average of G's weights, exported instead of G (0 = off)
    label_smoothing: float | None = None  # one-sided: D's target for real images is 1 - this
    lr_decay: str | None = None  # "none", or "linear": both learning rates fall linearly to 0 over --epochs
    r1: float | None = None  # weight gamma of the R1 penalty gamma/2 * |grad_x D(x)|^2 on real images (0 = off)
    seed: int = 0  # seeds weights, shuffling and noise; the fixed sample latents use it too
    dataset: str = "mnist"  # "mnist" (torchvision files in --data-dir) or "fake" (small generated stand-in)
    fake_size: int = 600  # images in the "fake" dataset
    data_dir: str = "data"  # holds MNIST/raw/*-ubyte (downloaded there when online)
    out: str = "runs/mnist"  # run folder: epoch-NNN/, samples/, metrics.json, checkpoint.pt
    device: str = "auto"  # auto = cuda, then mps, then cpu
    resume: bool = False  # continue the run in --out from its last completed epoch
    classifier: str = "weights/classifier"  # judge for per-epoch FID/IS; skipped when missing ("" = off)
    eval_every: int = 1  # score every Nth epoch (and the last)
    eval_samples: int = 2000  # generated images scored per evaluation (gan.evaluate uses 10,000)
    push_to_hub: str | None = None  # USER/REPO: upload each finished epoch to the Hugging Face Hub
    steps_per_epoch: int = 0  # stop each epoch after this many steps (0 = whole set); for quick checks
    progress: bool = True  # show a tqdm bar per epoch

    def resolved(self) -> "TrainConfig":
        """Fill recipe-dependent fields left as None."""
        if self.recipe not in RECIPES:
            raise UsageError(f"--recipe must be one of {', '.join(RECIPES)}, not {self.recipe!r}")
        preset = RECIPES[self.recipe]
        return dataclasses.replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})


def _field_help() -> dict[str, str]:
    """Each TrainConfig field's trailing comment, so --help and the dataclass never disagree."""
    source = inspect.getsource(TrainConfig)
    return dict(re.findall(r"^    (\w+): [^=]+= .*?  # (.+)$", source, flags=re.MULTILINE))


def _flag_type(annotation: object) -> type:
    """int / float / str from a field's annotation (`float | None` -> float)."""
    if annotation in (int, float, str):
        return annotation
    return next(arg for arg in typing.get_args(annotation) if arg is not type(None))


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """Map TrainConfig's fields to snake-case flags, with the dataclass as the one source of defaults."""
    parser = argparse.ArgumentParser(prog="python -m gan.train", description=__doc__.split("\n\n")[0])
    helps = _field_help()
    choices = {"recipe": list(RECIPES), "dataset": ["mnist", "fake"], "lr_decay": ["none", "linear"]}
    for item in dataclasses.fields(TrainConfig):
        flag = "--" + item.name.replace("_", "-")
        default = "from --recipe" if item.name in RECIPES["tutorial"] else item.default
        help_text = f"{helps.get(item.name, '')} (default: {default})"
        if item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=item.default, help=help_text)
        else:
            parser.add_argument(
                flag, type=_flag_type(item.type), default=item.default, choices=choices.get(item.name), help=help_text
            )
    return TrainConfig(**vars(parser.parse_args(argv))).resolved()


def validate(cfg: TrainConfig) -> None:
    """Reject bad settings before anything is read or written."""
    for name in ("epochs", "batch_size", "latent_dim", "hidden_dim", "eval_every", "eval_samples", "fake_size"):
        if getattr(cfg, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(cfg, name)}")
    if cfg.steps_per_epoch < 0:
        raise UsageError(f"--steps-per-epoch must be 0 (whole set) or positive, got {cfg.steps_per_epoch}")
    if not (cfg.lr > 0 and math.isfinite(cfg.lr)):
        raise UsageError(f"--lr must be a positive number, got {cfg.lr}")
    if not 0 <= cfg.beta1 < 1:
        raise UsageError(f"--beta1 must be in [0, 1), got {cfg.beta1}")
    if not 0 <= cfg.ema < 1:
        raise UsageError(f"--ema must be in [0, 1) (0 = off), got {cfg.ema}")
    if not 0 <= cfg.label_smoothing < 0.5:
        raise UsageError(f"--label-smoothing must be in [0, 0.5), got {cfg.label_smoothing}")
    if not (cfg.r1 >= 0 and math.isfinite(cfg.r1)):
        raise UsageError(f"--r1 must be 0 (off) or a positive number, got {cfg.r1}")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name!r} is not a device (use auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for, but no CUDA GPU is available")
    return device


def load_training_images(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training set: uint8 images (N, 28, 28) and labels (N,)."""
    if cfg.dataset == "fake":
        images, labels = fake_digits(cfg.fake_size, seed=cfg.seed)
    else:
        images, labels = load_mnist(cfg.data_dir, train=True)
    if cfg.batch_size > len(images):
        raise UsageError(f"--batch-size {cfg.batch_size} is larger than the {len(images)} training images")
    return images, labels


def fixed_latents(count: int, latent_dim: int, seed: int) -> torch.Tensor:
    """The same z for every epoch's sample grid, drawn from its own generator (the training RNG is untouched)."""
    return torch.randn(count, latent_dim, generator=torch.Generator().manual_seed(seed))


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
    torch._fused_adam_(
        params, [param.grad for param in params], [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states],
        [], steps, amsgrad=False, lr=group["lr"], beta1=group["betas"][0], beta2=group["betas"][1],
        weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
    )  # fmt: skip


StepLogits = tuple[torch.Tensor, torch.Tensor]  # D's logits on real then fake (2B, 1), the G step's (B, 1)


def update_ema(gan: GAN, ema: float) -> None:
    """Move the EMA copy of G, when there is one, a step towards G."""
    if gan.ema_generator is not None:
        with torch.no_grad():
            torch._foreach_lerp_(list(gan.ema_generator.parameters()), list(gan.generator.parameters()), 1 - ema)


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


def _linear_params(model: torch.nn.Module) -> list[torch.Tensor]:
    """weight, bias of linear1..3, each with a gradient buffer that the direct step writes into."""
    params = [getattr(getattr(model, f"linear{i}"), name) for i in (1, 2, 3) for name in ("weight", "bias")]
    for param in params:
        if param.grad is None:
            param.grad = torch.zeros_like(param)
    return params


def _d_forward(images: torch.Tensor, params: list[torch.Tensor], slope: float) -> tuple[torch.Tensor, ...]:
    """D's forward pass keeping what its backward needs: (pre1, h1, pre2, h2, logits)."""
    w1, b1, w2, b2, w3, b3 = params
    pre1 = torch.addmm(b1, images, w1.t())
    h1 = F.leaky_relu(pre1, slope)
    pre2 = torch.addmm(b2, h1, w2.t())
    h2 = F.leaky_relu(pre2, slope)
    return pre1, h1, pre2, h2, torch.addmm(b3, h2, w3.t())


@torch.no_grad()
def train_step(gan: GAN, real_images: torch.Tensor, latent_dim: int, ema: float, r1: float = 0.0) -> StepLogits:
    """One D step then one G step (fresh z). Returns both steps' logits; the losses and scores are
    worked out from them once per epoch (`epoch_statistics`). No host sync here.

    The backward passes are written out as the matrix products autograd would record, without its
    bookkeeping (tests/reference_step.py is the same step through autograd; a test holds the two
    together). Both latent batches are drawn in one call (the D step's rows, then the G step's fresh
    ones) and go through G as one batch, since G does not change between the two; the G step
    backpropagates through its half. On the CPU, with batch x latent a multiple of 16 (100 x 100 by
    default), one draw of 2B rows gives the same numbers as two draws of B."""
    batch = len(real_images)
    gw1, gb1, gw2, gb2, gw3, gb3 = _linear_params(gan.generator)
    d_params = _linear_params(gan.discriminator)
    dw1, db1, dw2, db2, dw3, db3 = d_params
    slope = gan.discriminator.leaky_relu.negative_slope
    aten = torch.ops.aten

    noise = torch.randn(2 * batch, latent_dim, device=real_images.device)  # (2B, latent)
    g_h1 = torch.addmm(gb1, noise, gw1.t()).relu_()  # (2B, hidden)
    g_h2 = torch.addmm(gb2, g_h1, gw2.t()).relu_()  # (2B, hidden)
    # One (3B, 784) block: real, then G's output for the D step, then for the G step (no concatenation).
    block = real_images.new_empty(3 * batch, real_images.shape[1])
    block[:batch] = real_images
    torch.addmm(gb3, g_h2, gw3.t(), out=block[batch:]).tanh_()

    # Discriminator on real then fake; dL/dlogit of 2 * mean BCE over 2B rows is (sigmoid - target) / B.
    images = block[: 2 * batch]  # (2B, 784)
    pre1, h1, pre2, h2, logits = _d_forward(images, d_params, slope)  # logits (2B, 1)
    grad = (torch.sigmoid(logits) - gan.targets["d"]).div_(batch)
    torch.mm(grad.t(), h2, out=dw3.grad)
    torch.sum(grad, 0, out=db3.grad)
    grad = aten.leaky_relu_backward(torch.mm(grad, dw3), pre2, slope, False)
    torch.mm(grad.t(), h1, out=dw2.grad)
    torch.sum(grad, 0, out=db2.grad)
    grad = aten.leaky_relu_backward(torch.mm(grad, dw2), pre1, slope, False)
    torch.mm(grad.t(), images, out=dw1.grad)
    torch.sum(grad, 0, out=db1.grad)
    if r1 > 0:
        add_r1_gradient(gan.discriminator, pre1[:batch], pre2[:batch], r1)
    adam_step(gan.d_optimizer)

    # Generator through the updated D; D's weights get no gradient, only its input.
    fake, g_h1, g_h2, noise = block[2 * batch :], g_h1[batch:], g_h2[batch:], noise[batch:]
    pre1, _, pre2, _, fake_logits = _d_forward(fake, d_params, slope)  # fake_logits (B, 1)
    grad = (torch.sigmoid(fake_logits) - gan.targets["g"]).div_(batch)
    grad = aten.leaky_relu_backward(torch.mm(grad, dw3), pre2, slope, False)
    grad = aten.leaky_relu_backward(torch.mm(grad, dw2), pre1, slope, False)
    grad = aten.tanh_backward(torch.mm(grad, dw1), fake)  # (B, 784): into G's output layer
    torch.mm(grad.t(), g_h2, out=gw3.grad)
    torch.sum(grad, 0, out=gb3.grad)
    grad = aten.threshold_backward(torch.mm(grad, gw3), g_h2, 0)
    torch.mm(grad.t(), g_h1, out=gw2.grad)
    torch.sum(grad, 0, out=gb2.grad)
    grad = aten.threshold_backward(torch.mm(grad, gw2), g_h1, 0)
    torch.mm(grad.t(), noise, out=gw1.grad)
    torch.sum(grad, 0, out=gb1.grad)
    adam_step(gan.g_optimizer)
    update_ema(gan, ema)
    return logits, fake_logits


def add_r1_gradient(discriminator: Discriminator, pre1: torch.Tensor, pre2: torch.Tensor, gamma: float) -> None:
    """Add the gradient of the R1 penalty gamma/2 * mean_i |d logit_i / d x_i|^2 (Mescheder et al.
    2018) to D's weight gradients, given the real rows' pre-activations (B, hidden) from the D pass.

    With the LeakyReLU slopes fixed by that pass (m1, m2: 1 or the slope), the input gradient is
    x_grad = (m1 * ((m2 * w3) @ W2)) @ W1, linear in each weight; biases do not enter it. Its
    gradient is that chain run backwards, what autograd's double backward computes."""
    w1, w2, w3 = discriminator.linear1.weight, discriminator.linear2.weight, discriminator.linear3.weight
    slope = discriminator.leaky_relu.negative_slope
    masked = torch.ops.aten.leaky_relu_backward  # (grad, pre-activation) -> grad * (1 or slope)
    u2 = masked(w3.expand(len(pre2), -1), pre2, slope, False)  # (B, hidden)
    u1 = masked(torch.mm(u2, w2), pre1, slope, False)  # (B, hidden)
    x_grad = torch.mm(u1, w1).mul_(gamma / len(pre1))  # (B, 784), now d penalty / d x_grad
    w1.grad.addmm_(u1.t(), x_grad)
    v1 = masked(torch.mm(x_grad, w1.t()), pre1, slope, False)  # d penalty / d (u2 @ W2), masked
    w2.grad.addmm_(u2.t(), v1)
    w3.grad.add_(masked(torch.mm(v1, w2.t()), pre2, slope, False).sum(0, keepdim=True))


def epoch_lr(cfg: TrainConfig, epoch: int) -> float:
    """The learning rate of `epoch` (1-based): constant, or falling linearly so the last epoch's is lr/epochs."""
    return cfg.lr * (1 - (epoch - 1) / cfg.epochs) if cfg.lr_decay == "linear" else cfg.lr


def train_epoch(gan: GAN, data: torch.Tensor, cfg: TrainConfig, epoch: int) -> dict[str, float]:
    """Shuffle indices, run every full batch, return the epoch's mean losses and speed."""
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr(cfg, epoch)
    steps = len(data) // cfg.batch_size  # full batches only, as the tutorial's reshape(BATCH_SIZE, -1) needs
    if cfg.steps_per_epoch:
        steps = min(steps, cfg.steps_per_epoch)
    order = torch.randperm(len(data)).to(data.device)
    d_logits = torch.empty(steps, 2 * cfg.batch_size, device=data.device)
    g_logits = torch.empty(steps, cfg.batch_size, device=data.device)
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"epoch {epoch}/{cfg.epochs}", leave=False, disable=not cfg.progress, file=sys.stderr)
    for step in bar:
        real_images = data.index_select(0, order[step * cfg.batch_size : (step + 1) * cfg.batch_size])  # (B, 784)
        d_step, g_step = train_step(gan, real_images, cfg.latent_dim, cfg.ema, cfg.r1)
        d_logits[step] = d_step.view(-1)
        g_logits[step] = g_step.view(-1)
    record = epoch_statistics(d_logits, g_logits, gan.targets)
    seconds = time.perf_counter() - start
    record.update(
        steps=steps, train_seconds=round(seconds, 3), images_per_sec=round(steps * cfg.batch_size / seconds, 1)
    )
    return record


def checkpoint_state(gan: GAN, cfg: TrainConfig, epoch: int) -> dict:
    state = {
        "epoch": epoch,
        "config": dataclasses.asdict(cfg),
        "generator": gan.generator.state_dict(),
        "discriminator": gan.discriminator.state_dict(),
        "g_optimizer": gan.g_optimizer.state_dict(),
        "d_optimizer": gan.d_optimizer.state_dict(),
        "rng_cpu": torch.get_rng_state(),
    }
    if gan.ema_generator is not None:
        state["ema_generator"] = gan.ema_generator.state_dict()
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_checkpoint(gan: GAN, cfg: TrainConfig, epoch: int) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint_state(gan, cfg, epoch), buffer)
    atomic_write_bytes(Path(cfg.out) / CHECKPOINT, buffer.getvalue())


def restore_checkpoint(gan: GAN, cfg: TrainConfig) -> int:
    """Load OUT/checkpoint.pt into `gan`; returns the last completed epoch."""
    path = Path(cfg.out) / CHECKPOINT
    if not path.is_file():
        raise UsageError(f"--resume: no {CHECKPOINT} in {cfg.out}; start without --resume")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UsageError(f"--resume: {path} is not a readable checkpoint ({type(err).__name__})") from None
    saved = state.get("config", {})
    fields = RECIPE_FIELDS + (("epochs",) if cfg.lr_decay == "linear" else ())  # the decay is spread over --epochs
    # A checkpoint written before a setting existed was trained with that setting's tutorial value.
    before = {name: saved.get(name, RECIPES["tutorial"].get(name)) for name in fields}
    changed = [
        f"{name}={before[name]!r} (now {getattr(cfg, name)!r})" for name in fields if before[name] != getattr(cfg, name)
    ]
    if changed:
        raise UsageError(f"--resume: the checkpoint in {cfg.out} was trained with " + ", ".join(changed))
    try:
        gan.generator.load_state_dict(state["generator"])
        gan.discriminator.load_state_dict(state["discriminator"])
        gan.g_optimizer.load_state_dict(state["g_optimizer"])
        gan.d_optimizer.load_state_dict(state["d_optimizer"])
        if gan.ema_generator is not None:
            gan.ema_generator.load_state_dict(state["ema_generator"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise UsageError(
            f"--resume: checkpoint in {cfg.out} does not match this architecture ({str(err).splitlines()[0]})"
        ) from None
    torch.set_rng_state(state["rng_cpu"])
    if "rng_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    return int(state["epoch"])


def export_epoch(gan: GAN, cfg: TrainConfig, epoch: int, fixed_noise: torch.Tensor) -> None:
    """Write epoch-NNN/ (safetensors + config.json) and samples/epoch-NNN.png, each atomically."""
    out = Path(cfg.out)
    generator = gan.exported
    with atomic_dir(out / epoch_name(epoch)) as folder:
        generator.save_pretrained(folder, model_card_kwargs=None)
        (folder / "README.md").unlink(missing_ok=True)  # one card for the whole run lives at the root
    with torch.no_grad():
        images = generator(fixed_noise.to(next(generator.parameters()).device))
    buffer = io.BytesIO()
    image_grid(images, SAMPLE_GRID, SAMPLE_GRID, scale=2).save(buffer, format="PNG")
    (out / "samples").mkdir(exist_ok=True)
    atomic_write_bytes(out / "samples" / f"{epoch_name(epoch)}.png", buffer.getvalue())


def make_evaluator(cfg: TrainConfig, device: torch.device):
    """The per-epoch judge (scores against the test set), when a classifier is available; None otherwise."""
    if not cfg.classifier or not (Path(cfg.classifier) / "model.safetensors").is_file():
        return None
    from gan.evaluate import Evaluator

    if cfg.dataset == "fake":
        reference = fake_digits(max(cfg.fake_size // 3, 100), seed=cfg.seed + 1)
    else:
        reference = load_mnist(cfg.data_dir, train=False)
    return Evaluator(cfg.classifier, *reference, device=device)


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) training; returns the final metrics document."""
    validate(cfg)
    device = pick_device(cfg.device)
    out = Path(cfg.out)
    if not cfg.resume and (out / CHECKPOINT).exists():
        raise UsageError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
    uploader = None  # made first: a bad repo id or missing token fails before anything is written
    if cfg.push_to_hub:
        from gan.hub import EpochUploader

        uploader = EpochUploader(cfg.push_to_hub, out)
    train_images, _ = load_training_images(cfg)
    data = normalise(train_images).to(device)  # (N, 784) in [-1, 1]; the whole set stays on the device
    gan = build_gan(cfg, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create --out {out}: {err.strerror}") from None
    for folder in (out, out / "samples"):
        if folder.is_dir():
            remove_leftovers(folder)
    start_epoch = restore_checkpoint(gan, cfg) if cfg.resume else 0
    metrics = read_metrics(out)
    metrics["epochs"] = [r for r in metrics.get("epochs", []) if r["epoch"] <= start_epoch]
    metrics["config"] = dataclasses.asdict(cfg)
    evaluator = make_evaluator(cfg, device)
    if evaluator is not None:
        from gan.evaluate import FLOOR_IMAGES

        metrics["reference"] = evaluator.floor(train_images[:FLOOR_IMAGES])
    fixed_noise = fixed_latents(SAMPLE_GRID * SAMPLE_GRID, cfg.latent_dim, cfg.seed)

    if start_epoch >= cfg.epochs:
        print(f"{out} already has {start_epoch} epochs; nothing to do (raise --epochs to train further)")
    print(f"training on {device} ({len(data)} images, {cfg.recipe} recipe) into {out}", file=sys.stderr)
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, cfg.epochs + 1):
            epoch_start = time.perf_counter()
            gan.generator.train()
            record = {"epoch": epoch, **train_epoch(gan, data, cfg, epoch)}
            try:
                export_epoch(gan, cfg, epoch, fixed_noise)
                if evaluator is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                    record.update(evaluator.evaluate(gan.exported, cfg.eval_samples))
                record["epoch_seconds"] = round(time.perf_counter() - epoch_start, 3)
                metrics["epochs"].append(record)
                atomic_write_json(out / METRICS, metrics)
                save_checkpoint(gan, cfg, epoch)  # the commit point: --resume starts after this epoch
            except (OSError, SafetensorError) as err:  # safetensors reports a full disk as its own error
                reason = getattr(err, "strerror", None) or str(err).rsplit(": ", 1)[-1]
                raise UsageError(
                    f"cannot write epoch {epoch} to {out}: {reason}; epoch {epoch - 1} and its checkpoint are intact"
                ) from None
            print(summary_line(record), flush=True)
            if uploader is not None:
                uploader.submit(epoch)
    except KeyboardInterrupt:
        again = " ".join(arg for arg in sys.argv[1:] if arg != "--resume")
        print(
            f"\ninterrupted during epoch {epoch}; epochs up to {epoch - 1} are saved in {out}. "
            f"Resume with: python -m gan.train {again} --resume",
            file=sys.stderr,
        )
        if uploader is not None:
            uploader.close()
        raise
    if uploader is not None:
        uploader.close()
    return metrics


def summary_line(record: dict) -> str:
    line = (
        f"epoch {record['epoch']:3d}  D loss {record['d_loss']:.4f}  G loss {record['g_loss']:.4f}  "
        f"D(x) {record['d_real']:.3f}  D(G(z)) {record['d_fake']:.3f}  {record['images_per_sec']:.0f} img/s"
    )
    if "fid" in record:
        line += f"  FID {record['fid']:.2f}  IS {record['inception_score']:.2f}  digits {record['digits_present']}/10"
    return line


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    try:
        train(cfg)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
