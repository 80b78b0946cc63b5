"""When a run first reached each quality milestone, from its metrics.json alone.

    python -m gan.milestones weights/tutorial weights/stable    # a Markdown table, one row per run

A milestone is reached at the first epoch whose per-epoch scoring meets it; the training time is
the sum of `epoch_seconds` up to that epoch (wall clock on the machine that trained the run).
"""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from gan.errors import UsageError, run_cli
from gan.layout import read_metrics
from gan.metrics import DIGIT_SHARE, digits_drawn

MILESTONES: dict[str, Callable[[dict], bool]] = {
    # a record scored before the judge could say "not a digit" counted noise as digits: it never counts here
    f"all ten digits (each ≥ {DIGIT_SHARE:.0%})": lambda r: (
        "not_a_digit" in r and len(digits_drawn(r.get("class_histogram") or [])) == 10
    ),
    "IS ≥ 7": lambda r: r.get("inception_score", 0.0) >= 7,
    "FID ≤ 100": lambda r: r.get("fid", float("inf")) <= 100,
}


def first_epochs(records: list[dict]) -> dict[str, tuple[int, float] | None]:
    """For each milestone, (first epoch that meets it, training seconds up to it), or None if never."""
    found: dict[str, tuple[int, float] | None] = dict.fromkeys(MILESTONES)
    elapsed = 0.0
    for record in sorted(records, key=lambda r: r["epoch"]):
        elapsed += record.get("epoch_seconds", record.get("train_seconds", 0.0))
        for name, reached in MILESTONES.items():
            if found[name] is None and "fid" in record and reached(record):
                found[name] = (record["epoch"], elapsed)
    return found


def describe(found: tuple[int, float] | None) -> str:
    """(12, 95.3) -> 'epoch 12 (1.6 min)'; None -> 'not reached'."""
    if found is None:
        return "not reached"
    epoch, seconds = found
    return f"epoch {epoch} ({seconds / 60:.1f} min)"


def table(runs: dict[str, list[dict]]) -> str:
    """A Markdown table: one row per run, one column per milestone."""
    lines = ["| run | " + " | ".join(MILESTONES) + " |", "|---" * (len(MILESTONES) + 1) + "|"]
    for name, records in runs.items():
        found = first_epochs(records)
        lines.append(f"| {name} | " + " | ".join(describe(found[m]) for m in MILESTONES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan.milestones", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders (each with a metrics.json)")
    args = parser.parse_args(argv)
    runs = {}
    for folder in args.runs:
        records = read_metrics(folder).get("epochs", [])
        if not records:
            raise UsageError(f"{folder} has no metrics.json records")
        runs[Path(folder).name] = records
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
