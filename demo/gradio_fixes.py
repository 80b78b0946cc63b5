"""The one place where the app touches Gradio's internals: each work-around says why, what it fixes, and which Gradio
version it was checked against; tests/test_gradio_fixes.py holds a canary per work-around that shows the bug is still
there without it (when a new Gradio fixes the bug, the canary fails and the work-around can go).
"""

import asyncio
import logging

import gradio as gr

log = logging.getLogger(__name__)

CHECKED_GRADIO = "6.31.0"  # every work-around below was measured against this version


def warn_if_unchecked(name: str) -> None:
    """One warning when this Gradio is not the version the work-arounds were checked against (each still runs where
    the internal it needs exists: it checks that itself)."""
    if gr.__version__ != CHECKED_GRADIO:
        log.warning("%s: checked against Gradio %s, this is %s; see tests/test_gradio_fixes.py", name, CHECKED_GRADIO,
                    gr.__version__)  # fmt: skip


def parameters_line(api_name: str, parameters: list[dict]) -> str:
    """'/generate takes 4 or 5 values, in this order: run, epoch, seed, grid_size, labels (optional, default False)'."""
    names = [
        f"{p['parameter_name']} (optional, default {p['parameter_default']!r})"
        if p.get("parameter_has_default")
        else p["parameter_name"]
        for p in parameters
    ]
    required = sum(not p.get("parameter_has_default") for p in parameters)
    count = (
        f"{required} or {len(parameters)}" if required == len(parameters) - 1 else f"{required} to {len(parameters)}"
    )
    count = str(len(parameters)) if required == len(parameters) else count
    return f"/{api_name} takes {count} value{'s' if len(parameters) != 1 else ''}, in this order: {', '.join(names)}"


def answer_every_caller(blocks: gr.Blocks) -> bool:
    """A call of a named endpoint with too few or too many values gets an answer that says what happened.

    Why: Gradio 6.31 answers a raw REST call (POST /gradio_api/call/generate) that leaves out an optional last value
    with `event: error` and `{"error": null}`: Blocks.validate_inputs raises a plain ValueError before the handler
    runs, and the queue hides the message of anything but a gr.Error. gradio_client fills such values in from the
    API info, so only raw callers meet it. Extra values are dropped without a word.
    What: Blocks.validate_inputs, set on this instance only, first fills in missing values that the API page calls
    optional with the defaults it documents (gradio_client's rule: the control's first value, or a handler default
    of None), and refuses a missing required value or an extra one with a gr.Error naming the endpoint's parameters.
    The page sends every value, so it never meets this.
    Returns False (and changes nothing) where Blocks has no validate_inputs."""
    warn_if_unchecked("answer_every_caller")
    original = getattr(blocks, "validate_inputs", None)
    if original is None:
        log.warning("answer_every_caller: this Gradio has no Blocks.validate_inputs; raw REST answers stay as they are")
        return False
    infos: dict[str, list[dict] | None] = {}

    def parameters(api_name: str) -> list[dict] | None:
        if api_name not in infos:
            endpoint = blocks.get_api_info(all_endpoints=True)["named_endpoints"].get(f"/{api_name}")
            infos[api_name] = endpoint["parameters"] if endpoint else None
        return infos[api_name]

    def validate_inputs(block_fn, inputs: list) -> None:
        wanted = len(block_fn.inputs)
        if block_fn.api_name and block_fn.api_visibility != "private" and len(inputs) != wanted:
            params = parameters(block_fn.api_name)
            if params is not None and len(params) == wanted:
                missing = params[len(inputs) :]
                if len(inputs) > wanted or not all(p.get("parameter_has_default") for p in missing):
                    got = f"got {len(inputs)}"
                    if missing:
                        got += f", without {', '.join(p['parameter_name'] for p in missing)}"
                    line = f"{parameters_line(block_fn.api_name, params)}; {got}."
                    raise gr.Error(line, title="Not allowed", print_exception=False)
                inputs.extend(p["parameter_default"] for p in missing)  # the same list the handler's values come from
        original(block_fn, inputs)

    blocks.validate_inputs = validate_inputs
    return True


def mcp_answers_with_every_output(blocks: gr.Blocks) -> bool:
    """An MCP tool whose endpoint has several outputs answers with each of them (a picture as an image).

    Why: Gradio 6.31's MCP server calls a queued endpoint through gradio_client and, when the caller asked for no
    progress reports, wraps the client's result in a list: for an endpoint with several outputs that result is a
    tuple, so the tool answers with one text, the tuple's repr, and never an image (GradioMCPServer.
    _execute_tool_without_progress). Every picture endpoint here returns a picture and its caption.
    What: on server start-up, that method of this app's MCP server (only it) returns the outputs as a list.
    Returns False (and changes nothing) where Blocks has no start-up hooks; at start-up, a warning where the MCP
    server has no such method."""
    warn_if_unchecked("mcp_answers_with_every_output")
    startup = getattr(blocks, "extra_startup_events", None)
    if startup is None:
        log.warning(
            "mcp_answers_with_every_output: this Gradio has no extra_startup_events; MCP answers stay as they are"
        )
        return False

    async def install() -> None:
        server = getattr(blocks, "mcp_server_obj", None)
        if server is None:
            return  # MCP is off
        if not hasattr(server, "_execute_tool_without_progress"):
            log.warning("mcp_answers_with_every_output: Gradio's MCP server changed; the work-around is not applied")
            return

        async def without_progress(job) -> list:
            result = await asyncio.to_thread(job.result)
            return list(result) if isinstance(result, tuple) else [result]  # gradio_client: a tuple for 2+ outputs

        server._execute_tool_without_progress = without_progress

    startup.append(install)
    return True
