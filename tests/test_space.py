"""On a Space: the shared original tells itself from a duplicate; assistants reach the app through MCP.

`python app.py` is started as a Space starts it (SPACE_ID, the OAuth variables of `hf_oauth: true`, and the deploy's
GAN_SHARED_SPACE), on the shared original and on a duplicate, and once locally with --mcp for an MCP client.
"""

import asyncio
import base64
import io
import os
import subprocess
import sys
import time
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import free_port
from gradio_client import Client
from PIL import Image

from demo import spaces
from gan.hub.space import SHARED_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
SPACE = "erin/watch-a-gan-learn"
SPACE_ENV = {  # what the Hub sets for a Space with `hf_oauth: true` (the app's sign-in button needs them)
    "SYSTEM": "spaces",
    "SPACE_ID": SPACE,
    "OAUTH_CLIENT_ID": "id",
    "OAUTH_CLIENT_SECRET": "secret",
    "OAUTH_SCOPES": "openid profile manage-repos",
    "OPENID_PROVIDER_URL": "https://huggingface.co",  # only asked at sign-in, which these tests do not do
}
LIVE = {"live_start", "live_stop", "live_push"}  # the Train tab's endpoints that change something
PUBLIC = {"generate", "timeline", "plots", "progression", "timeline_gif", "interpolate", "compare", "digit_sheet"}


def test_mode_tells_local_shared_and_duplicate_apart():
    assert spaces.mode({}) == spaces.LOCAL
    assert spaces.mode({SHARED_VARIABLE: SPACE}) == spaces.LOCAL  # the variable alone is not a Space
    assert spaces.mode({"SPACE_ID": SPACE, SHARED_VARIABLE: SPACE}) == spaces.SHARED
    assert spaces.mode({"SPACE_ID": "bob/watch-a-gan-learn", SHARED_VARIABLE: SPACE}) == spaces.DUPLICATE
    assert spaces.mode({"SPACE_ID": SPACE}) == spaces.DUPLICATE  # a Space the deploy never marked
    assert not spaces.on_space({}) and spaces.on_space({"SPACE_ID": SPACE})


