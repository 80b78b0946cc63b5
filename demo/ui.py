"""The Gradio Blocks, assembled from the tab modules in TABS; every action is a named API endpoint."""

import html

import gradio as gr

from demo.context import Context, Facts
from demo.engine import Engine, epoch_ranges
from demo.tabs import edit, generate, interpolate, timeline
from demo.widgets import launch_options

__all__ = ["TABS", "build_demo", "examples", "launch_options"]

TABS = [generate, timeline, interpolate, edit]


def examples(facts: Facts) -> dict[str, dict]:
    """Valid arguments of every endpoint ({parameter: value} in order), by API name, as the tab modules declare them."""
    return {name: args for tab in TABS for name, args in tab.examples(facts).items()}


def build_demo(engine: Engine) -> gr.Blocks:
    """The whole app for one loaded run. No per-user state: every handler is a pure function of its inputs."""
    ctx = Context(engine)
    run = engine.run
    with gr.Blocks(title="Watch a GAN learn", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            "# Watch a GAN learn to write digits\n"
            "A small MLP GAN (the classic PyTorch tutorial's) trained on MNIST and saved after every epoch. "
            f"Loaded **{len(engine.epochs)} epochs** ({epoch_ranges(engine.epochs)}) from `{run.folder.name}/`.",
            elem_id="intro",
        )
        if run.skipped:
            gr.Markdown(
                "**Some files were skipped:**\n" + "\n".join(f"- {html.escape(s)}" for s in run.skipped),
                elem_classes="note",
            )
        for tab in TABS:
            name = tab.__name__.rsplit(".", 1)[-1]
            with gr.Tab(tab.TITLE, id=name) as page:
                tab.build(ctx, page)
    return demo
