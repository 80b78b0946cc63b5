"""The Gradio Blocks: four tabs over one shared Engine, every action a named API endpoint."""

import functools
import html
import logging
import secrets
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from demo.engine import MAX_GRID, Engine, Run, epoch_ranges
from demo.validation import SEED_MAX, InputError, choice, real_number, whole_number, whole_numbers

log = logging.getLogger("demo")

METHODS = ("slerp", "lerp")
MAX_FRAMES = 30  # interpolation strip length cap
MAX_SHEET_ROWS = 24  # progression sheet: at most this many epochs
STRENGTH = 4.0  # edit sliders move a latent by up to this many standard deviations along a direction
GIF_MAX_AGE_S = 1800  # our GIF temp files older than this are deleted (Gradio keeps its own copy)
COLORS = {
    "D loss": "#6366f1",
    "G loss": "#f59e0b",
    "D(x) on real": "#10b981",
    "D(G(z)) on fake": "#ef4444",
    "FID": "#8b5cf6",
    "IS": "#0ea5e9",
    "digits present": "#f59e0b",
    "real data": "#94a3b8",
    "this epoch": "#111827",
}
CSS = """
.pixels img { image-rendering: pixelated; image-rendering: crisp-edges; }
.pixels .image-frame img, .pixels img { object-fit: contain; }
#intro p { margin: 0.2rem 0; }
.note { border-left: 4px solid #f59e0b; padding: 0.4rem 0.8rem; background: var(--background-fill-secondary); }
.stats { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.stat { padding: 0.35rem 0.6rem; border-radius: 8px; background: var(--background-fill-secondary); min-width: 6.2rem; }
.stat b { display: block; font-size: 1.2rem; line-height: 1.4; }
.stat small { color: var(--body-text-color-subdued); }
.hist { display: flex; align-items: flex-end; gap: 2px; height: 2.6rem; }
.hist i { flex: 1; background: var(--color-accent); border-radius: 2px 2px 0 0; min-height: 1px; }
.hist-labels { display: flex; gap: 2px; font-size: 0.7rem; text-align: center; }
.hist-labels span { flex: 1; }
.seed-row .dice { align-self: stretch; }
@media (max-width: 640px) {
  .tab-container button { padding: 0 8px !important; }
  #intro h1 { font-size: 1.5rem; }
}
"""


def theme() -> gr.themes.Base:
    """System fonts only: nothing is fetched from the internet when the page opens."""
    fonts = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]
    return gr.themes.Soft(
        primary_hue="violet", neutral_hue="slate", font=fonts, font_mono=["ui-monospace", "monospace"]
    )


def launch_options() -> dict:
    """Keyword arguments for demo.launch() that belong to the look (Gradio 6 takes them there)."""
    # No run history: every slider step is a run, and the browser would keep them all.
    return {"theme": theme(), "css": CSS, "run_history": False, "footer_links": ["api", "gradio", "settings"]}


