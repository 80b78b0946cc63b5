"""Train: a live run of the trainer, started from the page; every visitor watches it grow epoch by epoch."""

import html
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import gradio as gr
import pandas as pd
from PIL import Image

from demo import explain, links, spaces, widgets
from demo.context import Context, Facts, shown_errors
from demo.live import BOUNDS, PRESETS, LiveSettings, LiveStatus, LiveTrainer, check_settings, duration, preset
from demo.stats import card, digits_card, number, record_histogram_html, valid_histogram
from demo.validation import SEED_MAX, InputError, shown
from gan.layout import PREVIEW, PREVIEW_KEYS

TITLE = "Train"
DASH = 0.3  # a series of one point is drawn as a dash this many epochs long, ending at its epoch
X_START = 1 - DASH  # the plots' x axis starts here, so the first epoch's dash shows
PLOT_LABELS = (  # what each plot will show, said before the first epoch too (an empty plot shows only this)
    "Losses: D's and G's, one point per epoch",
    "D's mean output on real digits and on fakes, per epoch",
    "FID per epoch (lower is closer to real digits)",
    "IS per epoch (higher: clearer and more varied digits)",
)
TICK_S = 1.0  # how often an open page asks for news (a new epoch is drawn within this of being written)
RECIPE_LABELS = {"fast": "fast start"}  # how a recipe of gan.config is named on the page, where not by its name
SETTINGS = ("recipe", "lr", "beta1", "ema", "label_smoothing", "r1", "seed", "epochs")  # /live_start, in order


def examples(facts: Facts) -> dict[str, dict]:
    return {
        "live_start": asdict(LiveSettings(epochs=2)),
        "live_stop": {},
        "live_status": {},
        "live_push": {"repo_id": "alice/live-gan"},
    }


def on_space() -> bool:
    return spaces.on_space()


def shared_note(cap: int) -> str:
    """The shared Space's line above the settings: one trainer for everyone, and how to get your own."""
    return (
        f"**This is the shared Space**: every visitor watches the same live run, so runs stop at {cap} epochs here "
        "and the trainer is not offered to assistants (MCP). For your own trainer, with your own limits, "
        "duplicate the Space (it makes a copy under your account):"
    )


def hub_api(token: str):
    """The Hub client a push uses (tests point it at a fake Hub)."""
    from huggingface_hub import HfApi

    return HfApi(token=token)


def frame(records: tuple[dict, ...], series: dict[str, str], floor: object = None) -> pd.DataFrame | None:
    """Long-format (epoch, value, series) rows of metrics.json keys, with the real-data floor as a line."""
    rows = [
        (r["epoch"], float(r[key]), label)
        for key, label in series.items()
        for r in records
        if isinstance(r.get(key), (int, float))
    ]
    if isinstance(floor, (int, float)) and rows:
        rows += [(records[0]["epoch"], float(floor), "real data"), (records[-1]["epoch"], float(floor), "real data")]
    # A line needs two points: a series with one (after the first epoch) is drawn as a short dash ending at it.
    counts = Counter(label for _, _, label in rows)
    rows += [(epoch - DASH, value, label) for epoch, value, label in rows if counts[label] == 1]
    # None rather than an empty table: a plot whose first table is empty never draws its lines (Gradio 6.31).
    return pd.DataFrame(rows, columns=["epoch", "value", "series"]) if rows else None


def figures(status: LiveStatus) -> tuple[pd.DataFrame | None, ...]:
    """Losses, D's outputs, FID and IS per finished epoch."""
    records, reference = status.records, status.reference
    return (
        frame(records, {"d_loss": "D loss", "g_loss": "G loss"}),
        frame(records, {"d_real": "D(x) on real", "d_fake": "D(G(z)) on fake"}),
        frame(records, {"fid": "FID"}, reference.get("fid")),
        frame(records, {"inception_score": "IS"}, reference.get("inception_score")),
    )


