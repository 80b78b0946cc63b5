"""Watch a GAN learn: the Gradio app, locally (`python app.py`) and as a Hugging Face Space.

python app.py                                   # every run in weights/ on http://127.0.0.1:7860
python app.py --weights runs/mnist              # one run folder, or a folder of runs
python app.py --weights owner/a owner/b         # Hub repos, one run each (commas work too)
GAN_WEIGHTS=owner/a,weights/tutorial python app.py   # the same through the environment
python app.py --live-data-dir ../shared/data    # where the Train tab's trainer finds MNIST (else it downloads)
python app.py --no-live                         # no Train tab
python app.py --data-dir ../shared/data         # MNIST for Your digit's nearest training images (else downloaded)
python app.py --mcp                             # every public endpoint as an MCP tool too (on by default on a Space)
"""

import argparse
import logging
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import torch

from demo import spaces
from demo.engine import RunError
from demo.live import DEFAULT_ROOT, LiveOptions, LiveTrainer
from demo.runs import Runs, load_specs, split_specs
from gan.errors import UsageError

DEFAULT_WEIGHTS = "weights"
LIVE_MAX_EPOCHS = {"local": 50, "space": 20}  # a Space's CPUs are shared: shorter live runs there
# and on the shared Space (the one the deploy made, not a duplicate) at most spaces.SHARED_MAX_EPOCHS, whatever is asked


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    on_space = spaces.on_space()
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
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where Your digit's nearest-neighbour view finds MNIST's training images (MNIST/raw/*-ubyte; downloaded "
        "there on first use when missing and online); default $GAN_DATA_DIR, else ../shared/data when it holds "
        "MNIST, else data",
    )
    parser.add_argument(
        "--mcp",
        action=argparse.BooleanOptionalAction,
        default=on_space or os.environ.get("GRADIO_MCP_SERVER", "").lower() == "true",
        help="serve every public endpoint as an MCP tool at /gradio_api/mcp/, for assistants "
        "(default: on on a Space or with GRADIO_MCP_SERVER=True, off locally)",
    )
    live = parser.add_argument_group("live training (the Train tab)")
    live.add_argument("--no-live", action="store_true", help="no Train tab: the app only replays runs")
    live.add_argument(
        "--live-max-epochs",
        type=int,
        default=LIVE_MAX_EPOCHS["space" if on_space else "local"],
        help=f"the most epochs a visitor may ask for (default {LIVE_MAX_EPOCHS['local']}; "
        f"{LIVE_MAX_EPOCHS['space']} on a Space; never more than {spaces.SHARED_MAX_EPOCHS} on the shared one)",
    )
    live.add_argument(
        "--live-keep", type=int, default=3, help="finished live runs kept on disk; older ones are deleted (default 3)"
    )
    live.add_argument("--live-dir", default=DEFAULT_ROOT, help=f"where live runs are written (default {DEFAULT_ROOT})")
    live.add_argument(
        "--live-data-dir", default="data", help="the trainer's --data-dir: MNIST/raw/*-ubyte (default data)"
    )
    live.add_argument(
        "--live-idle-minutes", type=float, default=5.0, help="stop a live run nobody watches after this (default 5)"
    )
    live.add_argument(
        "--live-threads",
        type=int,
        default=LiveOptions.threads,
        help="the trainer's --threads: 0 = its own choice, re-timed every 100 steps between one per core and one "
        "(default %(default)s)",
    )
    live.add_argument(
        "--live-nice", type=int, default=LiveOptions.nice, help="the trainer's niceness (default %(default)s)"
    )
    live.add_argument(
        "--live-warm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a trainer ready (torch imported) while none trains, so Start begins about 3 s sooner; it costs "
        "an idle process of about 380 MB (default: on)",
    )
    live.add_argument(
        "--live-trainer-args",
        default="",
        help="more flags for python -m gan.train, e.g. '--dataset fake --steps-per-epoch 20' (quick checks)",
    )
    args = parser.parse_args(argv)
    for name in ("live_max_epochs", "live_keep"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.live_threads < 0:
        parser.error("--live-threads must be 0 (the trainer's own choice) or more")
    return args


def live_trainer(args: argparse.Namespace) -> LiveTrainer | None:
    """The manager of the Train tab's trainer process, or None with --no-live."""
    if args.no_live:
        return None
    cap = spaces.SHARED_MAX_EPOCHS if spaces.mode() == spaces.SHARED else args.live_max_epochs
    options = LiveOptions(
        root=Path(args.live_dir),
        max_epochs=min(args.live_max_epochs, cap),
        keep=args.live_keep,
        idle_s=args.live_idle_minutes * 60,
        data_dir=args.live_data_dir,
        trainer_args=tuple(shlex.split(args.live_trainer_args)),
        threads=args.live_threads,
        nice=args.live_nice,
        warm=args.live_warm,
    )
    return LiveTrainer(options)


def load(specs: list[str]) -> Runs:
    """Load every usable epoch of every run once; with none, exit with one line."""
    try:
        return load_specs(split_specs(specs), fallback=DEFAULT_WEIGHTS)
    except (RunError, UsageError) as err:
        sys.exit(f"error: {err}")
    except Exception as err:  # e.g. a Hub error from resolve_weights
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        sys.exit(f"error: cannot load weights from {' '.join(specs)!r}: {first_line}")


def build(runs: Runs, live: LiveTrainer | None = None):
    """The Blocks with its queue; gradio is imported only here, once the weights are known to load."""
    from demo.ui import build_demo
    from demo.widgets import queue_options

    return build_demo(runs, live).queue(**queue_options())


logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("demo").setLevel(logging.INFO)
torch.set_num_threads(1)  # tiny matrices: one thread per request beats threads fighting over two cores
args = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
if args.data_dir:
    os.environ["GAN_DATA_DIR"] = args.data_dir  # read by demo.own_digit.default_data_dir when the view is first used
demo = build(load(args.weights), live_trainer(args))

if __name__ == "__main__":
    from demo.gradio_fixes import sweep_at_exit
    from demo.ui import launch_options

    # Ctrl-C and SIGTERM (a Space or a container stopping the app) close the app the same way: demo.close() ends
    # the queue and the server, whose shutdown deletes the files Gradio served from its cache (Gradio's own Ctrl-C
    # handling only stops the server, which then outlives its 5 s join, so they were all left behind); sweep_at_exit
    # then deletes whatever that shutdown, cut short or racing a last request, left. The live run's trainer is
    # stopped at exit. SIGTERM exits with 143. (In Gradio's SSR mode, Gradio's own SIGTERM handler stops its Node
    # server and exits with 0; the clean-up below still runs on the way out.)
    stopping = []

    def on_sigterm(*_) -> None:
        if not stopping:  # once, and never inside the clean-up below
            stopping.append("SIGTERM")
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=False,
            prevent_thread_lock=True,
            mcp_server=args.mcp,
            **launch_options(),
        )
        # With GRADIO_DEBUG=1, launch itself blocked until Ctrl-C stopped the server (should_exit is then set).
        while demo.is_running and not (demo.server and demo.server.should_exit):
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("Stopping: closing the server and deleting the files it served.", flush=True)
    finally:
        stopping.append("closing")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break into the clean-up either
        demo.close(verbose=False)
        sweep_at_exit(demo)
    if stopping[0] == "SIGTERM":
        sys.exit(143)