@contextmanager
def app_py(weights: Path, tmp_path: Path, env: dict[str, str], *flags: str):
    """`python app.py` on a free port with `env` added; yields its URL once it answers."""
    port = free_port()
    command = [sys.executable, "app.py", "--weights", str(weights), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--live-dir", str(tmp_path / "live"), "--live-threads", "1", *flags]
    clean = {key: value for key, value in os.environ.items() if key not in {*SPACE_ENV, SHARED_VARIABLE}}
    app = subprocess.Popen(
        command, cwd=ROOT, env={**clean, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while not answers(url):
            assert app.poll() is None, app.stderr.read()
            assert time.monotonic() < deadline, "app.py did not answer within 180 s"
            time.sleep(0.3)
        yield url
    finally:
        app.terminate()
        app.wait(60)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def components(url: str) -> list[dict]:
    return httpx.get(f"{url}config", timeout=30).json()["components"]


def epochs_cap(url: str) -> int:
    (slider,) = [c for c in components(url) if c["type"] == "slider" and c["props"].get("label") == "Epochs"]
    return slider["props"]["maximum"]


def mcp_tools(url: str) -> set[str]:
    """The API names of the endpoints the MCP server offers as tools."""
    answer = httpx.get(f"{url}gradio_api/mcp/schema", timeout=30)
    answer.raise_for_status()
    return {tool["meta"]["endpoint_name"] for tool in answer.json()}


def public_endpoints(url: str) -> set[str]:
    """The API names the API page lists."""
    client = Client(url, verbose=False, download_files=False)
    return {name.lstrip("/") for name in client.view_api(print_info=False, return_format="dict")["named_endpoints"]}


@pytest.mark.slow
def test_the_shared_space_caps_live_runs_offers_a_duplicate_and_keeps_training_from_assistants(two_runs, tmp_path):
    with app_py(two_runs, tmp_path, {**SPACE_ENV, SHARED_VARIABLE: SPACE}, "--live-max-epochs", "40") as url:
        assert epochs_cap(url) == spaces.SHARED_MAX_EPOCHS  # whatever the flag asks
        props = [c.get("props", {}) for c in components(url)]
        assert any(p.get("value") == "Duplicate this Space" for p in props)
        assert any("This is the shared Space" in str(p.get("value")) for p in props)
        tools = mcp_tools(url)  # MCP is on by default on a Space
        assert tools == public_endpoints(url)  # every public endpoint, and only those
        assert PUBLIC <= tools and "live_status" in tools and not LIVE & tools


@pytest.mark.slow
def test_a_duplicate_has_no_cap_but_its_flags_and_offers_everything(two_runs, tmp_path):
    env = {**SPACE_ENV, "SPACE_ID": "bob/my-gan", SHARED_VARIABLE: SPACE}  # the variable came along with the copy
    with app_py(two_runs, tmp_path, env, "--live-max-epochs", "40") as url:
        assert epochs_cap(url) == 40
        props = [c.get("props", {}) for c in components(url)]
        assert not any(p.get("value") == "Duplicate this Space" for p in props)
        assert not any("This is the shared Space" in str(p.get("value")) for p in props)
        tools = mcp_tools(url)
        assert tools == public_endpoints(url) and PUBLIC | LIVE <= tools


async def mcp_session(url: str):
    """List the tools and draw a picture through the `mcp` package's own client."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with AsyncExitStack() as stack:
        streams = await stack.enter_async_context(streamable_http_client(f"{url}gradio_api/mcp/"))
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))  # (read, write, ...)
        await session.initialize()
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        arguments = {"run": "tutorial", "epoch": 3, "seed": 7, "grid_size": 3, "labels": False}
        result = await session.call_tool("generate", arguments)
        return tools, result


@pytest.mark.slow
def test_an_mcp_client_lists_the_endpoints_and_gets_a_picture(two_runs, tmp_path):
    pytest.importorskip("mcp", reason="the gradio[mcp] extra (requirements.txt) is not installed")
    with app_py(two_runs, tmp_path, {}, "--mcp") as url:
        tools, result = asyncio.run(mcp_session(url))
        offered = mcp_tools(url)
        assert offered == public_endpoints(url) and PUBLIC | LIVE <= offered  # locally, the trainer is offered too
        assert len(tools) == len(offered) and "generate" in tools
        generate = tools["generate"].description
        assert "Returns" in generate and "grid_size 1-10" in generate and "seed 0-2147483647" in generate
        assert set(tools["generate"].inputSchema["properties"]) == {"run", "epoch", "seed", "grid_size", "labels"}
        assert not result.isError
        images = [item for item in result.content if item.type == "image"]
        assert images, [getattr(item, "text", item.type)[:300] for item in result.content]
        picture = Image.open(io.BytesIO(base64.b64decode(images[0].data))).convert("L")
        expected, _ = Client(url, verbose=False).predict("tutorial", 3, 7, 3, False, api_name="/generate")
        assert np.array_equal(np.asarray(picture), np.asarray(Image.open(expected).convert("L")))


def test_every_tool_description_says_what_it_returns_and_each_value_it_takes(two_runs, tmp_path):
    """The MCP tools' descriptions are the endpoints' API descriptions: an assistant reads only them."""
    from demo.live import LiveOptions, LiveTrainer
    from demo.runs import load_specs
    from demo.ui import build_demo

    live = LiveTrainer(LiveOptions(root=tmp_path / "live", threads=1))
    try:
        endpoints = build_demo(load_specs([str(two_runs)]), live).get_api_info()["named_endpoints"]
    finally:
        live.close()
    assert PUBLIC | LIVE <= {name.lstrip("/") for name in endpoints}
    for name, endpoint in endpoints.items():
        description = endpoint["description"]
        assert "Returns" in description, name
        for parameter in (p["parameter_name"] for p in endpoint["parameters"]):
            # seed_a and seed_b are described together as "seeds", direction_1 to _5 as "direction_k"
            assert parameter in description or parameter.split("_")[0] in description, (name, parameter)
