"""Links that reopen a view, without a browser: what a page opened with a link gets from the app (the tab, each
control's value, the one line about settings it could not use), and each tab's Copy link naming the API's parameters.
tests/test_links_browser.py opens links in a real browser."""

import json
import re

import gradio as gr
import pytest

from demo import links
from demo.live import LiveOptions, LiveTrainer
from demo.runs import load_specs
from demo.ui import build_demo

MAIN_ENDPOINT = {  # the endpoint whose parameters each tab's link carries
    "generate": "generate",
    "timeline": "timeline",
    "interpolate": "interpolate",
    "edit": "edit",
    "compare": "compare",
    "discriminator": "verdicts",
    "own": "neighbours",
    "digits": "digit_sheet",
    "train": "live_start",
}


@pytest.fixture(scope="module")
def app(two_runs, tmp_path_factory):
    live = LiveTrainer(LiveOptions(root=tmp_path_factory.mktemp("live"), max_epochs=12, threads=1))
    yield live, build_demo(load_specs([str(two_runs)]), live)
    live.close()


def fn_named(demo: gr.Blocks, name: str):
    (block_fn,) = [fn for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == name]
    return block_fn


def open_link(demo: gr.Blocks, query: dict) -> tuple[dict, list]:
    """What a page opened with `query` gets: the load event's answer (one State per tab, set for the linked tab only)
    and that State's change event's: {output block: update}, and the list of updates."""
    load = fn_named(demo, "opened")
    payloads = load.fn(gr.Request(query_params=query))
    assert len(payloads) == len(load.outputs)
    chosen = [payload for payload in payloads if payload != gr.skip()]
    if not chosen:
        return {}, payloads
    (payload,) = chosen
    apply = fn_named(demo, f"link_{payload['tab']}")
    updates = apply.fn(payload)
    assert len(updates) == len(apply.outputs)
    return dict(zip(apply.outputs, updates, strict=True)), updates


def prop(update, name: str = "value") -> object:
    """A property of an update: a component's (gr.Tabs(selected=...)), or the plain value a handler returned."""
    if isinstance(update, gr.blocks.Block):
        return getattr(update, name)
    assert name == "value", (update, name)
    return update


def by_label(shown: dict, label: str):
    (update,) = [u for block, u in shown.items() if getattr(block, "label", None) == label]
    return prop(update)


def test_every_tab_copies_a_link_named_after_its_endpoint(app):
    _, demo = app
    config = demo.get_config_file()
    api = demo.get_api_info()["named_endpoints"]
    scripts = [d["js"] for d in config["dependencies"] if d.get("js") and "new URLSearchParams({ tab:" in d["js"]]
    tabs = {}
    for script in scripts:
        tab = json.loads(re.search(r"tab: (\"\w+\")", script).group(1))
        tabs[tab] = json.loads(re.search(r"const names = (\[.*?\]);", script).group(1))
    assert set(tabs) == set(MAIN_ENDPOINT)
    for tab, names in tabs.items():
        assert names == [p["parameter_name"] for p in api[f"/{MAIN_ENDPOINT[tab]}"]["parameters"]], tab


def test_a_page_without_a_link_is_left_as_it_is(app):
    _, demo = app
    for query in ({}, {"__theme": "dark"}, {"view": "api"}):
        _, updates = open_link(demo, query)
        assert all(update == gr.skip() for update in updates), query


def test_a_train_link_fills_in_the_settings_and_starts_nothing(app):
    live, demo = app
    query = {"tab": "train", "recipe": "stable", "lr": "0.0003", "beta1": "0.5", "ema": "0.999"}
    query |= {"label_smoothing": "0.1", "r1": "0", "seed": "9", "epochs": "7"}
    shown, updates = open_link(demo, query)
    assert prop(updates[0], "selected") == "train" and prop(updates[1], "visible") is False  # every setting was usable
    assert by_label(shown, "Recipe") == "stable" and by_label(shown, "Learning rate") == 0.0003
    assert by_label(shown, "Epochs") == 7 and by_label(shown, "Seed") == 9
    assert live.status(watched=False).name is None  # a link never starts a run


def test_a_link_with_bad_settings_keeps_their_defaults_and_says_so_in_one_line(app):
    _, demo = app
    query = {"tab": "train", "recipe": "fast", "epochs": "99", "lr": "lots", "colour": "red"}
    shown, updates = open_link(demo, query)
    line = prop(updates[1])
    assert prop(updates[1], "visible") is True and "\n" not in line
    assert "epochs=99 (epochs must be a whole number from 1 to 12; got 99)" in line  # the server's cap
    assert "lr=lots (lr must be a number from 1e-05 to 0.01; got 'lots')" in line
    assert "not in the link: beta1, ema, label_smoothing, r1, seed (these show their defaults)" in line
    assert line.endswith("ignored (not settings of Train): colour.")
    (slider,) = [block for block in shown if getattr(block, "label", None) == "Epochs"]
    assert by_label(shown, "Recipe") == "fast" and by_label(shown, "Epochs") == slider.value  # the tab's default
    unknown_tab, updates = open_link(demo, {"tab": "nowhere", "seed": "4"})
    assert prop(updates[0], "selected") == "generate"
    tabs = "generate, timeline, interpolate, edit, compare, discriminator, own, train, digits, tour"
    assert f"tab=nowhere (one of {tabs}; showing Generate)" in prop(updates[1])


def test_a_compare_link_takes_an_epoch_either_run_saved_and_draws_both(app):
    _, demo = app
    query = {"tab": "compare", "run_a": "stable", "run_b": "tutorial", "epoch": "3", "seed": "2", "grid": "2"}
    shown, updates = open_link(demo, query | {"labels": "true"})
    assert prop(updates[1], "visible") is False
    epoch = next(u for block, u in shown.items() if getattr(block, "elem_id", None) == "compare-epoch")
    assert prop(epoch) == 3 and prop(epoch, "maximum") == 3  # stable saved 1-2, tutorial 1-3
    picture_a = next(u for block, u in shown.items() if getattr(block, "elem_id", None) == "compare-a")
    assert prop(picture_a, "label") == "A: stable" and prop(picture_a) is not None


@pytest.mark.parametrize(
    ("text", "value"), [("7", 7), ("-3", -3), ("0.5", 0.5), ("1e-4", 1e-4), ("7.0", 7.0), ("seven", "seven")]
)
def test_numbers_in_an_address(text, value):
    assert links.number(text) == value and type(links.number(text)) is type(value)
