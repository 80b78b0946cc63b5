"""Score per-epoch Generators: FID, classifier Inception Score, class balance, the share the judge calls
"not a digit", and optionally Parzen.

python -m gan.evaluate weights/ [--epochs 1 10 200] [--parzen] [--seed 1]
python -m gan.evaluate --recompute-reference --data-dir ../shared/data   # check the judge's shipped statistics
python -m gan.evaluate --write-reference --data-dir ../shared/data       # after retraining the judge

The judge's real-data statistics (the test set's feature mean and covariance, its class shares, and the real-vs-real
floor) are shipped beside its weights (gan.classifier.REFERENCE_FILE) and loaded, not recomputed, for MNIST.
"""

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from gan.classifier import REFERENCE_TENSORS, is_digit, judge, load_classifier, load_reference, predict, save_reference
from gan.data import denormalise, load_mnist, normalise
from gan.errors import UsageError, run_cli
from gan.io import atomic_write_json
from gan.layout import CHECKPOINT, METRICS, epoch_folders, read_metrics
from gan.metrics import (
    choose_parzen_sigma,
    class_histogram,
    digits_drawn,
    drawn_histogram,
    feature_stats,
    frechet_distance,
    inception_score,
    kl_divergence,
    parzen_log_likelihood,
)
from gan.models import Generator, load_generator

EVAL_SEED = 2014  # latents for scoring are the same for every epoch and every run
FLOOR_IMAGES = 10_000  # train images scored as if generated: the real-vs-real floor
IS_SPLITS = 10


