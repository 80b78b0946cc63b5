"""The app end to end: launched on a free port with a folder of test runs, driven through gradio_client."""

import json
import shutil
import subprocess
import sys
from concurrent.futures import CancelledError
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import launched, perturbed_run
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from demo import endpoints
from demo.context import Facts
from demo.live import LiveOptions, LiveTrainer
from demo.runs import load_specs
from demo.tabs import train
from demo.ui import build_demo, examples

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = [-1, 10**12, "abc", None, 2.5, True, "9" * 20_000, [1, 2], {"path": "/etc/passwd"}]
RUNS = "'stable', 'tutorial'"  # how an error message lists the loaded runs (folder order)
# Valid arguments per endpoint, as the tab modules declare them for run "tutorial" (epochs 1 and 3 saved)
# and run "stable" (epochs 1-3); the fuzz test spoils one at a time.
FACTS = Facts(run="tutorial", first=1, last=3, other="stable")
EXAMPLES = examples(FACTS)
VALID = {f"/{name}": list(args.values()) for name, args in EXAMPLES.items()}
LIVE = set(train.examples(None))  # the Train tab's endpoints


def with_scores(metrics: dict, scores: dict[int, dict]) -> dict:
    """metrics.json with FID / IS / class histograms added to some epochs' records."""
    for record in metrics["epochs"]:
        record.update(scores.get(record["epoch"], {}))
    metrics["reference"] = {"fid": 0.8, "inception_score": 9.7}
    return metrics


@pytest.fixture(scope="module")
def app_weights(tiny_weights, tmp_path_factory) -> Path:
    """A folder of runs. tutorial/: epochs 1 and 3 (a gap at 2), plus a truncated epoch-004 and an empty
    epoch-005 that must be skipped; stable/: epochs 1-3 with perturbed weights; classifier/: not a run;
    broken/: a run with nothing usable, skipped and reported."""
    root = tmp_path_factory.mktemp("app-weights")
    folder = root / "tutorial"
    for epoch in (1, 3):
        shutil.copytree(tiny_weights / f"epoch-{epoch:03d}", folder / f"epoch-{epoch:03d}")
    shutil.copytree(tiny_weights / "epoch-003", folder / "epoch-004")
    (folder / "epoch-004" / "model.safetensors").write_bytes(b"\x08\x00\x00\x00")
    (folder / "epoch-005").mkdir()
    metrics = json.loads((tiny_weights / "metrics.json").read_text())
    last = {"fid": 12.5, "inception_score": 7.25, "digits_present": 10, "class_histogram": [0.1] * 10}
    last.update(not_a_digit=0.0, eval_samples=2000)
    (folder / "metrics.json").write_text(json.dumps(with_scores(metrics, {3: last})))
    stable = perturbed_run(tiny_weights, root / "stable")
    skewed = [0.5, 0.5] + [0.0] * 8  # two digits only
    scores = {
        1: {"fid": 300.0, "inception_score": 2.0, "class_histogram": skewed, "not_a_digit": 0.0},
        2: {"fid": 90.0, "inception_score": 7.5, "class_histogram": [0.1] * 10, "not_a_digit": 0.0},
        3: {"fid": 40.0, "inception_score": 8.0, "class_histogram": [0.1] * 10, "not_a_digit": 0.0},
    }
    metrics = json.loads((tiny_weights / "metrics.json").read_text())
    (stable / "metrics.json").write_text(json.dumps(with_scores(metrics, scores)))
    (root / "classifier").mkdir()
    (root / "classifier" / "info.json").write_text("{}")
    (root / "broken" / "epoch-001").mkdir(parents=True)
    return root


@pytest.fixture(scope="module")
def app_url(app_weights, tmp_path_factory):
    # Live training on, but with no MNIST to find: the Train tab's endpoints are all here and checked, yet a
    # Start that passes the checks ends at once without an epoch (tests/test_live_app.py trains for real).
    nowhere = tmp_path_factory.mktemp("no-mnist")
    live = LiveTrainer(LiveOptions(root=tmp_path_factory.mktemp("live"), data_dir=str(nowhere), threads=1))
    try:
        with launched(build_demo(load_specs([str(app_weights)]), live).queue(default_concurrency_limit=8)) as url:
            yield url
    finally:
        live.close()


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def load(path: str) -> Image.Image:
    image = Image.open(path)
    assert image.format == "PNG"
    return image