def message_line(status: LiveStatus, note: str = "") -> str:
    """The one line under the cards: how the run stands (after `note`, when given), and when the trainer is
    free."""
    text = f"{note} {status.message}".strip()
    if status.running:
        free = f"about {duration(status.eta_s)}" if status.eta_s is not None else "a little while"
        text += f" Everyone on this page watches this run; the trainer is free for a new one in {free}."
    elif status.epoch and status.name:
        text += f" It is listed in the other tabs as {status.name}."
    warn = status.state in ("crashed", "failed")
    return f'<p class="note live-line{" live-error" if warn else ""}">{html.escape(text)}</p>'


def status_html(status: LiveStatus, note: str = "") -> str:
    """Cards: state, epoch, speed, time, ETA, the last epoch's quality; the class histogram; one message line."""
    record = status.records[-1] if status.records else {}
    epochs = f"{status.epoch} / {status.epochs}" if status.epochs else "-"
    eta = duration(status.eta_s) if status.eta_s is not None else ("-" if not status.running else "estimating")
    rate = f"{status.images_per_sec:,.0f}" if status.images_per_sec else "-"
    cards = [
        card("State", status.state, status.name or "no live run yet"),
        card("Epoch", epochs, "finished / asked for"),
        card("Images/s", rate, "training speed"),
        card("Elapsed", duration(status.elapsed_s) if status.name else "-", "since Start"),
        card("ETA", eta, "until the last epoch"),
    ]
    if "fid" in record:
        cards.append(card("FID", number(record["fid"]), f"real data {number(status.reference.get('fid'), 2)}"))
    if "inception_score" in record:
        floor = number(status.reference.get("inception_score"))
        cards.append(card("IS", number(record["inception_score"]), f"real data {floor}"))
    cards.append(digits_card(record))
    if valid_histogram(record.get("class_histogram")):
        cards.append(record_histogram_html(record, f"Which digits at epoch {status.epoch} (classifier)"))
    return f'<div class="stats">{"".join(cards)}</div>{message_line(status, note)}'


def read_picture(path: Path) -> tuple[Image.Image, dict[str, str]] | None:
    """A PNG read into memory (the trainer may replace the file any moment) with its text; None when unreadable."""
    try:
        with Image.open(path) as image:
            return image.convert("L"), dict(getattr(image, "text", {}))
    except (OSError, ValueError):
        return None


def preview(status: LiveStatus) -> tuple[Image.Image, tuple[int, int, int]] | None:
    """The trainer's drawing of the fixed latents during the epoch after the last finished one, with
    (epoch, step, steps); None when there is none newer than that epoch's grid."""
    if status.folder is None or not status.running:
        return None
    read = read_picture(status.folder / PREVIEW)
    if read is None:
        return None
    image, text = read
    try:
        when = tuple(int(text[key]) for key in PREVIEW_KEYS)
    except (KeyError, ValueError):
        return None
    image = image.resize((2 * image.width, 2 * image.height), Image.Resampling.NEAREST)  # the epochs' grids' scale
    return (image, when) if when[0] > status.epoch else None


def picture(status: LiveStatus) -> tuple[Image.Image | None, str, tuple]:
    """What the grid shows: the newest drawing of the same 100 z (mid-epoch preview, or the last finished
    epoch's grid), its label, and a key that changes when the drawing does."""
    drawn = preview(status)
    if drawn is not None:
        image, (epoch, step, steps) = drawn
        return image, f"The same 100 z during training: epoch {epoch}, step {step} of {steps}", (epoch, step)
    path = status.grid
    read = read_picture(path) if path is not None else None
    if read is None:
        return None, "The same 100 z (no picture yet)", (0, 0)
    return read[0], f"The same 100 z after epoch {status.epoch}", (status.epoch, -1)


