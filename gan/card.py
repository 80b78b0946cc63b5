"""The root model card of a weights folder / Hub repo: metadata, epochs and tags, per-epoch quality, recipe, usage."""

from pathlib import Path

from huggingface_hub import ModelCardData

from gan.io import atomic_write_bytes
from gan.layout import (
    CARD,
    DISCRIMINATOR,
    EPOCH_FILES,
    METRICS,
    PROGRESSION,
    QUALITY,
    SAMPLES,
    discriminator_folder,
    epoch_folders,
    epoch_name,
    read_metrics,
    sample_path,
)

PLACEHOLDER_REPO = "USER/REPO"
# Settings worth showing in the recipe table, in this order (the rest of metrics["config"] is run plumbing).
RECIPE_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "beta1",
    "ema",
    "label_smoothing",
    "lr_decay",
    "r1",
    "latent_dim",
    "hidden_dim",
    "recipe",
    "seed",
    "dataset",
)
# (metrics key, column title, format)
QUALITY_COLUMNS = (
    ("fid", "FID ↓", "{:.2f}"),
    ("inception_score", "IS ↑", "{:.2f}"),
    ("not_a_digit", "not a digit", "{:.1%}"),
    ("digits_present", "digits drawn", "{}/10"),
    ("d_real", "D(x)", "{:.3f}"),
    ("d_fake", "D(G(z))", "{:.3f}"),
)


def card_metadata() -> ModelCardData:
    return ModelCardData(
        library_name="pytorch",
        tags=["gan", "mnist", "image-generation", "pytorch_model_hub_mixin"],
        datasets=["mnist"],
        license="mit",
        pipeline_tag="unconditional-image-generation",
    )


def _cell(record: dict, key: str, fmt: str) -> str:
    value = record.get(key)
    return "–" if value is None else fmt.format(value)


def quality_table(metrics: dict, epochs: list[int]) -> str:
    """Markdown table, one row per epoch in `epochs`, with the real-data floor first when metrics has one."""
    header = "| epoch | " + " | ".join(title for _, title, _ in QUALITY_COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(QUALITY_COLUMNS) + 1)]
    reference = metrics.get("reference")
    if reference:
        lines.append(
            "| real data (floor) | " + " | ".join(_cell(reference, k, f) for k, _, f in QUALITY_COLUMNS) + " |"
        )
    for record in metrics.get("epochs", []):
        if record["epoch"] not in epochs:
            continue
        lines.append(f"| {record['epoch']} | " + " | ".join(_cell(record, k, f) for k, _, f in QUALITY_COLUMNS) + " |")
    return "\n".join(lines)


def recipe_table(config: dict) -> str:
    rows = [f"| `{key}` | `{config[key]}` |" for key in RECIPE_KEYS if key in config]
    return "\n".join(["| setting | value |", "|---|---|", *rows]) if rows else f"(no recipe recorded in {METRICS})"


def sample_picture(folder: Path, last_epoch: int | None) -> str | None:
    """Repo-relative path of the picture to show: a progression image if there is one, else the last epoch's grid."""
    for candidate in (PROGRESSION, f"{SAMPLES}/{PROGRESSION}"):
        if (folder / candidate).is_file():
            return candidate
    if last_epoch is not None and sample_path(folder, last_epoch).is_file():
        return sample_path("", last_epoch).as_posix()
    return None


def epoch_ranges(epochs: list[int]) -> str:
    """[1, 2, 3, 5, 10] -> '1-3, 5, 10': consecutive epochs as one range."""
    runs: list[list[int]] = []
    for epoch in sorted(epochs):
        if runs and epoch == runs[-1][-1] + 1:
            runs[-1].append(epoch)
        else:
            runs.append([epoch])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)


