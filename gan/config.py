"""The trainer's settings: one dataclass, its named recipes, and the command line mapped from it.

Every flag of `python -m gan.train` is a TrainConfig field; its default and its help text live on
the field, so `--help` and the code never disagree.
"""

import argparse
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

from gan.errors import UsageError

DESCRIPTION = "Train the tutorial's MLP GAN on MNIST, exporting the Generator after every epoch."

# Named recipes. "tutorial" is the seed's recipe (PyTorch's Adam betas (0.9, 0.999), hard labels,
# raw weights exported). "stable" is the best change measured (README has the ablation): an R1
# gradient penalty (gamma 1; 4 and 10 were close behind) keeps D smooth around the real digits,
# so Adam beta1 0.5 no longer collapses and G learns several times faster; an exponential moving
# average of G's weights (about 1.7 epochs long) is exported. Label smoothing, the previous stable
# recipe, is not needed with R1. "fast" is the live run's start (the app's Train tab): stable with
# five times the learning rate (1e-3) and a 100-step EMA instead of a 1000-step one, so that all ten
# digits come by epoch 3 (seeds 0, 1 and 2; 4e-4 needed 4-5 epochs; docs/benchmarks.md). A field given
# on the command line overrides the recipe's value.
RECIPES = {
    "tutorial": {"lr": 2e-4, "beta1": 0.9, "ema": 0.0, "label_smoothing": 0.0, "lr_decay": "none", "r1": 0.0},
    "stable": {"lr": 2e-4, "beta1": 0.5, "ema": 0.999, "label_smoothing": 0.0, "lr_decay": "none", "r1": 1.0},
    "fast": {"lr": 1e-3, "beta1": 0.5, "ema": 0.99, "label_smoothing": 0.0, "lr_decay": "none", "r1": 1.0},
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
    "precision",  # bf16 GEMMs round differently: a run continued in the other would be neither
)
STEPS = ("fast", "autograd")  # gan.step's two ways of computing one training step
PRECISIONS = ("fp32", "bf16")  # the fast step's GEMM precision


def option(default: object, help: str, choices: tuple[str, ...] | None = None) -> dataclasses.Field:
    """A field whose flag's help text (and allowed values) sit beside its default."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    epochs: int = option(200, "passes over the training set (the tutorial's usual length)")
    batch_size: int = option(100, "images per step (tutorial: 100)")
    lr: float | None = option(None, "Adam learning rate for both models (tutorial: 0.0002)")
    latent_dim: int = option(100, "size of the noise vector z (tutorial: 100)")
    hidden_dim: int = option(256, "width of both MLPs' hidden layers (tutorial: 256)")
    recipe: str = option(
        "tutorial", f"preset for {' / '.join(RECIPES['tutorial'])} (fast: the app's live run)", tuple(RECIPES)
    )
    beta1: float | None = option(None, "Adam beta1")
    ema: float | None = option(
        None, "decay of an exponential moving average of G's weights, exported instead of G (0 = off)"
    )
    label_smoothing: float | None = option(None, "one-sided: D's target for real images is 1 - this")
    lr_decay: str | None = option(
        None, "none, or linear: both learning rates fall linearly to 0 over --epochs", ("none", "linear")
    )
    r1: float | None = option(None, "weight gamma of the R1 penalty gamma/2 * |grad_x D(x)|^2 on real images (0 = off)")
    seed: int = option(0, "seeds weights, shuffling and noise; the fixed sample latents use it too")
    dataset: str = option(
        "mnist", "mnist (torchvision files in --data-dir) or fake (small generated stand-in)", ("mnist", "fake")
    )
    fake_size: int = option(600, "images in the fake dataset")
    data_dir: str = option("data", "holds MNIST/raw/*-ubyte (downloaded there when online)")
    out: str = option("runs/mnist", "run folder: epoch-NNN/, samples/, metrics.json, checkpoint.pt")
    device: str = option("auto", "auto = cuda, then mps, then cpu")
    resume: bool = option(
        False, "continue the run in --out from its last completed epoch (an empty or missing --out starts one)"
    )
    classifier: str = option("weights/classifier", "judge for per-epoch FID/IS; skipped when missing ('' = off)")
    eval_every: int = option(1, "score every Nth epoch (and the last)")
    eval_samples: int = option(2000, "generated images scored per evaluation (gan.evaluate uses 10,000)")
    push_to_hub: str | None = option(None, "USER/REPO: upload each finished epoch to the Hugging Face Hub")
    steps_per_epoch: int = option(0, "stop each epoch after this many steps (0 = whole set); for quick checks")
    step: str = option("fast", "the training step: fast (backward written by hand) or autograd (the definition)", STEPS)
    precision: str = option(
        "fp32",
        "the fast step's GEMMs: fp32, or bf16 (faster where the CPU has bf16 or AMX; weights stay fp32)",
        PRECISIONS,
    )
    threads: int = option(
        0, "torch threads for training (0 = auto: every 100 steps, the faster of one per core and one)"
    )
    preview_every: float = option(
        1.0, "seconds of training between drawings of the fixed latents into OUT/preview.png (0 = none)"
    )
    progress: bool = option(True, "show a tqdm bar per epoch")

    def resolved(self) -> "TrainConfig":
        """Fill recipe-dependent fields left as None."""
        if self.recipe not in RECIPES:
            raise UsageError(f"--recipe must be one of {', '.join(RECIPES)}, not {self.recipe!r}")
        preset = RECIPES[self.recipe]
        return dataclasses.replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})


def _flag_type(annotation: object) -> type:
    """int / float / str from a field's annotation (`float | None` -> float)."""
    if annotation in (int, float, str):
        return annotation
    return next(arg for arg in typing.get_args(annotation) if arg is not type(None))


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """Map TrainConfig's fields to snake-case flags, with the dataclass as the one source of defaults."""
    parser = argparse.ArgumentParser(prog="python -m gan.train", description=DESCRIPTION)
    for item in dataclasses.fields(TrainConfig):
        flag = "--" + item.name.replace("_", "-")
        default = "from --recipe" if item.name in RECIPES["tutorial"] else item.default
        help_text = f"{item.metadata['help']} (default: {default})"
        if item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=item.default, help=help_text)
        else:
            flag_type, choices = _flag_type(item.type), item.metadata["choices"]
            parser.add_argument(flag, type=flag_type, default=item.default, choices=choices, help=help_text)
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
    if not (cfg.preview_every >= 0 and math.isfinite(cfg.preview_every)):
        raise UsageError(f"--preview-every must be 0 (none) or a number of seconds, got {cfg.preview_every}")
    if cfg.threads < 0:
        raise UsageError(f"--threads must be 0 (torch's default) or positive, got {cfg.threads}")
    if cfg.precision not in PRECISIONS:
        raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}, not {cfg.precision!r}")
    if cfg.precision != "fp32" and cfg.step != "fast":
        raise UsageError(f"--precision {cfg.precision} needs --step fast (the autograd step is the fp32 definition)")
    if cfg.step not in STEPS:
        raise UsageError(f"--step must be one of {', '.join(STEPS)}, not {cfg.step!r}")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
