"""demo/gradio_fixes.py: each work-around fixes what it says, and a canary per work-around shows the bug is still in
Gradio without it (when it fails, a new Gradio fixed the bug: delete the work-around and its canary)."""

import asyncio
import base64
import io
import json
from contextlib import AsyncExitStack

import gradio as gr
import httpx
import pytest
from conftest import free_port
from gradio_client import Client
from PIL import Image

from demo import gradio_fixes
from demo.runs import load_specs
from demo.ui import build_demo

pytestmark = pytest.mark.slow  # each test launches an app


def raw_call(url: str, api_name: str, data: list) -> tuple[str, object]:
    """POST /gradio_api/call/NAME as a caller without gradio_client would: (event, data) of the answer."""
    base = url.rstrip("/")
    event_id = httpx.post(f"{base}/gradio_api/call/{api_name}", json={"data": data}, timeout=30).json()["event_id"]
    answer = httpx.get(f"{base}/gradio_api/call/{api_name}/{event_id}", timeout=60).text
    lines = answer.strip().splitlines()
    event = next(line.split(": ", 1)[1] for line in lines if line.startswith("event: "))
    payload = next(line.split(": ", 1)[1] for line in lines if line.startswith("data: "))
    return event, json.loads(payload)


def launched(demo: gr.Blocks) -> str:
    _, url, _ = demo.queue().launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
    )
    return url


def small_blocks() -> gr.Blocks:
    """One endpoint shaped like /generate: two values, the last optional."""

    def scaled(number: float, double: bool = False) -> str:
        """Args:
        number: any number.
        double: true to double it.
        """
        return str(number * (2 if double else 1))

    with gr.Blocks() as demo:
        number, double, out = gr.Number(), gr.Checkbox(), gr.Textbox()
        gr.Button().click(scaled, [number, double], out, api_name="scaled", preprocess=False)
    return demo


def test_canary_gradio_hides_why_a_raw_call_with_a_value_missing_fails():
    demo = small_blocks()
    url = launched(demo)
    try:
        assert raw_call(url, "scaled", [3]) == ("error", {"error": None})  # Gradio 6.31: nothing says what went wrong
        assert raw_call(url, "scaled", [3, True, "extra"]) == ("complete", ["6"])  # the extra value is dropped
    finally:
        demo.close()


def test_the_fix_answers_a_missing_optional_value_and_names_the_parameters_otherwise():
    demo = small_blocks()
    assert gradio_fixes.answer_every_caller(demo)
    url = launched(demo)
    try:
        assert raw_call(url, "scaled", [3]) == ("complete", ["3"])
        assert raw_call(url, "scaled", [3, True]) == ("complete", ["6"])
        event, error = raw_call(url, "scaled", [3, True, "extra"])
        assert event == "error"
        assert (
            error["error"]
            == "/scaled takes 1 or 2 values, in this order: number, double (optional, default False); got 3."
        )
        event, error = raw_call(url, "scaled", [])
        assert event == "error" and error["error"].endswith("; got 0, without number, double.")
    finally:
        demo.close()


@pytest.fixture(scope="module")
def app_url(two_runs):
    demo = build_demo(load_specs([str(two_runs)])).queue()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


@pytest.mark.parametrize("given", [4, 3])
def test_the_app_answers_a_call_that_leaves_out_its_last_values(app_url, given):
    """The four values the README's REST example passes (labels left out), or three: each value left out gets what
    the API page documents as its default (the control's first value, labels false, grid size 6), as gradio_client
    fills them in."""
    values = ["tutorial", 3, 42, 2][:given]
    event, short = raw_call(app_url, "generate", values)
    assert event == "complete"
    size = 2 if given == 4 else 6
    assert f"<b>tutorial</b>, epoch 3, seed 42, {size}x{size} grid" in short[1]
    event, full = raw_call(app_url, "generate", ["tutorial", 3, 42, size, False])
    assert event == "complete" and short[1] == full[1]  # the same picture line and cards
    client = Client(app_url, verbose=False, download_files=False)
    assert client.predict(*values, api_name="/generate")[1] == short[1]  # what gradio_client gets


def test_the_app_names_its_parameters_for_one_value_too_many(app_url):
    event, error = raw_call(app_url, "generate", ["tutorial", 3, 42, 2, False, 7])
    assert event == "error" and error["title"] == "Not allowed"
    names = ["run", "epoch", "seed", "grid_size", "labels"]
    assert error["error"].startswith("/generate takes 0 to 5 values, in this order: run (optional, default ")
    assert error["error"].endswith(", labels (optional, default False); got 6.")
    positions = [error["error"].index(f" {name} (optional") for name in names]
    assert positions == sorted(positions)


def picture_blocks() -> gr.Blocks:
    """One queued endpoint with two outputs, a picture and its caption, as every picture endpoint of the app."""

    def square(side: float) -> tuple[Image.Image, str]:
        """A white square.

        Args:
            side: its side in pixels.
        """
        return Image.new("L", (int(side), int(side)), 255), f"a {int(side)}-pixel square"

    with gr.Blocks() as demo:
        side, picture, caption = gr.Number(4), gr.Image(type="pil", format="png"), gr.Textbox()
        gr.Button().click(square, side, [picture, caption], api_name="square")
    return demo


async def call_tool(url: str, name: str, arguments: dict) -> list:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with AsyncExitStack() as stack:
        streams = await stack.enter_async_context(streamable_http_client(f"{url.rstrip('/')}/gradio_api/mcp/"))
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        await session.initialize()
        return (await session.call_tool(name, arguments)).content


@pytest.mark.parametrize("fixed", [False, True], ids=["canary", "fixed"])
def test_an_mcp_tool_with_a_picture_and_a_caption_answers_with_an_image(fixed):
    pytest.importorskip("mcp", reason="the gradio[mcp] extra (requirements.txt) is not installed")
    demo = picture_blocks()
    if fixed:
        assert gradio_fixes.mcp_answers_with_every_output(demo)
    _, url, _ = demo.queue().launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, mcp_server=True
    )
    try:
        content = asyncio.run(call_tool(url, "square", {"side": 5}))
    finally:
        demo.close()
    if not fixed:  # Gradio 6.31: one text, the repr of the (picture, caption) tuple
        assert [item.type for item in content] == ["text"] and "a 5-pixel square" in content[0].text
        return
    (image,) = [item for item in content if item.type == "image"]
    picture = Image.open(io.BytesIO(base64.b64decode(image.data)))
    assert picture.size == (5, 5) and picture.convert("L").getextrema() == (255, 255)
    assert any(item.type == "text" and item.text == "a 5-pixel square" for item in content)


def test_on_another_gradio_neither_is_applied(monkeypatch, caplog):
    """demo.gradio_fixes.apply applies both (on Gradio 6.31.0) and says in its one line when it applies none."""
    monkeypatch.setattr(gr, "__version__", "99.0.0")
    blocks = small_blocks()
    before = blocks.validate_inputs
    with caplog.at_level("WARNING", logger="demo.gradio_fixes"):
        assert gradio_fixes.answer_every_caller(blocks) is False
        assert gradio_fixes.mcp_answers_with_every_output(blocks) is False
        assert gradio_fixes.apply(blocks) is False
    assert blocks.validate_inputs == before
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "Gradio 99.0.0 is not 6.31.0" in lines[0]
