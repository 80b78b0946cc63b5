"""Tour: a short guided story in plain words. Each step sets the app to its view (tab, run, epoch, seed, ...) and says
what to look at there; the views are the tabs' own links (demo/links.py), applied in place by a button."""

import html
from dataclasses import dataclass

import gradio as gr

from demo import explain
from demo.context import Context, Facts

TITLE = "Tour"


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown: what to look at once the view is open
    query: dict  # the view, as a link's query parameters (a tab and that tab's settings)
    needs: tuple[str, ...] = ("tutorial",)  # the runs the step shows; a step whose runs are not loaded is left out


STEPS = (
    Step(
        "From noise to digits",
        "The Timeline at epoch 1 of the tutorial's run: the Generator has barely started, and every picture is noise. "
        "Press **Play** (or drag the epoch): the same random inputs, drawn by later and later epochs, become digits.",
        {"tab": "timeline", "run": "tutorial", "epoch": 1, "seed": 0, "grid_size": 8, "labels": "false"},
    ),
    Step(
        "The two players",
        "Two networks learn against each other. The **Discriminator** (D) scores a picture from 0 (made by G) to 1 "
        "(a real digit); the **Generator** (G) learns only from D's scores. At epoch 1 D's two piles, real digits and "
        "fakes, lie far apart: D tells them apart easily. Move the epoch: as G improves the piles slide together, "
        "and where they overlap D can no longer tell real from fake.",
        {"tab": "discriminator", "run": "tutorial", "epoch": 1, "seed": 0, "grid_size": 6, "sample": 1},
    ),
    Step(
        "Why G's loss rises",
        explain.WHY_G_LOSS_RISES + "\n\nOn this Timeline, the loss plot is on the right; scrub from epoch 5 to 20.",
        {"tab": "timeline", "run": "tutorial", "epoch": 20, "seed": 0, "grid_size": 8, "labels": "false"},
    ),
    Step(
        "Mode collapse",
        explain.MODE_COLLAPSE + "\n\nHere: epoch 10 with labels on. Count how many samples are 3s.",
        {"tab": "timeline", "run": "tutorial", "epoch": 10, "seed": 0, "grid_size": 8, "labels": "true"},
    ),
    Step(
        "What the stable recipe changes",
        explain.STABLE_RECIPE + "\n\nHere: both recipes at epoch 8, from the same random inputs.",
        {"tab": "compare", "run_a": "tutorial", "run_b": "stable", "epoch": 8, "seed": 3, "grid": 6, "labels": "true"},
        ("tutorial", "stable"),
    ),
    Step(
        "One step by hand",
        "Play the game yourself: at **One step by hand**, press **D step** a few times until D is sure the fakes are "
        "fake, then compare the push G gets under the two losses (the G's loss choice). Under log(1 − D(G(z))), the "
        "original loss, a sure D gives G almost no push; under −log D(G(z)) it gives a strong one. That is why the "
        "tutorial trains G with the second.",
        {"tab": "discriminator", "run": "tutorial", "epoch": 5, "seed": 0, "grid_size": 6, "sample": 1},
    ),
    Step(
        "Your own digit",
        "Draw a digit on the pad. See what the classifier reads, when in training D would have believed it, the "
        "random input whose picture comes closest to it, and any sample beside its nearest training images: the "
        "Generator does not copy them.",
        {"tab": "own", "run": "stable", "epoch": 200, "seed": 0, "index": 0},
        ("stable",),
    ),
    Step(
        "Train your own",
        "Start a run of your own with the **fast** recipe and watch its grid change while it trains: digits appear "
        "within the first minute or two.",
        {"tab": "train", "recipe": "fast"},
        (),
    ),
)


def examples(facts: Facts) -> dict[str, dict]:
    return {}  # no endpoint: the steps use the other tabs' views


def steps_for(ctx: Context, tabs: set[str]) -> list[Step]:
    """The steps whose runs are loaded and whose tab is on the page (no Train tab without live training)."""
    runs = set(ctx.runs.engines)
    return [step for step in STEPS if step.query["tab"] in tabs and set(step.needs) <= runs]


def build(ctx: Context, tab: gr.Tab) -> None:
    gr.Markdown(
        "## A short tour\nA few steps, a minute each. **Show me** opens the step's view in its tab, already set up; "
        "come back here for the next step."
    )
    for number, step in enumerate(steps_for(ctx, set(ctx.tab_titles)), start=1):
        with gr.Group():
            gr.Markdown(f"### {number}. {html.escape(step.title)}\n{step.text}", elem_classes="tour-step")
            button = gr.Button(f"Show me: {step.title}", size="sm", elem_id=f"tour-{number}")
        ctx.tour.append((button, step.query))  # demo.links wires it to open the view, once every tab is built