def render_card(metrics: dict, folder: Path, repo_id: str | None = None) -> str:
    """The whole card for a weights folder whose metrics document is `metrics`."""
    repo_id = repo_id or PLACEHOLDER_REPO
    recorded = [record["epoch"] for record in metrics.get("epochs", [])]
    # The folder may keep a subset of the trained epochs: describe those that are there.
    folders = epoch_folders(folder) if folder.is_dir() else {}
    saved = list(folders)
    epochs = saved or recorded
    with_discriminator = [epoch for epoch, path in folders.items() if discriminator_folder(path) is not None]
    last = max(epochs) if epochs else None
    example = epoch_name(last or 10)
    example_has_d = last in with_discriminator
    picture = sample_picture(folder, last)
    parts = [
        f"---\n{card_metadata().to_yaml()}\n---",
        "# MNIST MLP GAN, one Generator per epoch",
        "The tutorial's MLP GAN (G: 100→256→256→784, ReLU, Tanh; D: 784→256→256→1, LeakyReLU 0.2) trained "
        "with BCE and Adam, its Generator exported after every epoch so you can watch it learn. "
        f"Each `epoch-NNN/` folder holds the Generator's {' and '.join(f'`{name}`' for name in EPOCH_FILES)}; "
        "this repo has "
        f"{len(epochs)} epochs of a {max(recorded, default=len(epochs))}-epoch run.",
    ]
    if with_discriminator:
        every = "every epoch" if with_discriminator == saved else f"epochs {epoch_ranges(with_discriminator)}"
        parts.append(
            f"The Discriminator, the other half of the game, is saved too ({every}): `epoch-NNN/{DISCRIMINATOR}/` "
            "holds its own `config.json` and `model.safetensors`, **stored in half precision (float16)**: it is only "
            "asked for scores and gradients, never trained from these files, and half the bytes keep the repo small. "
            "Load it in float32 as below."
        )
    if picture:
        if picture.endswith(PROGRESSION):
            caption = "One row per epoch, the same latents in every column"
        else:
            caption = "Samples" if last is None else f"The same fixed latents, epoch {last}"
        parts.append(f"![{caption}]({picture})")
    if epochs:
        first_tag, last_tag = epoch_name(min(epochs)), epoch_name(max(epochs))
        parts += [
            "## Epochs and tags",
            f"Epochs: {epoch_ranges(epochs)}. Each is tagged `epoch-NNN` (`{first_tag}` … `{last_tag}`) on the "
            f'commit that added it: `snapshot_download("{repo_id}", revision="{example}")` gives the repo as it '
            "stood then.",
        ]
    parts += [
        "## Quality per epoch",
        "FID and Inception Score come from a small MNIST classifier (not Inception-v3), so they compare epochs "
        "of this repo, not papers. *not a digit*: the share of samples the classifier rejects as no digit at all "
        "(noise, blobs). *digits drawn*: how many of the 10 digits are at least 2% of the samples, counting only "
        "samples accepted as digits. "
        "D(x), D(G(z)): the discriminator's mean output on real and generated images during the epoch.",
        *([f"![FID and IS against epoch]({QUALITY})"] if (folder / QUALITY).is_file() else []),
        quality_table(metrics, epochs),
        "## Recipe",
        recipe_table(metrics.get("config", {})),
        "## Load one epoch",
        "With this project's `gan` package on the path:",
        "```python\n"
        "import torch\nfrom huggingface_hub import snapshot_download\n"
        f"from gan import {'Discriminator, ' if example_has_d else ''}Generator\n\n"
        f'folder = snapshot_download("{repo_id}", allow_patterns=["{example}/*"])\n'
        f'generator = Generator.from_pretrained(f"{{folder}}/{example}", strict=True)\n'
        "images = generator(torch.randn(16, generator.latent_dim))  # (16, 784) in [-1, 1]\n"
        + (
            f'discriminator = Discriminator.from_pretrained(f"{{folder}}/{example}/{DISCRIMINATOR}", strict=True)\n'
            "discriminator = discriminator.float()  # stored in half precision; compute in float32\n"
            "scores = discriminator(images)  # (16, 1): how sure D is that each picture is a real digit\n"
            if example_has_d
            else ""
        )
        + "```",
        "To watch all epochs, run the app against this repo: `python app.py --weights " + repo_id + "`.",
    ]
    return "\n\n".join(parts) + "\n"


def write_card(folder: str | Path, repo_id: str | None = None, metrics: dict | None = None) -> Path:
    """Write the card into `folder` (atomically) from its metrics; returns the card's path."""
    folder = Path(folder)
    text = render_card(read_metrics(folder) if metrics is None else metrics, folder, repo_id)
    path = folder / CARD
    atomic_write_bytes(path, text.encode())
    return path
