"""The app's HTTP API seen from outside, for its tests and benchmarks: the endpoints a running app lists, valid
arguments for each (from the tab modules' examples), and one call through Gradio's REST protocol."""

import time

import httpx

from demo.context import Facts
from demo.ui import examples

RESULT_WAIT_S = 120.0  # a result stream still open after this long counts as a failure


def api_endpoints(url: str) -> dict[str, list[str]]:
    """Every endpoint the app answers (its public and undocumented API), with its parameter names in order."""
    info = httpx.get(f"{url}gradio_api/info", params={"all_endpoints": "true"}, timeout=60).json()
    return {name: [p["parameter_name"] for p in e["parameters"]] for name, e in info["named_endpoints"].items()}


def valid_calls(url: str, facts: Facts) -> dict[str, list]:
    """Valid arguments for every endpoint the app lists, from the tab modules' examples. An endpoint whose
    examples are missing or name other parameters is an error: every endpoint, added later too, gets fuzzed."""
    declared = examples(facts)
    calls, wrong = {}, []
    for name, parameters in api_endpoints(url).items():
        args = declared.get(name.lstrip("/"), {})
        if list(args) != parameters:
            wrong.append(f"{name}({', '.join(parameters)}) has examples for ({', '.join(args)})")
        calls[name] = list(args.values())
    if wrong:
        raise ValueError("endpoints without matching examples() in their tab module: " + "; ".join(wrong))
    return calls


def rest_failure(http: httpx.Client, url: str, name: str, args: list) -> str | None:
    """Send one request through the REST API (POST /gradio_api/call/NAME, then read the result stream); None when it
    completed, else what came back instead."""
    event = http.post(f"{url}gradio_api/call{name}", json={"data": args})
    if event.status_code != 200:
        return f"HTTP {event.status_code}: {event.text}"
    deadline, lines = time.perf_counter() + RESULT_WAIT_S, []
    with http.stream("GET", f"{url}gradio_api/call{name}/{event.json()['event_id']}") as stream:
        for line in stream.iter_lines():  # the server sends heartbeats, so a lost result would wait forever
            lines.append(line)
            if line == "event: complete":
                return None
            if time.perf_counter() > deadline:
                return f"no result within {RESULT_WAIT_S:.0f} s (the stream stayed open with heartbeats)"
    return " ".join(lines)
