"""Figures for the README and the model card, drawn from a weights folder by the app's own engine.

    python -m demo.figures weights/

Writes WEIGHTS/progression.png (one row per epoch, the same latents in every row) and
WEIGHTS/quality.png (FID and Inception Score against epoch from metrics.json, real-data floor dashed).
"""

import argparse
import sys
from pathlib import Path

from demo.engine import Engine, RunError, load_run
from gan.errors import UsageError, run_cli
from gan.layout import PROGRESSION, QUALITY

PROGRESSION_EPOCHS = (1, 2, 3, 5, 10, 20, 30, 50, 100, 150, 200)


def quality_plot(records: dict[int, dict], reference: dict, path: Path, title: str) -> None:
    """FID (log scale) and IS against epoch, each with its real-data floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = sorted(e for e, r in records.items() if "fid" in r)
    if not scored:
        raise UsageError("metrics.json has no FID/IS records (train with a classifier in weights/classifier)")
    figure, (fid_axis, is_axis) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=110)
    for axis, key, label, log in (
        (fid_axis, "fid", "FID (lower is better)", True),
        (is_axis, "inception_score", "classifier IS (higher is better)", False),
    ):
        axis.plot(scored, [records[e][key] for e in scored], color="#5b4bd6", linewidth=1.4, label="generated")
        if key in reference:
            axis.axhline(
                reference[key],
                color="#2a9d4a",
                linestyle="--",
                linewidth=1.2,
                label=f"real data ({reference[key]:.2f})",
            )
        axis.set_xlabel("epoch")
        axis.set_title(label, fontsize=11)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=9)
        if log:
            axis.set_yscale("log")
    samples = records[scored[-1]].get("eval_samples")
    figure.suptitle(f"{title}: {samples:,} samples per epoch" if samples else title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("weights_dir", type=Path, help="a folder written by python -m gan.train")
    parser.add_argument(
        "--seed", type=int, default=0, help="latent bank of the progression rows (default: 0, the trainer's own)"
    )
    parser.add_argument("--columns", type=int, default=10, help="latents per row (default: 10)")
    parser.add_argument("--title", default="Tutorial recipe", help="title of the quality plot")
    args = parser.parse_args(argv)
    try:
        run = load_run(args.weights_dir)
    except RunError as err:
        raise UsageError(str(err)) from None
    engine = Engine(run)
    epochs = sorted({engine.nearest_epoch(e) for e in PROGRESSION_EPOCHS})
    progression, quality = args.weights_dir / PROGRESSION, args.weights_dir / QUALITY
    engine.progression(epochs, args.seed, args.columns).save(progression)
    quality_plot(run.records, run.reference, quality, args.title)
    print(f"wrote {progression} (epochs {', '.join(map(str, epochs))}) and {quality}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
