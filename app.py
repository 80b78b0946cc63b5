"""Watch a GAN learn: the Gradio app, locally (`python app.py`) and as a Hugging Face Space.

python app.py                          # weights/ on http://127.0.0.1:7860
python app.py --weights runs/mnist     # another run folder (or a Hub repo id, owner/name)
GAN_WEIGHTS=owner/name python app.py   # the same through the environment
"""

import argparse
import logging
import os
import sys
from pathlib import Path

import torch

from demo.engine import Engine, RunError, load_run
from gan.errors import UsageError

DEFAULT_WEIGHTS = "weights/tutorial"
QUEUE_WORKERS = 8  # events run at once; each takes milliseconds, so a few workers serve many users


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    on_space = bool(os.environ.get("SPACE_ID"))
    parser = argparse.ArgumentParser(prog="python app.py", description="Watch a GAN learn: the Gradio app.")
    parser.add_argument(
        "--weights",
        default=os.environ.get("GAN_WEIGHTS", DEFAULT_WEIGHTS),
        help="run folder with epoch-NNN/ folders, or a Hub repo id owner/name (env GAN_WEIGHTS; default: weights)",
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


def resolve(spec: str) -> Path:
    """A local folder as is; anything else through gan.hub (a Hub repo id), when that module exists."""
    if Path(spec).is_dir():
        return Path(spec)
    try:
        from gan.hub import resolve_weights
    except ImportError:
        return Path(spec)
    return Path(resolve_weights(spec, fallback=DEFAULT_WEIGHTS))


def load_engine(spec: str) -> Engine:
    """Load every usable epoch once; with none, exit with one line."""
    try:
        return Engine(load_run(resolve(spec)))
    except (RunError, UsageError) as err:
        sys.exit(f"error: {err}")
    except Exception as err:  # e.g. a Hub error from resolve_weights
        sys.exit(
            f"error: cannot load weights from {spec!r}: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        )


logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("demo").setLevel(logging.INFO)
torch.set_num_threads(1)  # tiny matrices: one thread per request beats threads fighting over two cores
args = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
engine = load_engine(args.weights)


def build(engine: Engine):
    """The Blocks with its queue; gradio is imported only here, once the weights are known to load."""
    from demo.ui import build_demo

    return build_demo(engine).queue(default_concurrency_limit=QUEUE_WORKERS, max_size=512)


demo = build(engine)

if __name__ == "__main__":
    from demo.ui import launch_options

    demo.launch(server_name=args.host, server_port=args.port, share=False, **launch_options())