def shown_errors(fn):
    """Bad input becomes a gr.Error with its message; anything unexpected becomes a short gr.Error too."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as err:
            raise gr.Error(str(err), title="Not allowed", print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong drawing that; please try again.", print_exception=False) from None

    return wrapper


def _number(value: float | None, digits: int = 3) -> str:
    return (
        "n/a"
        if not isinstance(value, (int, float))
        else f"{value:.{digits}g}"
        if abs(value) >= 100
        else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    )


class Endpoints:
    """Each public method is one event handler: it validates raw inputs, then asks the Engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.run: Run = engine.run
        self.first, self.last = engine.epochs[0], engine.epochs[-1]
        self.gif_dir = Path(tempfile.mkdtemp(prefix="gan-demo-gifs-"))

    # -- input checks shared by the endpoints
    def _epoch(self, value: object) -> tuple[int, str]:
        asked = whole_number(value, "epoch", self.first, self.last)
        epoch = self.engine.nearest_epoch(asked)
        note = "" if epoch == asked else f"Epoch {asked} was not saved; showing the nearest saved epoch, {epoch}."
        return epoch, note

    @staticmethod
    def _seed(value: object, name: str = "seed") -> int:
        return whole_number(value, name, 0, SEED_MAX)

    @staticmethod
    def _size(value: object) -> int:
        return whole_number(value, "grid size", 1, MAX_GRID)

    def _gif_file(self, data: bytes, name: str) -> str:
        """Write a GIF to a fresh, uniquely named temp file (Gradio copies it into its own cache)."""
        cutoff = time.time() - GIF_MAX_AGE_S
        for old in self.gif_dir.glob("*.gif"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.gif_dir, prefix=f"{name}-", suffix=".gif", delete=False) as handle:
            handle.write(data)
        return handle.name

    # -- what the person sees next to an image
    def stats_html(self, epoch: int, note: str = "") -> str:
        """The epoch's training record and quality measures as small cards."""
        record = self.run.records.get(epoch, {})
        reference = self.run.reference
        cards = [("Epoch", str(epoch), f"of {self.last}")]
        if record:
            cards += [
                ("D(x)", _number(record.get("d_real")), "D's score on real digits"),
                ("D(G(z))", _number(record.get("d_fake")), "D's score on fakes"),
                ("D loss", _number(record.get("d_loss")), "G loss " + _number(record.get("g_loss"))),
            ]
        if "fid" in record:
            floor = (
                f"real data {_number(reference['fid'], 2)}"
                if isinstance(reference.get("fid"), (int, float))
                else "lower is better"
            )
            cards.append(("FID", _number(record["fid"], 3), floor))
        if "inception_score" in record:
            floor = reference.get("inception_score")
            cards.append(
                (
                    "IS",
                    _number(record["inception_score"], 3),
                    f"real data {_number(floor, 3)}" if isinstance(floor, (int, float)) else "higher is better, max 10",
                )
            )
        if "digits_present" in record:
            cards.append(("Digits", f"{record['digits_present']}/10", "classes drawn"))
        parts = [
            f'<div class="stat"><small>{html.escape(k)}</small><b>{html.escape(v)}</b><small>{html.escape(s)}</small></div>'
            for k, v, s in cards
        ]
        histogram = record.get("class_histogram")
        if isinstance(histogram, list) and len(histogram) == 10 and all(isinstance(h, (int, float)) for h in histogram):
            top = max(max(histogram), 1e-9)
            bars = "".join(
                f'<i style="height:{max(2, round(100 * h / top))}%" title="{d}: {h:.1%}"></i>'
                for d, h in enumerate(histogram)
            )
            labels = "".join(f"<span>{d}</span>" for d in range(10))
            parts.append(
                f'<div class="stat" style="min-width:12rem"><small>Which digits (classifier)</small><div class="hist">{bars}</div><div class="hist-labels">{labels}</div></div>'
            )
        if not record:
            parts.append('<div class="stat"><small>No training record for this epoch in metrics.json</small></div>')
        note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
        return f'{note_html}<div class="stats">{"".join(parts)}</div>'

    def plots(self, epoch: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Long-format frames for the four plots, each with a vertical line at `epoch`."""
        records = [self.run.records[e] for e in sorted(self.run.records)]

        def frame(
            series: dict[str, str], reference_key: str | None = None, bounds: tuple[float, float] | None = None
        ) -> pd.DataFrame:
            rows = [
                (r["epoch"], float(r[key]), label)
                for key, label in series.items()
                for r in records
                if isinstance(r.get(key), (int, float))
            ]
            if reference_key and isinstance(self.run.reference.get(reference_key), (int, float)) and rows:
                value = float(self.run.reference[reference_key])
                rows += [(self.first, value, "real data"), (self.last, value, "real data")]
            if rows:
                values = [v for _, v, _ in rows]
                low, high = bounds or (min(values), max(values))
                rows += [(epoch, low, "this epoch"), (epoch, high, "this epoch")]
            return pd.DataFrame(rows, columns=["epoch", "value", "series"])

        return (
            frame({"d_loss": "D loss", "g_loss": "G loss"}),
            frame({"d_real": "D(x) on real", "d_fake": "D(G(z)) on fake"}, bounds=(0.0, 1.0)),
            frame({"fid": "FID"}, "fid"),
            frame({"inception_score": "IS"}, "inception_score"),
        )

    # -- endpoints
    @shown_errors
    def generate(self, epoch: float, seed: float, grid_size: float):
        """Draw a grid of digits from one saved epoch.

        Args:
            epoch: training epoch to draw from; between the first and last saved epoch (the nearest saved one is used).
            seed: whole number from 0 to 2147483647; the same seed always gives the same latents.
            grid_size: n for an n x n grid, 1 to 10.
        """
        (epoch, note), seed, size = self._epoch(epoch), self._seed(seed), self._size(grid_size)
        return self.engine.seed_grid(epoch, seed, size), self.stats_html(epoch, note)

    @shown_errors
    def timeline(self, epoch: float, seed: float, grid_size: float):
        """The same latents (from the seed) rendered by the Generator of one epoch.

        Args:
            epoch: training epoch; in-between values use the nearest saved epoch.
            seed: whole number from 0 to 2147483647; the run's training seed reproduces its own sample grids.
            grid_size: n for an n x n grid, 1 to 10.
        """
        return self.generate.__wrapped__(self, epoch, seed, grid_size)

    @shown_errors
    def metric_plots(self, epoch: float):
        """Per-epoch training records from metrics.json (losses, D outputs, FID, IS) with the epoch marked.

        Args:
            epoch: training epoch to mark on the plots.
        """
        epoch, _ = self._epoch(epoch)
        return self.plots(epoch)

    @shown_errors
    def progression(self, seed: float, columns: float, epochs: list):
        """A sheet with one row per chosen epoch and the same latent in each column.

        Args:
            seed: whole number from 0 to 2147483647.
            columns: latents per row, 1 to 10.
            epochs: list of saved epochs to show as rows (at most 24).
        """
        seed = self._seed(seed)
        columns = whole_number(columns, "columns", 1, MAX_GRID)
        if isinstance(epochs, (list, tuple)):  # the API documents the dropdown's values as strings
            epochs = [int(e) if isinstance(e, str) and e.isdigit() and len(e) < 10 else e for e in epochs]
        chosen = whole_numbers(epochs, "epochs", self.first, self.last, MAX_SHEET_ROWS)
        missing = [e for e in chosen if e not in self.run.generators]
        if missing:
            raise InputError(f"epochs must be saved epochs ({epoch_ranges(self.engine.epochs)}); {missing[0]} is not")
        return self.engine.progression(chosen, seed, columns)

    @shown_errors
    def timeline_gif(self, seed: float, grid_size: float):
        """An animated GIF of the whole run: every saved epoch rendering the same grid.

        Args:
            seed: whole number from 0 to 2147483647.
            grid_size: n for an n x n grid, 1 to 10.
        """
        seed, size = self._seed(seed), self._size(grid_size)
        return self._gif_file(self.engine.run_gif(seed, size), f"gan-training-seed{seed}-{size}x{size}")

    @shown_errors
    def interpolate(self, epoch: float, seed_a: float, seed_b: float, t: float, method: str):
        """The digit at t on the way from seed A's latent to seed B's latent.

        Args:
            epoch: training epoch to draw with.
            seed_a: start seed, 0 to 2147483647.
            seed_b: end seed, 0 to 2147483647.
            t: position from 0 (A) to 1 (B).
            method: "slerp" (along the sphere, keeps the latent's length) or "lerp" (straight line).
        """
        (epoch, note), seed_a, seed_b = self._epoch(epoch), self._seed(seed_a, "seed A"), self._seed(seed_b, "seed B")
        t, method = real_number(t, "t", 0.0, 1.0), choice(method, "method", METHODS)
        latent = self.engine.mix(seed_a, seed_b, t, method)
        norms = [float(self.engine.latents(s, 1).norm()) for s in (seed_a, seed_b)]
        caption = (
            f"**t = {t:.2f}** with {method}, epoch {epoch}: the latent's length is **{float(latent.norm()):.2f}** "
            f"(A: {norms[0]:.2f}, B: {norms[1]:.2f}; random latents have length about {self.engine.latent_dim**0.5:.0f})."
        )
        return self.engine.grid(epoch, latent, 1, 1), caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def interpolation_strip(self, epoch: float, seed_a: float, seed_b: float, frames: float, method: str):
        """A strip of frames from seed A to seed B, and the same as a GIF (there and back).

        Args:
            epoch: training epoch to draw with.
            seed_a: start seed, 0 to 2147483647.
            seed_b: end seed, 0 to 2147483647.
            frames: images in the strip, 2 to 30.
            method: "slerp" or "lerp".
        """
        (epoch, _), seed_a, seed_b = self._epoch(epoch), self._seed(seed_a, "seed A"), self._seed(seed_b, "seed B")
        frames, method = whole_number(frames, "frames", 2, MAX_FRAMES), choice(method, "method", METHODS)
        strip, gif = self.engine.interpolation_strip(epoch, seed_a, seed_b, frames, method)
        return strip, self._gif_file(gif, f"gan-{method}-epoch{epoch}-seeds{seed_a}-{seed_b}")

    @shown_errors
    def edit(
        self,
        epoch: float,
        seed: float,
        grid_size: float,
        direction_1: float,
        direction_2: float,
        direction_3: float,
        direction_4: float,
        direction_5: float,
    ):
        """Push the seed's latents along the Generator's top principal directions.

        Args:
            epoch: training epoch whose Generator (and directions) to use.
            seed: whole number from 0 to 2147483647; the single digit is the grid's top-left one.
            grid_size: n for the n x n grid that gets the same edit, 1 to 10.
            direction_1: strength along direction 1, -4 to 4 (standard deviations); likewise direction_2..5.
        """
        (epoch, note), seed, size = self._epoch(epoch), self._seed(seed), self._size(grid_size)
        strengths = (direction_1, direction_2, direction_3, direction_4, direction_5)
        values = [real_number(s, f"direction {k + 1}", -STRENGTH, STRENGTH) for k, s in enumerate(strengths)]
        latents = self.engine.edited_latents(epoch, seed, size * size, values)
        _, shares = self.engine.directions(epoch)
        caption = f"Epoch {epoch}. Share of the image change each direction explains: " + ", ".join(
            f"**{k + 1}**: {share:.0%}" for k, share in enumerate(shares.tolist())
        )
        digit = self.engine.grid(epoch, latents[:1], 1, 1)
        return digit, self.engine.grid(epoch, latents, size, size), caption + (f"\n\n{note}" if note else "")

    @shown_errors
    def directions(self, epoch: float, seed: float):
        """What each principal direction does: rows are directions, columns strengths -3 to 3.

        Args:
            epoch: training epoch whose directions to show.
            seed: whole number from 0 to 2147483647.
        """
        (epoch, _), seed = self._epoch(epoch), self._seed(seed)
        return self.engine.direction_sheet(epoch, seed)


def default_sheet_epochs(epochs: list[int], rows: int = 8) -> list[int]:
    """About `rows` saved epochs spaced evenly on a log scale (early epochs change most)."""
    if len(epochs) <= rows:
        return list(epochs)
    targets = np.geomspace(max(epochs[0], 1), max(epochs[-1], 1), rows)
    return sorted({min(epochs, key=lambda e: abs(np.log(max(e, 1) / t))) for t in targets})


def random_seed() -> int:
    return secrets.randbelow(SEED_MAX + 1)


def _image(label: str, value=None, **kwargs) -> gr.Image:
    """Exact pictures: PNG, greyscale, shown with crisp pixels; never lossy WebP."""
    return gr.Image(
        value,
        label=label,
        format="png",
        image_mode="L",
        type="pil",
        interactive=False,
        buttons=["download", "fullscreen"],
        elem_classes="pixels",
        **kwargs,
    )


def _seed_box(label: str, value: int) -> tuple[gr.Number, gr.Button]:
    with gr.Row(equal_height=True, elem_classes="seed-row"):
        box = gr.Number(value, label=label, precision=0, minimum=0, maximum=SEED_MAX, scale=3, min_width=120)
        dice = gr.Button("Random", scale=1, min_width=90, elem_classes="dice")
    return box, dice


def build_demo(engine: Engine) -> gr.Blocks:
    """The whole app for one loaded run. No per-user state: every handler is a pure function of its inputs."""
    api = Endpoints(engine)
    run = engine.run
    first, last = api.first, api.last
    saved = epoch_ranges(engine.epochs)
    live = {"trigger_mode": "always_last", "show_progress": "hidden", "preprocess": False}
    private = {"api_visibility": "private", "queue": False}

    def epoch_slider(value: int, label: str = "Epoch") -> gr.Slider:
        return gr.Slider(
            first,
            last,
            value=value,
            step=1,
            label=label,
            interactive=first < last,
            info=f"Saved epochs: {saved}. In-between values show the nearest saved one.",
        )

    def grid_slider(value: int, label: str = "Grid size (n x n)") -> gr.Slider:
        return gr.Slider(1, MAX_GRID, value=value, step=1, label=label)

    start_seed = 0
    ep, sd, gs = (
        f"epoch {first}-{last} (the nearest saved epoch is used)",
        f"seed 0-{SEED_MAX}",
        f"grid_size 1-{MAX_GRID}",
    )
    with gr.Blocks(title="Watch a GAN learn", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            "# Watch a GAN learn to write digits\n"
            "A small MLP GAN (the classic PyTorch tutorial's) trained on MNIST and saved after every epoch. "
            f"Loaded **{len(engine.epochs)} epochs** ({saved}) from `{run.folder.name}/`.",
            elem_id="intro",
        )
        if run.skipped:
            gr.Markdown(
                "**Some files were skipped:**\n" + "\n".join(f"- {html.escape(s)}" for s in run.skipped),
                elem_classes="note",
            )

        with gr.Tab("Generate", id="generate"):
            gr.Markdown(
                "Each seed picks a fixed set of random latent vectors *z*; the Generator saved after the chosen "
                "epoch turns them into 28x28 digits. Keep the seed and move the epoch to see the same *z* earlier or later in training."
            )
            with gr.Row():
                with gr.Column(scale=2, min_width=280):
                    gen_epoch = epoch_slider(last)
                    gen_seed, gen_dice = _seed_box("Seed", start_seed)
                    gen_size = grid_slider(6)
                    gen_button = gr.Button("Generate", variant="primary")
                with gr.Column(scale=3, min_width=300):
                    gen_image = _image("Generated digits", engine.seed_grid(last, start_seed, 6))
                    gen_stats = gr.HTML(api.stats_html(last))
            gen_inputs, gen_outputs = [gen_epoch, gen_seed, gen_size], [gen_image, gen_stats]
            gr.on(
                [gen_button.click, gen_seed.submit, gen_epoch.input, gen_size.input],
                api.generate,
                gen_inputs,
                gen_outputs,
                api_name="generate",
                api_description=f"Draw an n x n grid of digits from one epoch's Generator. {ep}; {sd}; {gs}. Returns (PNG, stats HTML).",
                **live,
            )
            gen_dice.click(random_seed, None, gen_seed, **private).then(
                api.generate, gen_inputs, gen_outputs, api_visibility="private", **live
            )

        with gr.Tab("Timeline", id="timeline"):
            gr.Markdown(
                "The **same latent vectors** drawn by the Generator after every saved epoch: drag the epoch slider "
                "(or use the arrow keys) to watch noise turn into digits. The plots are the training record; the dark line marks the epoch shown."
            )
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    tl_epoch = epoch_slider(first, "Epoch (scrub through training)")
                    tl_image = _image("The same z at this epoch", engine.seed_grid(first, start_seed, 8))
                    tl_stats = gr.HTML(api.stats_html(first))
                    tl_seed, tl_dice = _seed_box("Seed", start_seed)
                    tl_size = grid_slider(8)
                with gr.Column(scale=1, min_width=300):
                    losses, outputs, quality, scores = api.plots(first)
                    plot_args = {
                        "x": "epoch",
                        "y": "value",
                        "color": "series",
                        "color_map": COLORS,
                        "height": 220,
                        "x_lim": [first, last] if first < last else None,
                        "buttons": ["fullscreen", "export"],
                    }
                    tl_losses = gr.LinePlot(losses, title="Losses", y_title="BCE loss", **plot_args)
                    tl_scores = gr.LinePlot(
                        outputs, title="D's mean output", y_title="probability 'real'", y_lim=[0, 1], **plot_args
                    )
                    has_quality = not quality.empty
                    tl_quality = gr.LinePlot(
                        quality, title="FID (lower is better)", y_title="FID", visible=has_quality, **plot_args
                    )
                    tl_is = gr.LinePlot(
                        scores,
                        title="Inception Score (higher is better)",
                        y_title="IS",
                        visible=not scores.empty,
                        **plot_args,
                    )
                    if not has_quality:
                        gr.Markdown(
                            "*No quality measures (FID, IS) in metrics.json for this run: train with a classifier to get them.*"
                        )
            tl_inputs, tl_outputs = [tl_epoch, tl_seed, tl_size], [tl_image, tl_stats]
            gr.on(
                [tl_epoch.input, tl_size.input, tl_seed.submit],
                api.timeline,
                tl_inputs,
                tl_outputs,
                api_name="timeline",
                api_description=f"The seed's latents rendered by one epoch's Generator, with its training record. {ep}; {sd}; {gs}.",
                **live,
            )
            tl_dice.click(random_seed, None, tl_seed, **private).then(
                api.timeline, tl_inputs, tl_outputs, api_visibility="private", **live
            )
            tl_epoch.input(
                api.metric_plots,
                tl_epoch,
                [tl_losses, tl_scores, tl_quality, tl_is],
                api_name="plots",
                api_description=f"The per-epoch records (losses, D outputs, FID, IS) as tables, with one epoch marked. {ep}.",
                **live,
            )

            with gr.Accordion("Progression sheet: one row per epoch, the same z in each column", open=True):
                with gr.Row(equal_height=False):
                    sheet_epochs = gr.Dropdown(
                        [str(e) for e in engine.epochs],
                        value=[str(e) for e in default_sheet_epochs(engine.epochs)],
                        multiselect=True,
                        label=f"Epochs (rows, up to {MAX_SHEET_ROWS})",
                        scale=3,
                        min_width=220,
                    )
                    sheet_columns = gr.Slider(1, MAX_GRID, value=8, step=1, label="Columns", scale=1, min_width=140)
                    sheet_button = gr.Button("Draw sheet", variant="primary", scale=1, min_width=120)
                sheet_image = _image(
                    "Progression sheet",
                    show_label=False,
                    value=engine.progression(default_sheet_epochs(engine.epochs), start_seed, 8),
                )
            sheet_button.click(
                api.progression,
                [tl_seed, sheet_columns, sheet_epochs],
                sheet_image,
                api_name="progression",
                api_description=f"One row per chosen epoch, the seed's latents in the columns. {sd}; columns 1-{MAX_GRID}; epochs: list of saved epochs ({saved}), at most {MAX_SHEET_ROWS}.",
                preprocess=False,
            )
            with gr.Accordion("Animated GIF of the whole run", open=False):
                gif_button = gr.Button("Make GIF (seed and grid size from above)")
                gif_file = gr.File(label="Training GIF", interactive=False)
            gif_button.click(
                api.timeline_gif,
                [tl_seed, tl_size],
                gif_file,
                api_name="timeline_gif",
                api_description=f"An animated GIF of every saved epoch rendering the same grid. {sd}; {gs}.",
                preprocess=False,
            )

        with gr.Tab("Interpolate", id="interpolate"):
            gr.Markdown(
                "Walk through latent space from seed A's *z* to seed B's *z*. **Slerp** follows the sphere where Gaussian "
                "latents live; **lerp** cuts straight across, so half-way its *z* is shorter than any the Generator saw in training: watch the length below."
            )
            with gr.Row():
                with gr.Column(scale=1, min_width=280):
                    seed_a, dice_a = _seed_box("Seed A", 1)
                    seed_b, dice_b = _seed_box("Seed B", 2)
                    in_epoch = epoch_slider(last)
                    in_method = gr.Radio(list(METHODS), value="slerp", label="Method")
                with gr.Column(scale=1, min_width=280):
                    in_t = gr.Slider(0, 1, value=0.5, step=0.01, label="t: from A (0) to B (1)", elem_id="interp-t")
                    first_image, first_caption = api.interpolate(last, 1, 2, 0.5, "slerp")
                    in_image = _image("Digit at t", first_image, elem_id="interp-image", height=340)
                    in_caption = gr.Markdown(first_caption)
            in_inputs, in_outputs = [in_epoch, seed_a, seed_b, in_t, in_method], [in_image, in_caption]
            gr.on(
                [in_t.input, in_epoch.input, in_method.input, seed_a.submit, seed_b.submit],
                api.interpolate,
                in_inputs,
                in_outputs,
                api_name="interpolate",
                api_description=f"The digit at t between seed A's and seed B's latent. {ep}; seeds 0-{SEED_MAX}; t 0-1; method 'slerp' or 'lerp'. Returns (PNG, caption).",
                **live,
            )
            for box, dice in ((seed_a, dice_a), (seed_b, dice_b)):
                dice.click(random_seed, None, box, **private).then(
                    api.interpolate, in_inputs, in_outputs, api_visibility="private", **live
                )
            with gr.Row(equal_height=False):
                strip_frames = gr.Slider(
                    2, MAX_FRAMES, value=10, step=1, label="Frames in the strip", scale=3, min_width=220
                )
                strip_button = gr.Button("Draw strip and GIF", variant="primary", scale=1, min_width=160)
            with gr.Row(equal_height=False):
                first_strip, first_gif = engine.interpolation_strip(last, 1, 2, 10, "slerp")
                strip_image = _image("From A to B", first_strip, scale=3, min_width=300, show_label=False)
                strip_gif = gr.File(
                    api._gif_file(first_gif, f"gan-slerp-epoch{last}-seeds1-2"),
                    label="Interpolation GIF",
                    interactive=False,
                    scale=1,
                    min_width=200,
                )
            strip_button.click(
                api.interpolation_strip,
                [in_epoch, seed_a, seed_b, strip_frames, in_method],
                [strip_image, strip_gif],
                api_name="interpolation_strip",
                api_description=f"N frames from seed A to seed B as a strip (PNG) and a GIF. {ep}; seeds 0-{SEED_MAX}; frames 2-{MAX_FRAMES}; method 'slerp' or 'lerp'.",
                preprocess=False,
            )

        with gr.Tab("Edit", id="edit") as edit_tab:
            gr.Markdown(
                "Push one digit's latent along the directions that change the picture most at this epoch (the principal "
                "directions of the Generator's Jacobian, averaged over many *z*; + adds ink). The grid gets the same push, so you see what a direction does to many digits at once."
            )
            with gr.Row():
                with gr.Column(scale=1, min_width=280):
                    ed_epoch = epoch_slider(last)
                    ed_seed, ed_dice = _seed_box("Seed", start_seed)
                    strengths = [
                        gr.Slider(-STRENGTH, STRENGTH, value=0, step=0.1, label=f"Direction {k + 1}")
                        for k in range(engine.direction_count)
                    ]
                    ed_size = grid_slider(5, "Same edit on an n x n grid")
                    ed_reset = gr.Button("Reset directions to 0")
                with gr.Column(scale=1, min_width=280):
                    first_latents = engine.latents(start_seed, 25)  # no edit yet, so no directions needed at start-up
                    first_digit, first_grid = (
                        engine.grid(last, first_latents[:1], 1, 1),
                        engine.grid(last, first_latents, 5, 5),
                    )
                    first_caption = "Move a direction slider: the directions of each epoch are worked out the first time they are needed."
                    ed_digit = _image("Edited digit", first_digit, height=260)
                    ed_caption = gr.Markdown(first_caption)
                    ed_grid = _image("The same edit on many digits", first_grid)
            ed_inputs, ed_outputs = [ed_epoch, ed_seed, ed_size, *strengths], [ed_digit, ed_grid, ed_caption]
            gr.on(
                [s.input for s in strengths] + [ed_epoch.input, ed_size.input, ed_seed.submit],
                api.edit,
                ed_inputs,
                ed_outputs,
                api_name="edit",
                api_description=f"Move the seed's latents along the Generator's top {engine.direction_count} principal directions. {ep}; {sd}; {gs}; direction_k -{STRENGTH:g} to {STRENGTH:g}. Returns (digit PNG, grid PNG, caption).",
                **live,
            )
            ed_dice.click(random_seed, None, ed_seed, **private).then(
                api.edit, ed_inputs, ed_outputs, api_visibility="private", **live
            )
            ed_reset.click(lambda: [0] * len(strengths), None, strengths, **private).then(
                api.edit, ed_inputs, ed_outputs, api_visibility="private", **live
            )
            with gr.Accordion(
                "All directions at a glance: rows are directions (share of image change), columns push from -3 to +3",
                open=True,
            ):
                dir_button = gr.Button("Redraw for this epoch and seed")
                dir_image = _image("Directions at a glance", show_label=False)
            dir_button.click(
                api.directions,
                [ed_epoch, ed_seed],
                dir_image,
                api_name="directions",
                api_description=f"Rows: principal directions; columns: the seed's digit pushed from -3 to +3. {ep}; {sd}.",
                preprocess=False,
            )
            gr.on(
                [edit_tab.select, ed_epoch.release, ed_seed.submit],
                api.directions,
                [ed_epoch, ed_seed],
                dir_image,
                api_visibility="private",
                **live,
            )
    threading.Thread(target=engine.directions, args=(last,), daemon=True).start()  # warm the Edit tab's default epoch
    return demo
