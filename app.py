"""Watch a GAN learn: the Gradio app, locally (`python app.py`) and as a Hugging Face Space.

python app.py                                   # every run in weights/ on http://127.0.0.1:7860
python app.py --weights runs/mnist              # one run folder, or a folder of runs
python app.py --weights owner/a owner/b         # Hub repos, one run each (commas work too)
GAN_WEIGHTS=owner/a,weights/tutorial python app.py   # the same through the environment
"""

import argparse
import logging
import os
import sys

import torch

from demo.engine import RunError
from demo.runs import Runs, load_specs, split_specs
from gan.errors import UsageError

DEFAULT_WEIGHTS = "weights"
QUEUE_WORKERS = 8  # events run at once; each takes milliseconds, so a few workers serve many users


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    on_space = bool(os.environ.get("SPACE_ID"))
    parser = argparse.ArgumentParser(prog="python app.py", description="Watch a GAN learn: the Gradio app.")
    parser.add_argument(
        "--weights",
        nargs="+",
        default=[os.environ.get("GAN_WEIGHTS", DEFAULT_WEIGHTS)],
        help="run folders (epoch-NNN/ inside), folders of runs, or Hub repo ids owner/name (one run each); "
        "several, separated by spaces or commas; a run is called by its folder or repo name "
        "(env GAN_WEIGHTS; default: weights, every run in it)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_space else "127.0.0.1"),
        help="address to bind (default 127.0.0.1; 0.0.0.0 on a Space or as GRADIO_SERVER_NAME says)",
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port (default 7860)"
    )
    return parser.parse_args(argv)


def load(specs: list[str]) -> Runs:
    """Load every usable epoch of every run once; with none, exit with one line."""
    try:
        return load_specs(split_specs(specs), fallback=DEFAULT_WEIGHTS)
    except (RunError, UsageError) as err:
        sys.exit(f"error: {err}")
    except Exception as err:  # e.g. a Hub error from resolve_weights
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        sys.exit(f"error: cannot load weights from {' '.join(specs)!r}: {first_line}")


def build(runs: Runs):
    """The Blocks with its queue; gradio is imported only here, once the weights are known to load."""
    from demo.ui import build_demo

    return build_demo(runs).queue(default_concurrency_limit=QUEUE_WORKERS, max_size=512)


logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("demo").setLevel(logging.INFO)
torch.set_num_threads(1)  # tiny matrices: one thread per request beats threads fighting over two cores
args = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
demo = build(load(args.weights))

if __name__ == "__main__":
    from demo.ui import launch_options

    demo.launch(server_name=args.host, server_port=args.port, share=False, **launch_options())