class Handlers:
    def __init__(self, ctx: Context, live: LiveTrainer):
        self.ctx = ctx
        self.live = live

    @staticmethod
    def outputs(status: LiveStatus, note: str = "") -> tuple:
        """What every live endpoint returns: the status as JSON, the cards (their line led by `note`), the latest
        picture, four figures."""
        return (status.summary(), status_html(status, note), picture(status)[0], *figures(status))

    @shown_errors
    def live_start(
        self,
        recipe: str,
        lr: float,
        beta1: float,
        ema: float,
        label_smoothing: float,
        r1: float,
        seed: float,
        epochs: float,
    ):
        """Start a live training run (one per server; refused while one runs, with when it will be free).

        Args:
            recipe: the preset the settings start from: 'tutorial', 'stable' or 'fast' (stable, quicker start).
            lr: Adam learning rate, 1e-05 to 0.01.
            beta1: Adam beta1, 0 to 0.99.
            ema: decay of the exported moving average of G's weights, 0 (off) to 0.9999.
            label_smoothing: one-sided label smoothing, 0 to 0.4.
            r1: R1 penalty weight gamma, 0 (off) to 100.
            seed: whole number from 0 to 2147483647.
            epochs: whole number from 1 to the server's cap.
        """
        values = (recipe, lr, beta1, ema, label_smoothing, r1, seed, epochs)
        settings = check_settings(*values, max_epochs=self.live.options.max_epochs)
        return self.outputs(self.live.start(settings))

    @shown_errors
    def live_stop(self):
        """Stop the live run within a second; its finished epochs are kept (and listed in every tab). With
        nothing training (none started, or the last one ended or failed), the status line says so: no error."""
        try:
            return self.outputs(self.live.stop())
        except InputError as err:
            return self.outputs(self.live.status(watched=False), note=str(err))

    @shown_errors
    def live_status(self):
        """The live run now: state, epoch, ETA and speed (JSON), the cards, the last grid and the figures."""
        return self.outputs(self.live.status())

    def refresh(self, shown_before: dict | None):
        """The page's tick: the cards every time; the picture when the trainer drew a new one (about every second
        while it trains); the figures only when a new epoch (or run) arrived. What is on screen stays until then."""
        status = self.live.status()
        image, label, drawn = picture(status)
        key = {"run": status.name, "epoch": status.epoch, "state": status.state, "picture": list(drawn)}
        before = shown_before or {}
        same_epoch = all(before.get(name) == key[name] for name in ("run", "epoch", "state"))
        new_picture = image is not None and before.get("picture") != key["picture"]
        image = gr.Image(image, label=label) if new_picture else gr.skip()
        if same_epoch:
            return (gr.skip(), status_html(status), image, *[gr.skip()] * 4, key)
        x_lim = [X_START, max(status.epochs, 2)]  # the whole run's length from the start: the curves grow into it
        plots = [gr.LinePlot(value=f, x_lim=x_lim) for f in figures(status)]
        return (status.summary(), status_html(status), image, *plots, key)

    @shown_errors
    def live_push(self, repo_id: str, token: gr.OAuthToken | None = None):
        """Save the live run (its finished epochs, metrics and a card) to a Hub repo you name.

        Args:
            repo_id: owner/name of a model repo; made if it does not exist.
        """
        from huggingface_hub import get_token

        from gan.errors import UsageError
        from gan.hub import check_repo_id, push

        try:
            repo_id = check_repo_id(repo_id.strip() if isinstance(repo_id, str) else "")
        except UsageError:
            raise InputError(
                f"repo_id must be a Hub repo id, owner/name (e.g. alice/live-gan); got {shown(repo_id)}"
            ) from None
        status = self.live.status()
        if not status.name or not status.epoch:
            raise InputError("There is no finished live epoch to save yet: press Start and wait for epoch 1.")
        secret = token.token if token is not None else (None if on_space() else get_token())
        if not secret:
            how = (
                "sign in with Hugging Face (the button above) and try again"
                if on_space()
                else "set HF_TOKEN to a token with write access before starting the app"
            )
            raise InputError(f"Saving to the Hub needs a token: {how}.")
        try:
            report = push(status.folder, repo_id, api=hub_api(secret))
        except UsageError as err:
            raise InputError(f"Not saved: {err}") from None
        where = f"[{repo_id}](https://huggingface.co/{repo_id})"
        if report.commit is None:
            return f"{where} already holds {status.name} as it is now (epochs 1-{status.epoch})."
        return f"Saved {status.name} (epochs 1-{status.epoch}, {len(report.uploaded)} files) to {where}."


