"""Digits: what can this epoch draw? One column per digit, the judge's surest samples, each digit's share on top."""

import gradio as gr

from demo import digits, explain, links, widgets
from demo.context import Context, Facts, shown_errors
from demo.engine import MAX_GRID, Engine
from demo.stats import judged
from demo.validation import whole_number
from gan.metrics import digits_drawn

TITLE = "Digits"
START_EPOCH = 10  # early on, the columns fill one by one; scrub on from here


def examples(facts: Facts) -> dict[str, dict]:
    return {"digit_sheet": {"run": facts.run, "epoch": facts.last, "seed": 0, "rows": 3}}


def recorded_sentence(record: dict) -> str:
    """The cards' figure for the same epoch (metrics.json: other latents, same rule), so the two can be compared."""
    if not judged(record):
        return ""
    count = record.get("eval_samples")
    samples = f"{count:,} samples" if isinstance(count, int) else "its samples"
    drawn = len(digits_drawn(record["class_histogram"]))
    return f"(The cards count {drawn}/10 over this epoch's {samples} from the run's fixed scoring latents, same rule.)"


def judge_for(engine: Engine) -> digits.Judge:
    """The shared judge, or a gr.Error with the one line that says why the digit features are off."""
    try:
        digits.check_side(engine)
        return digits.shared_judge()
    except digits.NoJudge as err:
        raise gr.Error(str(err), title="No digit labels", print_exception=False) from None


def judge_note() -> str:
    """'' when the judge loads; else the one line every digit feature shows instead."""
    try:
        digits.shared_judge()
    except digits.NoJudge as err:
        return str(err)
    return ""


class Handlers:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    @shown_errors
    def digit_sheet(self, run: str, epoch: float, seed: float, rows: float):
        """What this epoch can draw: ten columns, one per digit, each holding the samples the classifier is surest
        are that digit (among 500 latents from the seed; samples the judge calls "not a digit" are left out), with
        the share of the 500 accepted as that digit above its column.

        Args:
            run: name of a loaded run (a wrong name gets the list of valid ones).
            epoch: training epoch to draw with (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; picks the 500 latents.
            rows: samples per column, 1 to 10.
        """
        ctx = self.ctx
        engine = ctx.engine(run)
        (epoch, note), seed = ctx.epoch(engine, epoch), ctx.seed(seed)
        rows = whole_number(rows, "rows", 1, MAX_GRID)
        sheet = digits.digit_sheet(judge_for(engine), engine, epoch, seed, rows)
        recorded = recorded_sentence(engine.run.records.get(epoch, {}))
        caption = digits.sheet_caption(sheet, epoch, seed) + (f" {recorded}" if recorded else "")
        return widgets.named(sheet.image, run, epoch, seed, "digits"), caption + (f"\n\n{note}" if note else "")


def build(ctx: Context, tab: gr.Tab) -> None:
    handlers = Handlers(ctx)
    engine = ctx.runs.engines[ctx.runs.default]
    start, seed, rows = engine.nearest_epoch(START_EPOCH), 0, 8
    note = judge_note()
    gr.Markdown(
        "**What can this epoch draw?** Scrub the epoch to watch digits appear: first noise (not a digit), then "
        "only one or two digits (mode collapse), then all ten."
    )
    if note:
        gr.Markdown(note, elem_classes="note")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            epoch = widgets.epoch_slider(
                engine.epochs, start, "Epoch (scrub through training)", elem_classes="main-control"
            )
            run = widgets.run_dropdown(ctx)  # under the epoch: on a phone the epoch follows the picture
            seed_box, dice = widgets.seed_box("Seed", seed)
            rows_slider = gr.Slider(1, MAX_GRID, value=rows, step=1, label="Samples per digit")
            share = links.share_row("digits")
        with gr.Column(scale=2, min_width=300):
            picture = widgets.image(  # drawn when the tab opens; no label badge over the column heads
                "One column per digit", elem_id="digit-sheet", show_label=False, height=widgets.MAIN_HEIGHT
            )
            caption = gr.Markdown(note, elem_id="digit-sheet-caption")
    gr.Markdown(
        f"The project's classifier (the *judge*) sorts N = {digits.SHEET_SAMPLES} samples from one seed into ten "
        "columns, one per digit, surest first; a sample it does not take for a digit at all is counted as *not a "
        "digit* and left out. Above each column: its share of the N samples. A digit counts as drawn when it holds "
        f"at least {digits.DIGIT_SHARE:.0%} of N, the same rule as the cards, Compare and Train. An empty column "
        "says *not drawn yet*."
    )
    inputs, outputs = [run, epoch, seed_box, rows_slider], [picture, caption]
    drawn = gr.on(
        [epoch.input, rows_slider.input, seed_box.submit, seed_box.input],
        handlers.digit_sheet,
        inputs,
        outputs,
        api_name="digit_sheet",
        api_description=(
            f"Ten columns, one per digit: the classifier's surest samples of each among {digits.SHEET_SAMPLES} "
            f"latents from the seed, each digit's share on top. {widgets.run_doc(ctx)}; {widgets.epoch_doc(ctx)}; "
            f"{widgets.SEED_DOC}; rows 1-{MAX_GRID}. Returns (PNG, caption)."
        ),
        **widgets.LIVE,
    )
    widgets.stale_marks(drawn, picture, "the sheet")
    params = [links.run(ctx, run), links.epoch(ctx, epoch), links.seed(seed_box)]
    links.add(
        ctx,
        "digits",
        TITLE,
        share,
        [*params, links.whole(rows_slider, "rows", 1, MAX_GRID)],
        handlers.digit_sheet,
        outputs,
    )
    tab.select(handlers.digit_sheet, inputs, outputs, api_visibility="private", **widgets.LIVE)
    dice.click(widgets.random_seed, None, seed_box, **widgets.PRIVATE).then(
        handlers.digit_sheet, inputs, outputs, api_visibility="private", **widgets.LIVE
    )
    run.input(lambda r, e: widgets.follow_run(ctx, r, e), [run, epoch], epoch, **widgets.PRIVATE).then(
        handlers.digit_sheet, inputs, outputs, api_visibility="private", **widgets.LIVE
    )

    # The details sit under the tab's pictures: a picture and its control open in view together.
    explain.curious(explain.JUDGE)