def test_api_lists_every_endpoint_with_the_run_first(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(VALID) == set(endpoints)  # every public endpoint has examples, so the fuzz test covers it
    for name, args in EXAMPLES.items():  # the declared examples name every parameter, in order
        assert [p["parameter_name"] for p in endpoints[f"/{name}"]["parameters"]] == list(args)
        if name in LIVE:  # the live run's endpoints: there is one live run, so no run to name
            continue
        assert list(args)[0] in ("run", "run_a")
        assert RUNS in endpoints[f"/{name}"]["description"]  # the API page says which runs there are
    assert list(EXAMPLES["compare"]) == ["run_a", "run_b", "epoch", "seed", "grid", "labels"]


def test_generate_images_are_exact_and_deterministic(client):
    image_path, stats = client.predict("tutorial", 3, 5, 4, api_name="/generate")
    image = load(image_path)
    width = 4 * 30 + 2
    assert image.mode == "L" and image.size[0] == image.size[1] and image.size[0] % width == 0
    same = np.asarray(load(client.predict("tutorial", 3, 5, 4, api_name="/generate")[0]))
    other = np.asarray(load(client.predict("tutorial", 3, 6, 4, api_name="/generate")[0]))
    assert np.array_equal(np.asarray(image), same)
    assert not np.array_equal(np.asarray(image), other)
    assert "FID" in stats and "12.5" in stats and "real data 0.8" in stats  # the epoch's quality numbers


def test_missing_epoch_snaps_to_nearest_saved(client):
    snapped, stats = client.predict("tutorial", 2, 5, 3, api_name="/timeline")
    exact, _ = client.predict("tutorial", 3, 5, 3, api_name="/timeline")
    assert np.array_equal(np.asarray(load(snapped)), np.asarray(load(exact)))
    assert "nearest saved epoch, 3" in stats
    early, _ = client.predict("tutorial", 1, 5, 3, api_name="/timeline")
    assert not np.array_equal(np.asarray(load(early)), np.asarray(load(exact)))
    stable, stable_stats = client.predict("stable", 2, 5, 3, api_name="/timeline")  # saved in this run
    assert "nearest" not in stable_stats
    assert not np.array_equal(np.asarray(load(stable)), np.asarray(load(snapped)))


def test_timeline_sheet_plots_and_gif(client):
    sheet = load(client.predict("tutorial", 5, 3, ["1", "3"], "", api_name="/progression"))
    assert sheet.mode == "L" and sheet.size[0] > sheet.size[1]
    losses, scores, quality, inception = client.predict("tutorial", 3, api_name="/plots")
    series = {row[2] for row in losses["data"]}
    assert {"D loss", "G loss", "now"} <= series
    assert [row[0] for row in scores["data"] if row[2] == "now"] == [3, 3]
    assert {"FID", "real data"} <= {row[2] for row in quality["data"]}
    assert {"IS", "real data", "now"} <= {row[2] for row in inception["data"]}
    stable_fid = client.predict("stable", 2, api_name="/plots")[2]
    assert [row[1] for row in stable_fid["data"] if row[2] == "FID"] == [300.0, 90.0, 40.0]  # that run's record
    gif_path = client.predict("tutorial", 5, 2, api_name="/timeline_gif")
    with Image.open(gif_path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 2  # epochs 1 and 3
    assert Path(gif_path).name == "tutorial-training-seed-5-2x2.gif"  # downloads are named after what they show


def test_progression_sheet_stacks_a_second_run_below(client):
    one = load(client.predict("tutorial", 5, 3, ["1", "3"], "", api_name="/progression"))
    two = load(client.predict("tutorial", 5, 3, ["1", "3"], "stable", api_name="/progression"))
    assert two.size[1] > 2 * one.size[1]  # both runs' two rows, and a band between the runs
    scale = one.size[1] // (2 * 32)  # two rows of 28 px tiles with 2 px padding above and below
    digits = (3 * 30 + 2) * scale  # the tiles' part of a row; the labels on its left are wider with run names
    assert np.array_equal(np.asarray(two)[: one.size[1], -digits:], np.asarray(one)[:, -digits:])  # run A on top


def test_interpolate_end_points_and_strip(client):
    start, caption = client.predict("tutorial", 3, 1, 2, 0.0, "slerp", api_name="/interpolate")
    seed_one = client.predict("tutorial", 3, 1, 1, api_name="/generate")[0]
    assert np.array_equal(np.asarray(load(start)), np.asarray(load(seed_one)))  # t=0 is seed A's first digit
    middle, _ = client.predict("tutorial", 3, 1, 2, 0.5, "slerp", api_name="/interpolate")
    assert not np.array_equal(np.asarray(load(start)), np.asarray(load(middle)))
    assert "length" in caption
    strip_path, gif_path = client.predict("tutorial", 3, 1, 2, 12, "lerp", api_name="/interpolation_strip")
    strip = load(strip_path)
    assert strip.mode == "L" and strip.size[0] > strip.size[1]
    with Image.open(gif_path) as gif:
        assert gif.n_frames == 2 * 12 - 2  # there and back


def test_edit_moves_the_digit_and_zero_edit_is_identity(client):
    digit, grid, caption = client.predict("tutorial", 3, 0, 3, 0, 0, 0, 0, 0, api_name="/edit")
    plain = client.predict("tutorial", 3, 0, 1, api_name="/generate")[0]
    assert np.array_equal(np.asarray(load(digit)), np.asarray(load(plain)))
    pushed, pushed_grid, _ = client.predict("tutorial", 3, 0, 3, 3.0, 0, 0, 0, 0, api_name="/edit")
    assert not np.array_equal(np.asarray(load(digit)), np.asarray(load(pushed)))
    assert load(pushed_grid).size == load(grid).size
    assert "**1**:" in caption
    sheet = load(client.predict("stable", 3, 0, api_name="/directions"))
    assert sheet.mode == "L"


def test_compare_draws_the_same_latents_through_two_runs(client):
    image_a, image_b, caption = client.predict("tutorial", "stable", 3, 5, 3, api_name="/compare")
    a, b = np.asarray(load(image_a)), np.asarray(load(image_b))
    assert a.shape == b.shape and not np.array_equal(a, b)  # two runs, the same z: different digits
    for run, image in (("tutorial", a), ("stable", b)):  # each side is that run's own grid for the seed
        assert np.array_equal(image, np.asarray(load(client.predict(run, 3, 5, 3, api_name="/generate")[0])))
    same_a, same_b, _ = client.predict("stable", "stable", 3, 5, 3, api_name="/compare")
    assert np.array_equal(np.asarray(load(same_a)), np.asarray(load(same_b)))
    assert "**tutorial** at epoch 3" in caption and "**stable** at epoch 3" in caption
    _, _, snapped = client.predict("tutorial", "stable", 2, 5, 3, api_name="/compare")
    assert "**tutorial** at epoch 3 (its nearest saved to 2)" in snapped and "**stable** at epoch 2." in snapped


def test_compare_plots_both_runs_histograms_and_milestones(client):
    fid, inception, histogram_a, histogram_b, milestones = client.predict(
        "tutorial", "stable", 2, api_name="/compare_plots"
    )
    assert {row[2] for row in fid["data"]} == {"tutorial", "stable", "real data", "now"}
    assert [row[0] for row in inception["data"] if row[2] == "now"] == [2, 2]
    assert [row[1] for row in fid["data"] if row[2] == "stable"] == [300.0, 90.0, 40.0]
    assert "tutorial, epoch 3" in histogram_a and "10/10" in histogram_a  # its nearest saved epoch to 2
    assert "stable, epoch 2" in histogram_b
    assert "**stable**: all ten digits (each ≥ 2%): epoch 2" in milestones
    assert "IS ≥ 7: epoch 2" in milestones and "FID ≤ 100: epoch 2" in milestones
    assert "**tutorial**: all ten digits (each ≥ 2%): epoch 3" in milestones
    skewed = client.predict("stable", "stable", 1, api_name="/compare_plots")[2]
    assert "2/10" in skewed and "rarest 2 at 0.0%" in skewed


def test_every_endpoint_refuses_an_unknown_run_and_names_the_loaded_ones(client):
    calls = 0
    for name, args in EXAMPLES.items():
        for argument in [a for a in args if a.startswith("run")]:
            bad = {**args, argument: "nope"}
            with pytest.raises(AppError, match=f"{argument} must be .*one of {RUNS}; got 'nope'"):
                client.predict(*bad.values(), api_name=f"/{name}")
            calls += 1
    # One per endpoint but the live run's, plus run_b of /compare, /compare_plots and the optional one of /progression
    assert calls == len(EXAMPLES) - len(LIVE) + 3


@pytest.mark.parametrize(
    ("endpoint", "args", "message"),
    [
        ("/generate", ["tutorial", 3, -1, 4], "seed must be a whole number from 0 to 2147483647"),
        ("/generate", ["tutorial", 3, "abc", 4], "seed must be a whole number"),
        ("/generate", ["tutorial", 3, 1, 11], "grid size must be a whole number from 1 to 10"),
        ("/generate", ["tutorial", 3, 1, 2.5], "grid size must be a whole number"),
        ("/generate", ["tutorial", 9, 1, 2], "epoch must be a whole number from 1 to 3"),
        ("/interpolate", ["tutorial", 3, 1, 2, 1.5, "slerp"], "t must be a number from 0 to 1"),
        ("/interpolate", ["tutorial", 3, 1, 2, 0.5, "cubic"], "method must be one of 'slerp', 'lerp'"),
        ("/interpolation_strip", ["tutorial", 3, 1, 2, 1000, "slerp"], "frames must be a whole number from 2 to 30"),
        ("/edit", ["tutorial", 3, 0, 2, 99, 0, 0, 0, 0], "direction 1 must be a number from -4 to 4"),
        ("/progression", ["tutorial", 5, 3, ["2"], ""], "epochs must be saved epochs"),
        (
            "/progression",
            ["tutorial", 5, 3, [str(e) for e in range(1, 40)], ""],
            "each value in epochs must be a whole number from 1 to 3",
        ),
        ("/progression", ["tutorial", 5, 3, [], ""], "epochs must be a non-empty list"),
        ("/compare", ["tutorial", "stable", 4, 1, 2], "epoch must be a whole number from 1 to 3"),
        ("/compare", ["tutorial", "stable", 3, 1, 0], "grid must be a whole number from 1 to 10"),
        ("/generate", ["tutorial", 3, 1, 2, "yes"], "labels must be true or false"),
        ("/morph", ["tutorial", 3, 10, 8, 0.5, 0], "digit A must be a whole number from 0 to 9"),
        ("/morph", ["tutorial", 3, 3, 8, 2, 0], "t must be a number from 0 to 1"),
        ("/morph_strip", ["tutorial", 3, 3, 8.5, 5, 0], "digit B must be a whole number from 0 to 9"),
        ("/steer", ["tutorial", 3, 0, 2, 3, 7, False], "strength must be a number from 0 to 6"),
        ("/steer", ["tutorial", 3, 0, 2, -1, 1, False], "digit must be a whole number from 0 to 9"),
        ("/digit_sheet", ["tutorial", 3, 0, 0], "rows must be a whole number from 1 to 10"),
    ],
)
def test_bad_input_gets_a_message_saying_what_is_allowed(client, endpoint, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=endpoint)


def test_digit_endpoints_answer_and_are_deterministic(client):
    """Labels, morph, steer and the digit sheet through the API (the tiny runs draw blobs, not digits: the
    captions then say which digits an epoch cannot draw)."""
    image, caption = client.predict("tutorial", 3, 3, 8, 0.5, 0, api_name="/morph")
    again, same_caption = client.predict("tutorial", 3, 3, 8, 0.5, 0, api_name="/morph")
    assert np.array_equal(np.asarray(load(image)), np.asarray(load(again))) and caption == same_caption
    assert caption.startswith("**3 into 8**, epoch 3, seed 0: at **t = 0.50** the classifier sees")
    strip, gif = client.predict("tutorial", 3, 3, 8, 5, 0, api_name="/morph_strip")
    assert load(strip).mode == "L" and Path(gif).read_bytes()[:6] == b"GIF89a"
    digit, grid, caption = client.predict("tutorial", 3, 0, 2, 3, 2.0, True, api_name="/steer")
    assert load(digit).mode == "L" and load(grid).mode == "L" and caption.startswith("Towards **3** with strength 2")
    sheet, caption = client.predict("tutorial", 3, 0, 3, api_name="/digit_sheet")
    assert load(sheet).mode == "L" and caption.startswith("Epoch 3, seed 0: of N = 500 samples")
    plain, plain_stats = client.predict("tutorial", 3, 5, 4, api_name="/generate")  # labels default to off
    labelled, stats = client.predict("tutorial", 3, 5, 4, True, api_name="/generate")
    assert load(labelled).width == load(plain).width and load(labelled).height > load(plain).height
    assert "The classifier sees" in stats and "The classifier sees" not in plain_stats


def test_skipped_epochs_and_runs_are_shown_on_the_page(app_url):
    page = httpx.get(app_url).text
    assert "tutorial/epoch-004" in page and "tutorial/epoch-005: no model.safetensors" in page
    assert "run broken: no usable epoch-NNN/ folders" in page
    assert "run classifier" not in page  # not a run: passed over, not reported


def test_no_request_can_read_a_server_file(app_url):
    for path in ("/etc/passwd", str(ROOT / "app.py")):
        response = httpx.get(f"{app_url.rstrip('/')}/gradio_api/file={path}")
        assert response.status_code in (403, 404)


def sse_result(app_url: str, endpoint: str, body: str) -> str:
    """POST a raw JSON body (which may hold NaN / Infinity) and return the streamed result text."""
    base = f"{app_url.rstrip('/')}/gradio_api/call{endpoint}"
    response = httpx.post(base, content=body, headers={"content-type": "application/json"}, timeout=30)
    if response.status_code != 200:
        return f"http {response.status_code}"
    return httpx.get(f"{base}/{response.json()['event_id']}", timeout=30).text


def answer_or_refusal(client: Client, endpoint: str, args: list, job) -> None:
    """The job's result. A job the client itself cancelled (its shared event stream closed under load before
    the message came; the server answered or will) is sent again on its own, up to three times: a refusal
    still raises AppError, and a crashed server still fails the test's last call."""
    for _ in range(3):
        try:
            job.result(timeout=60)
            return
        except CancelledError:
            job = client.submit(*args, api_name=endpoint)
    job.result(timeout=60)


def test_fuzz_covers_every_endpoint_the_app_lists(app_url, monkeypatch):
    """The fuzz takes its endpoints from the app's API list (public and undocumented), not from a list of its own:
    all of them are there, and one without examples in its tab module stops the fuzz, naming it."""
    listed = endpoints.api_endpoints(app_url)
    assert set(VALID) | {"/run_choices"} == set(listed)  # the Train tab's controls and the page's run choices too
    assert set(endpoints.valid_calls(app_url, FACTS)) == set(listed)
    monkeypatch.setattr(endpoints, "api_endpoints", lambda url: {**listed, "/added_later": ["run", "seed"]})
    with pytest.raises(ValueError, match=r"/added_later\(run, seed\) has examples for \(\)"):
        endpoints.valid_calls(app_url, FACTS)


@pytest.mark.slow
def test_fuzz_every_endpoint_with_hostile_values(app_url):
    """A few hundred calls with one hostile value each, over every endpoint the app lists, and each endpoint once
    with valid arguments: an answer or a gr.Error with a message, never a crash."""
    client = Client(app_url, verbose=False, download_files=False)
    valid_calls = endpoints.valid_calls(app_url, FACTS)
    cases = [(endpoint, valid) for endpoint, valid in valid_calls.items()]
    for endpoint, valid in valid_calls.items():
        for position in range(len(valid)):
            for value in HOSTILE:
                args = list(valid)
                args[position] = value
                cases.append((endpoint, args))
    for start in range(0, len(cases), 100):  # 100 in flight at once, like many users (one event stream)
        jobs = [(endpoint, args, client.submit(*args, api_name=endpoint)) for endpoint, args in cases[start:][:100]]
        for endpoint, args, job in jobs:
            try:
                answer_or_refusal(client, endpoint, args, job)
            except AppError as err:
                refused = err.title in ("Not allowed", "No digit labels") or "must" in str(err) or "may" in str(err)
                assert refused, f"{endpoint}{args!r:.80}: {err}"  # a refusal saying what is wrong, not a crash
    calls = len(cases)
    for endpoint, valid in valid_calls.items():  # JSON's NaN and Infinity cannot come through gradio_client
        number = next((i for i, v in enumerate(valid) if isinstance(v, (int, float))), None)  # the first number
        if number is None:  # e.g. /live_stop (no arguments), /live_push (a repo name)
            continue
        for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
            args = "[" + ", ".join(bad if i == number else json.dumps(v) for i, v in enumerate(valid)) + "]"
            calls += 1
            assert "must be" in sse_result(app_url, endpoint, f'{{"data": {args}}}')
    assert calls >= 400
    answer = Client(app_url, verbose=False).predict("tutorial", 3, 1, 2, api_name="/generate")
    assert load(answer[0]).mode == "L"  # still answers


@pytest.mark.slow
def test_burst_of_concurrent_requests(client):
    """A short burst: 40 mixed requests in flight at once all get answers (the full-size run is benchmarks/)."""
    endpoints = ["generate", "interpolate", "edit", "timeline"]
    jobs = []
    for index in range(40):
        endpoint = endpoints[index % len(endpoints)]
        args = dict(EXAMPLES[endpoint])
        args["seed" if "seed" in args else "seed_a"] = index  # a different seed per request
        jobs.append(client.submit(*args.values(), api_name=f"/{endpoint}"))
    results = [job.result(timeout=60) for job in jobs]
    assert all(Path(result[0] if isinstance(result, tuple) else result).is_file() for result in results)


@pytest.mark.slow
def test_app_py_exits_with_one_line_when_nothing_is_usable(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py", "--weights", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: no usable epoch-NNN/ folders in {tmp_path}"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(  # several specs, comma-separated: each one's reason on the one line
        [sys.executable, "app.py", "--weights", f"{tmp_path},{empty}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no usable run; no usable epoch-NNN/ folders in {tmp_path}; no usable epoch-NNN/ folders in {empty}"
    ]