class Evaluator:
    """Holds the judge classifier and the reference (test-set) statistics: computed once from `reference_images`,
    or, when none are given, the ones shipped with the classifier (MNIST's test set; `shipped_floor` is then the
    real-vs-real floor shipped with them). Loading the classifier draws from the global random state (its
    initial weights), with or without images."""

    def __init__(
        self,
        classifier_dir: str | Path,
        reference_images: torch.Tensor | None = None,
        reference_labels: torch.Tensor | None = None,
        device="cpu",
    ):
        self.device = torch.device(device)
        self.model = load_classifier(classifier_dir, self.device)
        self.shipped_floor = None
        if reference_images is None:
            shipped = load_reference(classifier_dir)
            if shipped is None:
                raise UsageError(
                    f"the classifier in {classifier_dir} has no reference statistics of its own; write them with "
                    "python -m gan.evaluate --write-reference --data-dir DATA"
                )
            tensors, info = shipped
            self.reference_mean, self.reference_cov = tensors["mean"], tensors["cov"]
            self.reference_histogram = tensors["histogram"]
            self.reference_count, self.shipped_floor = info["reference_images"], info["floor"]
            return
        features, _ = predict(self.model, normalise(reference_images).to(self.device))
        self.reference_mean, self.reference_cov = feature_stats(features.cpu())
        self.reference_histogram = class_histogram(reference_labels)
        self.reference_count = len(reference_images)

    def reference_tensors(self) -> dict[str, torch.Tensor]:
        return {"mean": self.reference_mean, "cov": self.reference_cov, "histogram": self.reference_histogram}

    def score_images(self, images: torch.Tensor) -> dict:
        """Figures for flattened images in [-1, 1] (N, 784), against the reference set. FID and IS read every
        image; the class histogram counts only the images the judge accepts as digits (its shares are of all N,
        so they sum to 1 - not_a_digit), and digits_present counts the digits drawn by gan.metrics' rule.
        class_kl, like IS, reads the classifier's labels of every image (how evenly they spread)."""
        features, probs, distance = judge(self.model, images.to(self.device))
        features, probs, accepted = features.cpu(), probs.cpu(), is_digit(distance).cpu()
        histogram = [round(float(share), 4) for share in drawn_histogram(probs.argmax(dim=1), accepted)]
        is_mean, is_std = inception_score(probs, IS_SPLITS)
        return {
            "fid": round(frechet_distance(*feature_stats(features), self.reference_mean, self.reference_cov), 4),
            "inception_score": round(is_mean, 4),
            "inception_score_std": round(is_std, 4),
            "class_histogram": histogram,  # rounded as stored, so the app's count below agrees with this one
            "not_a_digit": round(1 - float(accepted.double().mean()), 4),
            "digits_present": len(digits_drawn(histogram)),
            "rarest_digit_share": min(histogram),
            "class_kl": round(kl_divergence(class_histogram(probs.argmax(dim=1)), self.reference_histogram), 5),
        }

    @torch.no_grad()
    def sample(self, generator: Generator, count: int, seed: int = EVAL_SEED) -> torch.Tensor:
        """`count` images from fixed latents (its own RNG: training's random stream is untouched)."""
        noise = torch.randn(count, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
        device = next(generator.parameters()).device
        return torch.cat([generator(chunk.to(device)) for chunk in noise.split(5000)]).to(self.device)

    def evaluate(self, generator: Generator, count: int, seed: int = EVAL_SEED) -> dict:
        start = time.perf_counter()
        was_training = generator.training
        generator.eval()
        record = self.score_images(self.sample(generator, count, seed))
        generator.train(was_training)
        record.update(eval_samples=count, eval_seconds=round(time.perf_counter() - start, 3))
        return record

    def floor(self, real_images: torch.Tensor) -> dict:
        """Real-vs-real reference: real images (uint8) scored exactly as generated ones are."""
        record = self.score_images(normalise(real_images))
        record.update(eval_samples=len(real_images), reference_images=self.reference_count)
        return record


def reference_differences(shipped: tuple[dict, dict], computed: tuple[dict, dict]) -> list[str]:
    """What differs between two sets of reference statistics, (tensors, info) each, beyond float rounding
    across machines: one line per difference (none when they match)."""
    (shipped_tensors, shipped_info), (tensors, info) = shipped, computed
    found = []
    for name in REFERENCE_TENSORS:
        a, b = shipped_tensors[name].double(), tensors[name].double()
        if a.shape != b.shape or not torch.allclose(a, b, rtol=1e-4, atol=1e-6):
            gap = float((a - b).abs().max()) if a.shape == b.shape else float("nan")
            found.append(f"{name}: shapes {tuple(a.shape)} / {tuple(b.shape)}, largest gap {gap:.3g}")
    for key in ("reference_images", "floor_images"):
        if shipped_info.get(key) != info.get(key):
            found.append(f"{key}: shipped {shipped_info.get(key)}, recomputed {info.get(key)}")
    for key in ("fid", "inception_score", "digits_present", "rarest_digit_share", "class_kl"):
        a, b = shipped_info["floor"].get(key), info["floor"].get(key)
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        if not (numbers and math.isclose(a, b, rel_tol=1e-3, abs_tol=2e-4)):
            found.append(f"floor {key}: shipped {a}, recomputed {b}")
    return found


def parzen(
    generator: Generator,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    samples: int = 10_000,
    seed: int = EVAL_SEED,
) -> dict:
    """Goodfellow et al. 2014 protocol: sigma from logspace(-1, 0, 10) on 1,000 held-out train images,
    then mean +- standard error of log p(x) over the test images; pixels in [0, 1]."""
    with torch.no_grad():
        noise = torch.randn(samples, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
        generated = denormalise(generator(noise))
    validation = train_images[-1000:].reshape(1000, -1).double() / 255
    sigmas = torch.logspace(-1, 0, 10)
    sigma, _ = choose_parzen_sigma(generated, validation, sigmas)
    log_likelihood = parzen_log_likelihood(generated, test_images.reshape(len(test_images), -1).double() / 255, sigma)
    stderr = float(log_likelihood.std() / math.sqrt(len(log_likelihood)))
    return {
        "parzen": round(float(log_likelihood.mean()), 2),
        "parzen_stderr": round(stderr, 2),
        "parzen_sigma": round(sigma, 4),
    }


def chosen_epochs(weights_dir: Path, epochs: list[int] | None) -> dict[int, Path]:
    """The epoch folders to score: all, or those asked for (each must be there)."""
    if not weights_dir.is_dir():
        raise UsageError(f"{weights_dir} is not a folder")
    found = epoch_folders(weights_dir)
    if not found:
        raise UsageError(f"{weights_dir} holds no epoch-NNN/ folders")
    if epochs:
        missing = sorted(set(epochs) - set(found))
        if missing:
            raise UsageError(
                f"epoch(s) {', '.join(map(str, missing))} not in {weights_dir} (it has {min(found)}-{max(found)})"
            )
        return {e: found[e] for e in sorted(set(epochs))}
    return dict(sorted(found.items()))


def load_epoch(folder: Path) -> Generator:
    try:
        return load_generator(folder)
    except Exception as err:
        raise UsageError(
            f"cannot load {folder} as a Generator ({type(err).__name__}: {str(err).splitlines()[0]})"
        ) from None


def checkpoint_generator(path: Path) -> tuple[str, Callable[[], Generator]]:
    """("raw N", loader) for the Generator being trained, as saved in a resume checkpoint after epoch N."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        config = state["config"]
        generator = Generator(config["latent_dim"], config["hidden_dim"])
        generator.load_state_dict(state["generator"])
    except (OSError, KeyError, RuntimeError) as err:
        raise UsageError(f"cannot read the raw Generator from {path} ({type(err).__name__})") from None
    return f"raw {state['epoch']}", lambda: generator.eval()


def format_table(rows: list[dict], floor: dict | None) -> str:
    columns = [
        ("epoch", "{}"), ("fid", "{:.2f}"), ("inception_score", "{:.2f}"), ("not_a_digit", "{:.1%}"),
        ("digits_present", "{}"),
        ("rarest_digit_share", "{:.1%}"), ("class_kl", "{:.4f}"), ("parzen", "{:.0f}"), ("parzen_stderr", "{:.1f}"),
    ]  # fmt: skip
    shown = rows or [{"epoch": "real", **(floor or {})}]  # no epochs scored: the floor's row alone
    columns = [(name, fmt) for name, fmt in columns if any(name in row for row in shown)]
    lines = [" | ".join(name for name, _ in columns)]
    for row in ([{**floor, "epoch": "real"}] if floor else []) + rows:
        lines.append(" | ".join(fmt.format(row[name]) if name in row else "-" for name, fmt in columns))
    return "\n".join(lines)


KEPT_FIELDS = ("epoch", "eval_seconds")  # --update-metrics keeps these of a record: the timing is training's


def update_metrics(run: Path, rows: list[dict], floor: dict) -> int:
    """Replace the quality fields of RUN/metrics.json's records for the scored epochs (their training fields and
    eval_seconds stay) and its real-data floor; returns how many records changed. Atomic."""
    metrics = read_metrics(run)
    records = {record["epoch"]: record for record in metrics.get("epochs", [])}
    missing = sorted(row["epoch"] for row in rows if row["epoch"] not in records)
    if missing:
        raise UsageError(f"{run / METRICS} has no record of epoch(s) {', '.join(map(str, missing))}")
    for row in rows:
        records[row["epoch"]].update({k: v for k, v in row.items() if k not in KEPT_FIELDS})
    metrics["reference"] = floor
    atomic_write_json(run / METRICS, metrics)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("weights_dir", type=Path, nargs="?", help="folder of epoch-NNN/ Generators")
    parser.add_argument("--epochs", type=int, nargs="+", help="only these epochs (default: all present)")
    parser.add_argument("--samples", type=int, default=10_000, help="generated images per epoch (default: 10000)")
    parser.add_argument("--classifier", default="weights/classifier", help="judge classifier folder")
    parser.add_argument("--data-dir", default="data", help="holds MNIST/raw/*-ubyte (default: data)")
    parser.add_argument(
        "--seed", type=int, default=EVAL_SEED, help=f"seed of the scored samples' latents (default: {EVAL_SEED})"
    )
    parser.add_argument(
        "--parzen", action="store_true", help="add the Parzen-window log-likelihood (Goodfellow et al. 2014)"
    )
    parser.add_argument("--json", type=Path, help="also write the rows (and the real-data floor) to this JSON file")
    parser.add_argument(
        "--raw-checkpoint",
        action="store_true",
        help=f"also score the raw Generator in WEIGHTS_DIR/{CHECKPOINT} (with --ema the epoch folders hold the EMA)",
    )
    parser.add_argument(
        "--update-metrics",
        type=Path,
        metavar="RUN",
        help=f"write the scores into RUN/{METRICS}: each scored epoch's quality fields and the real-data floor "
        "(training fields kept; use the --samples and --seed the run was scored with)",
    )
    parser.add_argument(
        "--recompute-reference",
        action="store_true",
        help="compute the judge's real-data statistics from --data-dir instead of loading the shipped ones, and "
        "check that the shipped ones match (exit code 2 if not)",
    )
    parser.add_argument(
        "--write-reference",
        action="store_true",
        help="compute them from --data-dir and write them beside the classifier (after retraining it)",
    )
    args = parser.parse_args(argv)
    if args.update_metrics is not None and not (args.update_metrics / METRICS).is_file():
        raise UsageError(f"--update-metrics: no {METRICS} in {args.update_metrics}")
    if args.samples < IS_SPLITS:
        raise UsageError(f"--samples must be at least {IS_SPLITS}, got {args.samples}")
    if args.weights_dir is None and not (args.recompute_reference or args.write_reference):
        raise UsageError("name a folder of epoch-NNN/ Generators (or pass --recompute-reference / --write-reference)")
    folders = chosen_epochs(args.weights_dir, args.epochs) if args.weights_dir is not None else {}
    train_images, test_images, test_labels = None, None, None
    if args.parzen or args.recompute_reference or args.write_reference or load_reference(args.classifier) is None:
        train_images, _ = load_mnist(args.data_dir, train=True)
        test_images, test_labels = load_mnist(args.data_dir, train=False)
    if test_images is None:
        evaluator = Evaluator(args.classifier)
        floor = evaluator.shipped_floor
    else:
        evaluator = Evaluator(args.classifier, test_images, test_labels)
        floor = evaluator.floor(train_images[:FLOOR_IMAGES])
        computed = evaluator.reference_tensors(), {
            "reference_images": evaluator.reference_count, "floor_images": floor["eval_samples"], "floor": floor
        }  # fmt: skip
        if args.recompute_reference:
            shipped = load_reference(args.classifier)
            if shipped is None:
                print(f"no shipped reference statistics for the classifier in {args.classifier}", file=sys.stderr)
            else:
                differences = reference_differences(shipped, computed)
                if differences:
                    raise UsageError(
                        f"the reference statistics shipped in {args.classifier} do not match the ones computed from "
                        f"{args.data_dir} ({'; '.join(differences)}); rewrite them with --write-reference"
                    )
                print(f"the shipped reference statistics in {args.classifier} match {args.data_dir}", file=sys.stderr)
        if args.write_reference:
            path = save_reference(args.classifier, *computed)
            print(f"wrote the reference statistics to {path}", file=sys.stderr)
    generators = ((epoch, lambda folder=folder: load_epoch(folder)) for epoch, folder in folders.items())
    if args.raw_checkpoint:
        generators = [*generators, checkpoint_generator(args.weights_dir / CHECKPOINT)]
    rows = []
    for epoch, load in generators:
        generator = load()
        row = {"epoch": epoch, **evaluator.evaluate(generator, args.samples, args.seed)}
        if args.parzen:
            row.update(parzen(generator, train_images, test_images, args.samples, args.seed))
        rows.append(row)
        print(f"{epoch}: FID {row['fid']:.2f}  IS {row['inception_score']:.2f}", file=sys.stderr)
    print(format_table(rows, floor))
    if args.json:
        document = {"real_data_floor": floor, "latent_seed": args.seed, "epochs": rows}
        args.json.write_text(json.dumps(document, indent=1) + "\n")
    if args.update_metrics is not None:
        numbered = [row for row in rows if isinstance(row["epoch"], int)]  # not the raw checkpoint's row
        count = update_metrics(args.update_metrics, numbered, floor)
        print(f"updated {count} record(s) and the real-data floor in {args.update_metrics / METRICS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
