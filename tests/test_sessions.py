"""Gradio sessions without a copy of the whole page's config each (demo.gradio_fixes.LazySessionState): the same state
as Gradio's own."""

import json
from pathlib import Path

import gradio as gr
import httpx
from conftest import free_port
from gradio import route_utils, state_holder

from demo import gradio_fixes
from demo.gradio_fixes import GRADIO_SESSION_STATE, LazySessionState
from demo.runs import load_specs
from demo.ui import build_demo


def small_blocks() -> gr.Blocks:
    with gr.Blocks() as blocks:
        name = gr.Textbox(label="Name", value="ada")
        count = gr.Number(label="Count", value=1)
        with gr.Row():
            button = gr.Button("Go")
        button.click(
            lambda text, n: (text.upper(), gr.update(value=n + 1, label="Count, once more")),
            [name, count],
            [name, count],
            api_name="go",
        )
    return blocks


def same_operations(state) -> list[dict]:
    """What Gradio's event processing does to a session: a value written into the config, a component replaced
    by its update; then what the deep-link route reads."""
    blocks = state.blocks_config.blocks
    textbox = next(key for key, block in blocks.items() if isinstance(block, gr.Textbox))
    number = next(key for key, block in blocks.items() if isinstance(block, gr.Number))
    state._update_value_in_config(textbox, "GRACE")
    state[number] = gr.Number(label="Replaced", value=7, render=False)
    state._update_value_in_config(number, 7)
    return list(state.components)


def test_a_fresh_lazy_session_has_gradio_s_attributes_and_no_configs_built():
    blocks = small_blocks()
    eager, lazy = GRADIO_SESSION_STATE(blocks), LazySessionState(blocks)
    assert set(vars(lazy)) == set(vars(eager))
    for name in set(vars(eager)) - {"blocks_config", "config_values"}:
        assert getattr(lazy, name) == getattr(eager, name), name
    assert lazy.blocks_config.blocks == eager.blocks_config.blocks
    assert dict.__len__(lazy.config_values) == 0  # nothing built yet
    assert len(eager.config_values) == len(lazy.config_values) > 3


def test_lazy_and_eager_sessions_give_the_deep_link_route_the_same_configs():
    blocks = small_blocks()
    assert list(LazySessionState(blocks).components) == list(GRADIO_SESSION_STATE(blocks).components)
    eager = same_operations(GRADIO_SESSION_STATE(blocks))
    lazy = same_operations(LazySessionState(blocks))
    assert lazy == eager
    assert [config["id"] for config in lazy] == [config["id"] for config in eager]  # page order kept
    values = {config["props"].get("label"): config["props"].get("value") for config in lazy}
    assert values["Name"] == "GRACE" and values["Count"] == 7


def test_the_whole_app_s_configs_are_the_same_lazily(two_runs):
    demo = build_demo(load_specs([str(two_runs)]))
    eager, lazy = GRADIO_SESSION_STATE(demo), LazySessionState(demo)
    assert len(eager.config_values) > 100
    assert list(lazy.components) == list(eager.components)


def test_install_makes_every_new_session_lazy_and_a_launched_app_answers(tmp_path):
    gradio_fixes.install_lazy_sessions()
    gradio_fixes.install_lazy_sessions()  # idempotent
    assert state_holder.SessionState is LazySessionState and route_utils.SessionState is LazySessionState
    blocks = small_blocks().queue()
    port = free_port()
    _, url, _ = blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            event = http.post("/gradio_api/call/go", json={"data": ["lin", 4], "session_hash": "s1"}).json()
            stream = http.get(f"/gradio_api/call/go/{event['event_id']}").text
            data = [json.loads(line[5:]) for line in stream.splitlines() if line.startswith("data:")]
            assert data[-1][0] == "LIN" and data[-1][1]["value"] == 5
            state = blocks.state_holder["s1"]
            assert isinstance(state, LazySessionState)
            link = http.get("/gradio_api/deep_link", params={"session_hash": "s1"}).json()
            assert link
        saved = json.loads(Path(blocks.server_app.uploaded_file_dir, "deep_links", link, "state.json").read_text())
        by_label = {config["props"].get("label"): config["props"] for config in saved if "props" in config}
        assert by_label["Name"]["value"] == "LIN"
        assert by_label["Count, once more"]["value"] == 5
        assert [config["id"] for config in saved] == [
            config["id"] for config in GRADIO_SESSION_STATE(blocks).components
        ]
    finally:
        blocks.close()
