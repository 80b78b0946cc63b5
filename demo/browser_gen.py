"""The Generator in the visitor's browser: sliders redraw with no server round trip.

A Generator is about 290,000 weights and one digit about 290,000 multiply-adds, so the page can draw while the hand
moves. `live_picture` is a gr.HTML piece (html_template, css_template, js_on_load, props) laid around a server
picture: its canvas lies over that picture and is drawn by a small JavaScript forward pass (browser_gen.js) on
every slider input. The server stays the source of truth: it sends the latents in play and the weights' addresses
(the piece's value, built by `mixed`, `edited` and `grid_over_epochs` below), its picture stays under the canvas
(downloads, the API, the first picture of a view), and while the weights are not in, or cannot be fetched, the
canvas stays hidden and the server's picture shows. On Interpolate and Edit the server draws when the piece asks
(its `input` event): once the slider rests, or at every input where the browser cannot draw.

The weights are written once per Generator, content-addressed, to a temporary folder served through
gr.set_static_paths (never into weights/): full precision for the one epoch Interpolate and Edit draw (1.2 MB),
half precision for the Timeline and Compare, which fetch every saved epoch in the background (0.6 MB each).
"""

import base64
import hashlib
import json
import shutil
import tempfile
import threading
import weakref
from pathlib import Path

import gradio as gr
import torch

from demo.engine import Engine
from gan.models import Generator

ASSETS = Path(__file__).resolve().parent
SCRIPT = (ASSETS / "browser_gen.js").read_text()
# Scoped by Gradio to the piece's own element: the canvases lie over the picture inside it, let every click and
# touch through to it, and keep their pixels crisp when scaled.
STYLE = """
position: relative; min-width: 0;
.live-layer { position: absolute; inset: 0; pointer-events: none; z-index: 3; }
.live-layer canvas {
  position: absolute; display: none; pointer-events: none; object-fit: contain;
  image-rendering: pixelated; image-rendering: crisp-edges;
}
.live-layer canvas.on { display: block; }
"""
TEMPLATE = '<div class="live-layer"></div>@children'
PRECISIONS = {"f32": "<f4", "f16": "<f2"}  # full precision: within 1 grey level of the server; half: within 2


class WeightFiles:
    """Each Generator's weights as one little-endian file (W1, b1, W2, b2, W3, b3, row-major), named by the hash of
    its bytes, in a temporary folder that Gradio serves (gr.set_static_paths) and that is removed at exit."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="gan-browser-weights-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        gr.set_static_paths([self.folder])
        self._urls: weakref.WeakKeyDictionary[Generator, dict[str, str]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def url(self, generator: Generator, precision: str) -> str:
        """The address (relative to the page) of `generator`'s weights at `precision` ('f32' or 'f16')."""
        with self._lock:
            urls = self._urls.setdefault(generator, {})
            if precision not in urls:
                data = weight_bytes(generator, precision)
                path = self.folder / f"{hashlib.sha256(data).hexdigest()[:24]}.{precision}"
                if not path.exists():
                    partial = path.with_suffix(".part")
                    partial.write_bytes(data)
                    partial.replace(path)
                urls[precision] = f"gradio_api/file={path}"
            return urls[precision]


def weight_bytes(generator: Generator, precision: str) -> bytes:
    """W1, b1, W2, b2, W3, b3 of the Generator, flat and in that order, at `precision`."""
    parts = []
    for linear in (generator.linear1, generator.linear2, generator.linear3):
        parts += [linear.weight.detach().reshape(-1), linear.bias.detach().reshape(-1)]
    return torch.cat(parts).float().numpy().astype(PRECISIONS[precision]).tobytes()


_files: WeightFiles | None = None
_files_lock = threading.Lock()


def files() -> WeightFiles:
    """The process's one folder of exported weights (made on first use)."""
    global _files
    with _files_lock:
        if _files is None:
            _files = WeightFiles()
        return _files


