"""What the person sees next to an image: an epoch's numbers as small HTML cards, and plot tables."""

import html

import pandas as pd

from demo.engine import Run
from gan.layout import METRICS
from gan.metrics import DIGIT_SHARE, digits_drawn
from gan.milestones import MILESTONES, describe, first_epochs

NOT_A_DIGIT_GREY = "#9ca3af"  # the "not a digit" bar of a histogram


def number(value: float | None, digits: int = 3) -> str:
    """A short rendering of a metric: 'n/a' when absent, 3 significant figures from 100 up."""
    if not isinstance(value, (int, float)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def card(title: str, value: str, detail: str) -> str:
    return (
        f'<div class="stat"><small>{html.escape(title)}</small><b>{html.escape(value)}</b>'
        f"<small>{html.escape(detail)}</small></div>"
    )


def valid_histogram(histogram: object) -> bool:
    """metrics.json's class_histogram: ten shares, one per digit."""
    return (
        isinstance(histogram, list)
        and len(histogram) == 10
        and all(isinstance(h, (int, float)) and not isinstance(h, bool) for h in histogram)
    )


def judged(record: dict) -> bool:
    """The record was scored by a judge that can say "not a digit" (older records counted noise as digits)."""
    return isinstance(record.get("not_a_digit"), (int, float)) and valid_histogram(record.get("class_histogram"))


def samples_text(record: dict) -> str:
    """'2,000 samples' (N, the judge's own samples of that epoch, not a grid on screen)."""
    count = record.get("eval_samples")
    return f"{count:,} samples" if isinstance(count, int) else "its samples"


def digits_card(record: dict) -> str:
    """The 'Digits drawn' card: digits with at least DIGIT_SHARE of N accepted samples each, N shown; for a record
    scored without the "not a digit" test, a card that says so instead of a count that includes noise."""
    if judged(record):
        drawn = len(digits_drawn(record["class_histogram"]))
        detail = f"each ≥ {DIGIT_SHARE:.0%} of {samples_text(record)}; {record['not_a_digit']:.0%} not a digit"
        return card("Digits drawn", f"{drawn}/10", detail)
    if "class_histogram" in record:
        return card("Digits drawn", "?", "scored before the judge could say 'not a digit'")
    return ""


def histogram_html(
    histogram: list[float], title: str = "Which digits (classifier)", color: str = "", not_a_digit: float | None = None
) -> str:
    """Ten bars, one per digit, and a grey one for "not a digit" when given, scaled to the largest; the share
    shows on hover."""
    shares = [*histogram, *([not_a_digit] if not_a_digit is not None else [])]
    top = max(max(shares), 1e-9)
    fill = f"background:{color};" if color else ""
    bars = "".join(
        f'<i style="{fill}height:{max(2, round(100 * h / top))}%" title="{d}: {h:.1%}"></i>'
        for d, h in enumerate(histogram)
    )
    labels = "".join(f"<span>{d}</span>" for d in range(10))
    if not_a_digit is not None:
        height = max(2, round(100 * not_a_digit / top))
        bars += f'<i style="background:{NOT_A_DIGIT_GREY};height:{height}%" title="not a digit: {not_a_digit:.1%}"></i>'
        labels += '<span title="not a digit">✗</span>'
    return (
        f'<div class="stat" style="min-width:12rem"><small>{html.escape(title)}</small>'
        f'<div class="hist">{bars}</div><div class="hist-labels">{labels}</div></div>'
    )


def record_histogram_html(record: dict, title: str, color: str = "") -> str:
    """A record's class histogram: the share of its N judged samples accepted as each digit, and the grey bar
    for "not a digit"; the title says which pictures it describes."""
    described = f"{title} · {samples_text(record)} judged, not the grid on screen; ✗ = not a digit"
    return histogram_html(record["class_histogram"], described, color, record.get("not_a_digit"))


def run_histogram_html(name: str, run: Run, epoch: int, color: str) -> str:
    """One run's class histogram at `epoch` (metrics.json's class_histogram), with its drawn digits and rarest."""
    record = run.records.get(epoch, {})
    histogram = record.get("class_histogram")
    if not valid_histogram(histogram):
        missing = html.escape(f"{name}, epoch {epoch}: no class histogram in {METRICS}")
        return f'<div class="stat"><small>{missing}</small></div>'
    if judged(record):
        rarest = min(range(10), key=lambda d: histogram[d])
        drawn = (
            f"{len(digits_drawn(histogram))}/10 digits drawn (each ≥ {DIGIT_SHARE:.0%} of N), "
            f"rarest {rarest} at {histogram[rarest]:.1%}"
        )
    else:
        drawn = "scored before the judge could say 'not a digit'"
    title = f"{name}, epoch {epoch}: {drawn}"
    return f'<div class="stats">{record_histogram_html(record, title, color)}</div>'


def milestones_markdown(runs: dict[str, Run]) -> str:
    """One line per run: the first epoch (and training time) of each milestone in gan.milestones."""
    lines = []
    for name, run in runs.items():
        if not any("fid" in record for record in run.records.values()):
            lines.append(f"**{name}**: no quality measures in {METRICS}")
            continue
        found = first_epochs(list(run.records.values()))
        lines.append(f"**{name}**: " + " · ".join(f"{goal}: {describe(found[goal])}" for goal in MILESTONES))
    return "First reached (training time in brackets)  \n" + "  \n".join(lines)


def stats_html(run: Run, epoch: int, note: str = "") -> str:
    """The epoch's training record and quality measures as small cards."""
    record = run.records.get(epoch, {})
    reference = run.reference
    cards = [card("Epoch", str(epoch), f"of {max(run.generators)}")]
    if record:
        cards += [
            card("D(x)", number(record.get("d_real")), "D's score on real digits"),
            card("D(G(z))", number(record.get("d_fake")), "D's score on fakes"),
            card("D loss", number(record.get("d_loss")), "G loss " + number(record.get("g_loss"))),
        ]
    if "fid" in record:
        floor = reference.get("fid")
        detail = f"real data {number(floor, 2)}" if isinstance(floor, (int, float)) else "lower is better"
        cards.append(card("FID", number(record["fid"], 3), detail))
    if "inception_score" in record:
        floor = reference.get("inception_score")
        detail = f"real data {number(floor, 3)}" if isinstance(floor, (int, float)) else "higher is better, max 10"
        cards.append(card("IS", number(record["inception_score"], 3), detail))
    cards.append(digits_card(record))
    if valid_histogram(record.get("class_histogram")):
        cards.append(record_histogram_html(record, "Which digits (classifier)"))
    if not record:
        cards.append('<div class="stat"><small>No training record for this epoch in metrics.json</small></div>')
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'{note_html}<div class="stats">{"".join(cards)}</div>'


def labels_html(sentence: str) -> str:
    """The digits the classifier sees in a grid (or why it cannot), as one line above the cards."""
    return f'<p class="labels-line">{html.escape(sentence)}</p>' if sentence else ""


def series_frame(
    run: Run,
    epoch: int,
    series: dict[str, str],
    reference_key: str | None = None,
    bounds: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Long-format (epoch, value, series) rows of metrics.json keys, the real-data floor and a line at `epoch`."""
    records = [run.records[e] for e in sorted(run.records)]
    rows = [
        (r["epoch"], float(r[key]), label)
        for key, label in series.items()
        for r in records
        if isinstance(r.get(key), (int, float))
    ]
    floor = run.reference.get(reference_key) if reference_key else None
    if isinstance(floor, (int, float)) and rows:
        first, last = min(run.generators), max(run.generators)
        rows += [(first, float(floor), "real data"), (last, float(floor), "real data")]
    if rows:
        values = [v for _, v, _ in rows]
        low, high = bounds or (min(values), max(values))
        rows += [(epoch, low, "now"), (epoch, high, "now")]
    return pd.DataFrame(rows, columns=["epoch", "value", "series"])


def metric_frames(run: Run, epoch: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Timeline's four plots (losses, D outputs, FID, IS), each with a vertical line at `epoch`."""
    return (
        series_frame(run, epoch, {"d_loss": "D loss", "g_loss": "G loss"}),
        series_frame(run, epoch, {"d_real": "D(x) on real", "d_fake": "D(G(z)) on fake"}, bounds=(0.0, 1.0)),
        series_frame(run, epoch, {"fid": "FID"}, "fid"),
        series_frame(run, epoch, {"inception_score": "IS"}, "inception_score"),
    )


def runs_frame(runs: dict[str, Run], epoch: int, key: str) -> pd.DataFrame:
    """Long-format rows of one metrics.json key for several runs (series = run name), the real-data floor
    (from the first run that records one) and a vertical line at `epoch`."""
    rows = [
        (r["epoch"], float(r[key]), name)
        for name, run in runs.items()
        for r in (run.records[e] for e in sorted(run.records))
        if isinstance(r.get(key), (int, float))
    ]
    floors = [run.reference.get(key) for run in runs.values()]
    floor = next((f for f in floors if isinstance(f, (int, float))), None)
    if rows and floor is not None:
        first, last = min(e for e, _, _ in rows), max(e for e, _, _ in rows)
        rows += [(first, float(floor), "real data"), (last, float(floor), "real data")]
    if rows:
        values = [v for _, v, _ in rows]
        rows += [(epoch, min(values), "now"), (epoch, max(values), "now")]
    return pd.DataFrame(rows, columns=["epoch", "value", "series"])