def preset_values(recipe: str) -> list:
    """A preset's settings for the boxes (unknown names change nothing)."""
    if recipe not in PRESETS:
        return [gr.skip()] * 5
    settings = preset(recipe)
    return [settings.lr, settings.beta1, settings.ema, settings.label_smoothing, settings.r1]


def build(ctx: Context, tab: gr.Tab) -> None:
    live: LiveTrainer = ctx.live
    handlers = Handlers(ctx, live)
    cap = live.options.max_epochs
    default = preset("fast", epochs=min(LiveSettings().epochs, cap))
    shared = spaces.mode() == spaces.SHARED
    # On the shared Space the page's own buttons still start, stop and save; callers through the API (and so
    # assistants) only watch.
    api_visibility = "private" if shared else "public"
    gr.Markdown(
        "Train the GAN **here and now**: press **Start** and watch the same 100 latent vectors drawn again about "
        "every second while it learns."
    )
    explained = (
        "The app starts the real trainer (`python -m gan.train`); after each epoch come the losses and the "
        "judge's scores. The *Digits drawn* card counts the digits the judge accepts (each at least 2% of its "
        "samples, pictures it does not take for a digit left out): watch it climb to 10/10, soonest with the fast "
        f"start and latest with the tutorial's recipe. One live run at a time per server, up to {cap} epochs; "
        "everyone on the page watches the same run."
    )
    if shared:
        with gr.Row(equal_height=True, elem_id="shared-space"):
            gr.Markdown(shared_note(cap), elem_classes="note")
            gr.DuplicateButton("Duplicate this Space", size="md", scale=0, min_width=200)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            with gr.Row(elem_classes="main-control"):  # first: Start and the live picture open in view together
                start = gr.Button("Start", variant="primary", elem_id="live-start")
                stop = gr.Button("Stop", variant="stop", elem_id="live-stop")
            recipe = gr.Radio(
                [(RECIPE_LABELS.get(name, name), name) for name in PRESETS],  # gan.config's recipes, in its order
                value=default.recipe,
                label="Recipe",
                info="Fills in the settings below. Fast start: stable with 2x the learning rate and a shorter EMA",
            )
            with gr.Row():
                lr = gr.Number(default.lr, label="Learning rate", minimum=BOUNDS["lr"][0], maximum=BOUNDS["lr"][1])
                beta1 = gr.Number(default.beta1, label="Adam β1", minimum=0, maximum=BOUNDS["beta1"][1])
            with gr.Row():
                ema = gr.Number(default.ema, label="EMA of G", minimum=0, maximum=BOUNDS["ema"][1], info="0 = off")
                smoothing = gr.Number(
                    default.label_smoothing, label="Label smoothing", minimum=0, maximum=BOUNDS["label_smoothing"][1]
                )
            with gr.Row():
                r1 = gr.Number(default.r1, label="R1 γ", minimum=0, maximum=BOUNDS["r1"][1], info="0 = off")
                seed = gr.Number(default.seed, label="Seed", precision=0, minimum=0, maximum=SEED_MAX)
            epochs = gr.Slider(1, cap, value=default.epochs, step=1, label="Epochs")
            explain.term(explain.RECIPE_TERMS)
            share = links.share_row("train")  # a link fills in these settings; it never starts a run
            with gr.Accordion("Save this run to the Hugging Face Hub", open=False):
                if on_space():
                    gr.LoginButton()
                repo = gr.Textbox(label="Repo", placeholder="your-name/mnist-gan-live", max_lines=1)
                save = gr.Button("Save to the Hub")
                saved = gr.Markdown()
        with gr.Column(scale=3, min_width=300):
            status = live.status(watched=False)
            summary = gr.JSON(status.summary(), visible=False)
            cards = gr.HTML(status_html(status), elem_id="live-status")
            image, label, _ = picture(status)
            grid = widgets.image(label, image, elem_id="live-grid")
    gr.Markdown(explained)
    plot_args = {"x": "epoch", "y": "value", "color": "series", "color_map": widgets.COLORS, "height": 220}
    plot_args["x_lim"] = [X_START, max(status.epochs or default.epochs, 2)]
    plot_args["show_label"] = True
    losses_label, outputs_label, fid_label, is_label = PLOT_LABELS
    losses, outputs, fid, inception = figures(status)
    with gr.Row():
        losses_plot = gr.LinePlot(losses, label=losses_label, y_title="BCE loss", min_width=280, **plot_args)
        outputs_plot = gr.LinePlot(
            outputs, label=outputs_label, y_title="probability 'real'", y_lim=[0, 1], min_width=280, **plot_args
        )
    with gr.Row():
        fid_plot = gr.LinePlot(fid, label=fid_label, y_title="FID", min_width=280, **plot_args)
        is_plot = gr.LinePlot(inception, label=is_label, y_title="IS", min_width=280, **plot_args)
    gr.Markdown(f"{explain.BCE[0]} {explain.FID[0]} {explain.IS[0]}", elem_classes="explain")
    explain.curious(explain.BCE, explain.FID, explain.IS, explain.JUDGE)

    settings = [recipe, lr, beta1, ema, smoothing, r1, seed, epochs]
    params = [links.one_of(recipe, "recipe", list(PRESETS))]
    params += [links.real(box, name, *BOUNDS[name]) for box, name in zip(settings[1:6], SETTINGS[1:6], strict=True)]
    links.add(ctx, "train", TITLE, share, [*params, links.seed(seed), links.whole(epochs, "epochs", 1, cap)])
    shown_state = gr.State(None)
    views = [summary, cards, grid, losses_plot, outputs_plot, fid_plot, is_plot]
    settings_doc = (
        "recipe 'tutorial', 'stable' or 'fast'; "
        + "; ".join(f"{name} {low:g}-{high:g}" for name, (low, high) in BOUNDS.items())
        + f"; seed 0-{SEED_MAX}; epochs 1-{cap}"
    )
    returns = "Returns (status JSON: state, run, epoch, epochs, elapsed_s, eta_s, images_per_sec, message; cards HTML; "
    returns += "the last epoch's 10x10 grid PNG; losses, D outputs, FID and IS tables)."
    start.click(
        handlers.live_start,
        settings,
        views,
        api_name="live_start",
        api_visibility=api_visibility,
        api_description=f"Start a live run of the trainer (one per server). {settings_doc}. {returns}",
        preprocess=False,
        concurrency_limit=1,
    ).then(lambda: None, None, shown_state, **widgets.PRIVATE)
    stop.click(
        handlers.live_stop,
        None,
        views,
        api_name="live_stop",
        api_visibility=api_visibility,
        api_description=f"Stop the live run (within a second); finished epochs are kept. {returns}",
        concurrency_limit=1,
    )
    gr.Timer(TICK_S).tick(
        handlers.refresh, shown_state, [*views, shown_state], api_visibility="private", show_progress="hidden"
    )
    # The API's way to watch: the same outputs as the page's tick, always all of them.
    gr.Button(visible=False).click(
        handlers.live_status,
        None,
        views,
        api_name="live_status",
        api_description=f"The live run now. {returns}",
        show_progress="hidden",
    )
    recipe.input(preset_values, recipe, [lr, beta1, ema, smoothing, r1], **widgets.PRIVATE)
    save.click(
        handlers.live_push,
        repo,
        saved,
        api_name="live_push",
        api_visibility=api_visibility,
        api_description=(
            "Save the live run's finished epochs to a Hub repo (owner/name). Needs HF_TOKEN locally, or a "
            "'Sign in with Hugging Face' session on a Space. Returns a Markdown line."
        ),
        concurrency_limit=1,
    )
