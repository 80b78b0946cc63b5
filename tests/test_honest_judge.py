"""The honest judge where a learner meets it: the Digits card, histograms, milestones and the Train tab's small
promises (one-point plots, a Stop with nothing to stop, unique live run names). Cheap: no app, no trainer."""

import pytest

from demo.live import NAME, LiveOptions, LiveStatus, LiveTrainer
from demo.stats import digits_card, record_histogram_html, run_histogram_html
from demo.tabs.train import DASH, frame, message_line, status_html
from gan.milestones import first_epochs

TEN = [0.095] * 10  # ten digits, each 9.5% of N


def record(epoch: int, histogram: list[float], not_a_digit: float | None, **extra) -> dict:
    out = {"epoch": epoch, "class_histogram": histogram, "eval_samples": 2000, "fid": 50.0, **extra}
    return out if not_a_digit is None else {**out, "not_a_digit": not_a_digit}


def test_digits_card_counts_accepted_digits_of_n_and_refuses_an_unjudged_record():
    card = digits_card(record(5, [0.3, 0.019] + [0.02] * 8, 0.52))
    assert "<b>9/10</b>" in card and "each ≥ 2% of 2,000 samples" in card and "52% not a digit" in card
    old = digits_card(record(5, TEN, None))  # scored before the judge could reject: no count that includes noise
    assert "<b>?</b>" in old and "not a digit" in old
    assert digits_card({"epoch": 1}) == ""


def test_histograms_say_which_pictures_they_describe_and_show_not_a_digit():
    html = record_histogram_html(record(3, [0.0] * 9 + [0.1], 0.9), "Which digits")
    assert "2,000 samples judged, not the grid on screen" in html and 'title="not a digit: 90.0%"' in html
    assert html.count("<i ") == 11  # ten digits and the grey "not a digit" bar


def test_milestone_all_ten_digits_needs_a_judged_record():
    records = [record(1, TEN, None, epoch_seconds=10), record(2, TEN, 0.05, epoch_seconds=10)]
    found = first_epochs(records)
    assert found["all ten digits (each ≥ 2%)"] == (2, 20)


def test_compare_histogram_title_uses_the_same_rule():
    class Run:
        records = {4: record(4, [0.5, 0.02] + [0.0] * 8, 0.48)}

    html = run_histogram_html("tutorial", Run(), 4, "#123")
    assert "2/10 digits drawn (each ≥ 2% of N)" in html


def test_a_one_point_series_is_drawn_as_a_dash_ending_at_its_epoch():
    table = frame(({"epoch": 1, "fid": 300.0},), {"fid": "FID"}, 1.0)
    fid = table[table.series == "FID"]
    assert sorted(fid.epoch.tolist()) == [1 - DASH, 1] and set(fid.value) == {300.0}
    assert table.epoch.max() == 1  # nothing drawn after the last finished epoch
    two = frame(({"epoch": 1, "fid": 3.0}, {"epoch": 2, "fid": 2.0}), {"fid": "FID"})
    assert two.epoch.tolist() == [1, 2]  # two points: a line, no dash


def test_stop_with_nothing_training_is_one_line(tmp_path):
    status = LiveStatus(state="failed", name="live-101010", message="The trainer failed: no MNIST.")
    line = message_line(status, "Nothing is training: press Start to begin a live run.")
    assert line.count("<p") == 1 and "Nothing is training" in line and "no MNIST" in line
    assert status_html(status, "Nothing is training").count('class="note live-line') == 1


@pytest.mark.parametrize("name", ["live-095412", "live-0954", "live-095412-2"])
def test_live_run_names_carry_seconds(name, tmp_path):
    assert NAME.fullmatch(name)
    trainer = LiveTrainer(LiveOptions(root=tmp_path))
    new, folder = trainer._new_folder()
    assert NAME.fullmatch(new) and len(new) == len("live-HHMMSS") and folder == tmp_path / new