def floats(tensor: torch.Tensor) -> str:
    """A float32 tensor's values as base64 of their little-endian bytes."""
    return base64.b64encode(tensor.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode()


def picture(
    engine: Engine, epochs: list[int], precision: str, latents: torch.Tensor, rows: int, cols: int, target: str
) -> dict:
    """What the browser needs to draw `latents` as a rows x cols grid over the picture `target` (a CSS selector
    inside the piece), with the weights of each of `epochs`."""
    first = engine.run.generators[epochs[0]]
    return {
        "target": target,
        "kind": "epochs",
        "dims": [first.latent_dim, first.linear1.out_features, first.image_size],
        "side": engine.side,
        "weights": {str(e): files().url(engine.run.generators[e], precision) for e in epochs},
        "latents": floats(latents),
        "count": len(latents),
        "rows": rows,
        "cols": cols,
    }


def mixed(engine: Engine, epoch: int, a: torch.Tensor, b: torch.Tensor, method: str, target: str) -> dict:
    """One digit at t between latents a and b (1, latent_dim) each, by slerp or lerp as Engine.mix does."""
    spec = picture(engine, [epoch], "f32", torch.cat([a, b]), 1, 1, target)
    return {**spec, "kind": "mix", "count": 1, "method": method}


def edited(engine: Engine, epoch: int, latents: torch.Tensor, rows: int, cols: int, target: str) -> dict:
    """latents moved by sum_k strength_k * direction_k (Engine.edited_latents), the strengths from the sliders."""
    directions, _ = engine.directions(epoch)
    spec = picture(engine, [epoch], "f32", latents, rows, cols, target)
    return {**spec, "kind": "edit", "directions": floats(directions)}


def grid_over_epochs(engine: Engine, latents: torch.Tensor, size: int, target: str) -> dict:
    """The same latents at whichever saved epoch the slider asks for (its nearest one), in half precision."""
    return picture(engine, engine.epochs, "f16", latents, size, size, target)


def state(pictures: list[dict | None], asks: bool = True, **pos) -> dict:
    """The piece's value: one entry per picture it lies over (None: the server draws that one) and the sliders'
    positions as the server saw them (once a slider has moved in the page, the page's own positions win: they
    are newer than any the server sends back). asks: this piece asks the server for its tab's pictures as a slider
    moves (its `input` event; False where another piece of the tab does)."""
    return {"pictures": pictures, "pos": pos, "off": False, "asks": asks}


def live_picture(value: dict | None, elem_id: str, **kwargs) -> gr.HTML:
    """The piece; use as `with live_picture(...) as live:` around the server picture it draws over. It takes the
    picture's place in the page's layout (its class `live-picture`: on a phone the first picture of a tab stays
    in view while its controls scroll, demo.widgets.LAYOUT_CSS)."""
    return gr.HTML(
        value or state([]),
        html_template=TEMPLATE,
        css_template=STYLE,
        js_on_load=SCRIPT,
        apply_default_css=False,
        elem_id=elem_id,
        elem_classes="live-picture",
        **kwargs,
    )


MOVE_EVENT = "gan-move"  # browser_gen.js listens for it on its piece's .live-layer (TEMPLATE)


def moved(names: list[str], pieces: list[gr.HTML]) -> str:
    """The js of a slider event (inputs: the sliders, no outputs) that hands the new positions to `pieces` in the
    browser, which draw them at once: a `gan-move` event on each piece's own layer (found by its elem_id), carrying
    {name: value}. Not through the pieces' values: Gradio clones and watches a value it is given on every input
    (measured: bench_sliders, docs/sliders.md). `names` are the positions' keys; a name ending in [] collects the
    values from there on into a list."""
    collect = next((k for k, name in enumerate(names) if name.endswith("[]")), None)
    if collect is None:
        fields = ", ".join(f"{name}: Number(args[{k}])" for k, name in enumerate(names))
    else:
        fields = ", ".join(f"{name}: Number(args[{k}])" for k, name in enumerate(names[:collect]))
        last = names[collect][:-2]
        fields += f"{', ' if fields else ''}{last}: args.slice({collect}).map(Number)"
    ids = json.dumps([piece.elem_id for piece in pieces])
    return (
        f"(...args) => {{ const detail = {{{fields}}}; for (const id of {ids}) "
        f"document.querySelector(`#${{id}} .live-layer`)?.dispatchEvent(new CustomEvent({json.dumps(MOVE_EVENT)}, "
        "{detail})); }"
    )


# The js of an event after which the server's picture shows what the browser cannot draw (a steer, say).
SERVER_DRAWS = "(value) => ({...(value || {}), off: true})"
