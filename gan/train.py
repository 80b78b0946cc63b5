"""Train the tutorial's MLP GAN on MNIST, exporting the Generator after every epoch.

    python -m gan.train --data-dir ../shared/data --out runs/mnist

Each epoch writes OUT/epoch-NNN/ (config.json + model.safetensors), OUT/samples/epoch-NNN.png
(the same fixed latents every epoch), its record in OUT/metrics.json and OUT/checkpoint.pt
(everything needed to resume). All writes are atomic: a kill leaves the last good state.
This file is the epoch loop, the export and the checkpoint; the settings are in gan.config and
the training step in gan.step.
"""

import copy
import dataclasses
import io
import json
import os
import select
import signal
import sys
import time
from pathlib import Path

import torch
from PIL.PngImagePlugin import PngInfo
from safetensors import SafetensorError
from tqdm import tqdm

from gan.classifier import WEIGHTS_FILE, load_reference, resolve_classifier
from gan.config import RECIPE_FIELDS, RECIPES, TrainConfig, parse_args, validate
from gan.data import fake_digits, load_mnist, normalise
from gan.errors import UsageError, run_cli
from gan.evaluate import FLOOR_IMAGES, Evaluator
from gan.images import image_grid
from gan.io import atomic_dir, atomic_write_bytes, atomic_write_json, remove_leftovers
from gan.layout import (
    CARD,
    CHECKPOINT,
    DISCRIMINATOR,
    EVENTS,
    METRICS,
    PREVIEW,
    PREVIEW_KEYS,
    SAMPLES,
    epoch_folders,
    epoch_name,
    read_metrics,
    sample_path,
)
from gan.step import GAN, STEPS, build_gan, epoch_statistics

SAMPLE_GRID = 10  # the fixed latent bank is SAMPLE_GRID x SAMPLE_GRID images
CORES = torch.get_num_threads()  # torch's default team: one per core, or OMP_NUM_THREADS

__all__ = [
    "RECIPES",
    "SAMPLE_GRID",
    "EventLog",
    "TrainConfig",
    "fixed_latents",
    "main",
    "parse_args",
    "train",
    "train_epoch",
]


class EventLog:
    """OUT/events.jsonl: the trainer's news for whoever follows the run (the app's live run reads only this and the
    exit code, never the printed lines). Events: start (settings, pid), epoch (its record), interrupted, error (the
    one-line message) and end. Each line goes out in one append-mode write, so a reader sees whole lines; every
    line carries the pid, so a resumed run's lines are told apart. Nothing is written until `open` (the folder is
    then known to be this run's); a write that fails is skipped and training goes on."""

    def __init__(self, out: str | Path):
        self.path = Path(out) / EVENTS
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def write(self, event: str, **fields: object) -> None:
        if not self.opened:
            return
        line = json.dumps({"event": event, "time": round(time.time(), 3), "pid": os.getpid(), **fields}) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError:  # say nothing: the trainer's own writes report a full disk or a read-only folder
            pass


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name!r} is not a device (use auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for, but no CUDA GPU is available")
    return device


def load_training_images(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training set: uint8 images (N, 28, 28) and labels (N,)."""
    if cfg.dataset == "fake":
        images, labels = fake_digits(cfg.fake_size, seed=cfg.seed)
    else:
        images, labels = load_mnist(cfg.data_dir, train=True)
    if cfg.batch_size > len(images):
        raise UsageError(f"--batch-size {cfg.batch_size} is larger than the {len(images)} training images")
    return images, labels


def fixed_latents(count: int, latent_dim: int, seed: int) -> torch.Tensor:
    """The same z for every epoch's sample grid, drawn from its own generator (the training RNG is untouched)."""
    return torch.randn(count, latent_dim, generator=torch.Generator().manual_seed(seed))


def epoch_lr(cfg: TrainConfig, epoch: int) -> float:
    """The learning rate of `epoch` (1-based): constant, or falling linearly so the last epoch's is lr/epochs."""
    return cfg.lr * (1 - (epoch - 1) / cfg.epochs) if cfg.lr_decay == "linear" else cfg.lr


class ThreadPicker:
    """--threads 0 on a CPU with several cores: time up to `trial` steps at each thread count in `counts`,
    then train at the fastest until the next trial. On a machine busy with other work one thread can be
    several times faster than two (an OpenMP team waits for its slowest member at every op); on an idle
    one all cores win. A count is dropped from a trial as soon as it is slower than the best so far, and
    while the choice holds the trials grow rarer (every `every` steps, doubling up to 8x), so a losing
    count costs about a step per trial; a step 4x slower than its trial found starts a new trial at once.
    The count does not change the step's numbers (tests check it)."""

    def __init__(self, counts: tuple[int, ...], every: int = 100, trial: int = 3):
        self.counts, self.every, self.trial = counts, every, trial
        self.interval, self.next_trial, self.choice = every, 0, None
        self.pending, self.per_step, self.count = [], {}, None

    def before(self, step: int) -> None:
        if step == self.next_trial:
            self.pending, self.per_step = list(self.counts), {}
            self._time_next()

    def after(self, step: int, seconds: float) -> None:
        if self.count is None:
            if seconds > 4 * self.per_step[self.choice]:  # the load changed: try again from the next step
                self.interval, self.next_trial = self.every, step + 1
            return
        self.steps, self.seconds = self.steps + 1, self.seconds + seconds
        best = min(self.per_step.values(), default=float("inf"))
        if self.steps == self.trial or self.seconds > best * self.trial:
            self.per_step[self.count] = self.seconds / self.steps
            self._time_next(step + 1)

    def _time_next(self, step: int = 0) -> None:
        if self.pending:
            self.count, self.steps, self.seconds = self.pending.pop(0), 0, 0.0
            torch.set_num_threads(self.count)
            return
        choice = min(self.per_step, key=self.per_step.get)
        self.interval = min(2 * self.interval, 8 * self.every) if choice == self.choice else self.every
        self.count, self.choice, self.next_trial = None, choice, step + self.interval
        torch.set_num_threads(choice)


class Preview:
    """OUT/preview.png: the fixed latents drawn by the exported Generator during an epoch, every `every_s` seconds
    of training (and before the first step), so a watcher sees G learn between the epochs' grids; never more often
    than keeps the drawing within `budget` of the time (on a slow or crowded machine the pictures come less often).
    Drawn on one thread (a team of two waiting on each other took 1 s a picture on a crowded machine, against 0.1 s
    for one), at scale 1 (the Train tab doubles it, pixel for pixel), with fast PNG compression: 6.5 ms of CPU a
    picture. Written atomically, with when it was drawn in its PNG text (gan.layout.PREVIEW_KEYS). Drawing reads
    G's weights only: no random numbers, no change to what is trained."""

    def __init__(self, out: str | Path, fixed_noise: torch.Tensor, every_s: float, budget: float = 0.03):
        self.path, self.noise, self.every_s, self.budget = Path(out) / PREVIEW, fixed_noise, every_s, budget
        self.last, self.cost = -float("inf"), 0.0  # perf_counter at the last drawing, and what drawing takes
        self.drawn = 0

    def due(self) -> bool:
        return time.perf_counter() - self.last >= max(self.every_s, self.cost / self.budget)

    @torch.no_grad()
    def draw(self, generator: torch.nn.Module, epoch: int, step: int, steps: int) -> None:
        self.last, self.drawn = time.perf_counter(), self.drawn + 1
        was_training, threads = generator.training, torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            images = generator.eval()(self.noise.to(next(generator.parameters()).device))
        finally:
            generator.train(was_training)
            torch.set_num_threads(threads)
        text = PngInfo()
        for key, value in zip(PREVIEW_KEYS, (epoch, step, steps), strict=True):
            text.add_text(key, str(value))
        buffer = io.BytesIO()
        image_grid(images, SAMPLE_GRID, SAMPLE_GRID).save(buffer, format="PNG", pnginfo=text, compress_level=1)
        try:
            atomic_write_bytes(self.path, buffer.getvalue())
        except OSError:  # a preview is a courtesy: the epoch's own writes report a full disk
            pass
        took = time.perf_counter() - self.last  # a moment off the CPU weighs half: smoothed over drawings
        self.cost = took if self.drawn == 1 else (self.cost + took) / 2


def train_epoch(
    gan: GAN, data: torch.Tensor, cfg: TrainConfig, epoch: int, preview: Preview | None = None
) -> dict[str, float]:
    """Shuffle indices, run every full batch, return the epoch's mean losses and speed; draw `preview` when due."""
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr(cfg, epoch)
    steps = len(data) // cfg.batch_size  # full batches only, as the tutorial's reshape(BATCH_SIZE, -1) needs
    if cfg.steps_per_epoch:
        steps = min(steps, cfg.steps_per_epoch)
    train_step = STEPS[cfg.step]
    order = torch.randperm(len(data)).to(data.device)
    d_logits = torch.empty(steps, 2 * cfg.batch_size, device=data.device)
    g_logits = torch.empty(steps, cfg.batch_size, device=data.device)
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    auto = cfg.threads == 0 and data.device.type == "cpu" and CORES > 1
    picker = ThreadPicker((1, CORES)) if auto else None
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"epoch {epoch}/{cfg.epochs}", leave=False, disable=not cfg.progress, file=sys.stderr)
    try:
        for step in bar:
            if preview is not None and preview.due():
                preview.draw(gan.exported, epoch, step, steps)
            if picker is not None:
                picker.before(step)
            began = time.perf_counter()
            real_images = data.index_select(0, order[step * cfg.batch_size : (step + 1) * cfg.batch_size])  # (B, 784)
            d_step, g_step = train_step(gan, real_images, cfg)
            d_logits[step] = d_step.view(-1)
            g_logits[step] = g_step.view(-1)
            if picker is not None:
                picker.after(step, time.perf_counter() - began)
    finally:
        torch.set_num_threads(threads)  # export and scoring run at the count the epoch started with
    record = epoch_statistics(d_logits, g_logits, gan.targets)
    seconds = time.perf_counter() - start
    record.update(
        steps=steps, train_seconds=round(seconds, 3), images_per_sec=round(steps * cfg.batch_size / seconds, 1)
    )
    return record


def checkpoint_state(gan: GAN, cfg: TrainConfig, epoch: int) -> dict:
    state = {
        "epoch": epoch,
        "config": dataclasses.asdict(cfg),
        "generator": gan.generator.state_dict(),
        "discriminator": gan.discriminator.state_dict(),
        "g_optimizer": gan.g_optimizer.state_dict(),
        "d_optimizer": gan.d_optimizer.state_dict(),
        "rng_cpu": torch.get_rng_state(),
    }
    if gan.ema_generator is not None:
        state["ema_generator"] = gan.ema_generator.state_dict()
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_checkpoint(gan: GAN, cfg: TrainConfig, epoch: int) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint_state(gan, cfg, epoch), buffer)
    atomic_write_bytes(Path(cfg.out) / CHECKPOINT, buffer.getvalue())


def restore_checkpoint(gan: GAN, cfg: TrainConfig) -> tuple[int, dict]:
    """Load OUT/checkpoint.pt into `gan`; returns the last completed epoch and the random state to
    continue from, which the caller sets (`set_rng_state`) once nothing else will draw from it."""
    path = Path(cfg.out) / CHECKPOINT
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UsageError(f"--resume: {path} is not a readable checkpoint ({type(err).__name__})") from None
    saved = state.get("config", {})
    fields = RECIPE_FIELDS + (("epochs",) if cfg.lr_decay == "linear" else ())  # the decay is spread over --epochs
    # A checkpoint written before a setting existed was trained with that setting's tutorial value (or default).
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    before = {name: saved.get(name, RECIPES["tutorial"].get(name, defaults[name])) for name in fields}
    changed = [
        f"{name}={before[name]!r} (now {getattr(cfg, name)!r})" for name in fields if before[name] != getattr(cfg, name)
    ]
    if changed:
        raise UsageError(f"--resume: the checkpoint in {cfg.out} was trained with " + ", ".join(changed))
    try:
        gan.generator.load_state_dict(state["generator"])
        gan.discriminator.load_state_dict(state["discriminator"])
        gan.g_optimizer.load_state_dict(state["g_optimizer"])
        gan.d_optimizer.load_state_dict(state["d_optimizer"])
        if gan.ema_generator is not None:
            gan.ema_generator.load_state_dict(state["ema_generator"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise UsageError(
            f"--resume: checkpoint in {cfg.out} does not match this architecture ({str(err).splitlines()[0]})"
        ) from None
    return int(state["epoch"]), {name: state[name] for name in ("rng_cpu", "rng_cuda") if name in state}


def set_rng_state(rng: dict) -> None:
    torch.set_rng_state(rng["rng_cpu"])
    if "rng_cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["rng_cuda"])


def check_out_folder(cfg: TrainConfig) -> TrainConfig:
    """Decide from what --out holds whether this run may start, and whether it resumes.

    A checkpoint is continued with --resume and never overwritten without it. A folder with no
    checkpoint and no epochs (missing, empty, or left by a kill during epoch 1) starts a fresh run,
    --resume or not, so a supervisor can always pass --resume. Epochs without a checkpoint cannot be
    continued (their optimiser state is gone) and are not overwritten either."""
    out = Path(cfg.out)
    if (out / CHECKPOINT).exists():
        if not cfg.resume:
            raise UsageError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
        return cfg
    done = sorted(epoch_folders(out)) if out.is_dir() else []
    done = done or [record["epoch"] for record in read_metrics(out).get("epochs", [])]
    if done:
        what = f"epochs {done[0]}-{done[-1]}" if len(done) > 1 else f"epoch {done[0]}"
        raise UsageError(
            f"{'--resume: ' if cfg.resume else ''}{out} holds {what} but no {CHECKPOINT} to continue them from; "
            "choose another --out"
        )
    if cfg.resume:
        print(
            f"--resume: nothing to resume in {out} (no {CHECKPOINT}, no epochs); starting a fresh run", file=sys.stderr
        )
    return dataclasses.replace(cfg, resume=False)


def export_epoch(gan: GAN, cfg: TrainConfig, epoch: int, fixed_noise: torch.Tensor) -> None:
    """Write epoch-NNN/ (G's safetensors + config.json, and D's in discriminator/) and samples/epoch-NNN.png,
    each atomically. D is stored in half precision: it is only ever asked questions (scores, gradients), never
    trained from the export, and half its size keeps a run's 26 kept epochs within the Space's weights budget."""
    out = Path(cfg.out)
    generator = gan.exported
    with atomic_dir(out / epoch_name(epoch)) as folder:
        generator.save_pretrained(folder, model_card_kwargs=None)
        (folder / CARD).unlink(missing_ok=True)  # one card for the whole run lives at the root
        discriminator = copy.deepcopy(gan.discriminator).cpu().half()  # not a new D: its init would draw from the RNG
        discriminator.save_pretrained(folder / DISCRIMINATOR, model_card_kwargs=None)
        (folder / DISCRIMINATOR / CARD).unlink(missing_ok=True)
    with torch.no_grad():
        images = generator(fixed_noise.to(next(generator.parameters()).device))
    buffer = io.BytesIO()
    image_grid(images, SAMPLE_GRID, SAMPLE_GRID, scale=2).save(buffer, format="PNG")
    (out / SAMPLES).mkdir(exist_ok=True)
    atomic_write_bytes(sample_path(out, epoch), buffer.getvalue())


def make_evaluator(cfg: TrainConfig, device: torch.device) -> Evaluator | None:
    """The per-epoch judge (scores against the test set), when a classifier is available; None otherwise.
    On MNIST its real-data statistics are the ones shipped with it (computing them took seconds of every start);
    on the fake dataset they are computed from a fake test set. Building it draws from the global random state
    (the classifier's initial weights), either way the same draws."""
    if not cfg.classifier:
        return None
    folder = resolve_classifier(cfg.classifier)
    if not (folder / WEIGHTS_FILE).is_file():
        print(f"no classifier in {cfg.classifier}; per-epoch FID/IS skipped", file=sys.stderr)
        return None
    if cfg.dataset == "fake":
        reference = fake_digits(max(cfg.fake_size // 3, 100), seed=cfg.seed + 1)
    elif load_reference(folder) is not None:
        return Evaluator(folder, device=device)
    else:
        reference = load_mnist(cfg.data_dir, train=False)
    return Evaluator(folder, *reference, device=device)


def finish_epoch(
    gan: GAN,
    cfg: TrainConfig,
    record: dict,
    started: float,
    fixed_noise: torch.Tensor,
    evaluator: Evaluator | None,
    metrics: dict,
) -> None:
    """Export the epoch, score it when due, append its record to metrics.json, then commit the checkpoint."""
    epoch, out = record["epoch"], Path(cfg.out)
    try:
        export_epoch(gan, cfg, epoch, fixed_noise)
        if evaluator is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
            record.update(evaluator.evaluate(gan.exported, cfg.eval_samples))
        record["epoch_seconds"] = round(time.perf_counter() - started, 3)
        metrics["epochs"].append(record)
        atomic_write_json(out / METRICS, metrics)
        save_checkpoint(gan, cfg, epoch)  # the commit point: --resume starts after this epoch
    except (OSError, SafetensorError) as err:  # safetensors reports a full disk as its own error
        reason = getattr(err, "strerror", None) or str(err).rsplit(": ", 1)[-1]
        raise UsageError(
            f"cannot write epoch {epoch} to {out}: {reason}; epoch {epoch - 1} and its checkpoint are intact"
        ) from None


def start_run(cfg: TrainConfig, device: torch.device) -> tuple[GAN, torch.Tensor, dict, Evaluator | None, int]:
    """Everything before the first epoch to train: the data on the device, the models (from the
    checkpoint on --resume), the folder, the metrics so far, the judge and the random state.
    Returns (gan, data, metrics, evaluator or None, the last completed epoch)."""
    out = Path(cfg.out)
    train_images, _ = load_training_images(cfg)
    data = normalise(train_images).to(device)  # (N, 784) in [-1, 1]; the whole set stays on the device
    gan = build_gan(cfg, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create --out {out}: {err.strerror}") from None
    for folder in (out, out / SAMPLES):
        if folder.is_dir():
            remove_leftovers(folder)
    done, rng = restore_checkpoint(gan, cfg) if cfg.resume else (0, None)
    metrics = read_metrics(out)
    metrics["epochs"] = [r for r in metrics.get("epochs", []) if r["epoch"] <= done]
    metrics["config"] = dataclasses.asdict(cfg)
    evaluator = make_evaluator(cfg, device)
    if evaluator is not None:
        metrics["reference"] = evaluator.shipped_floor or evaluator.floor(train_images[:FLOOR_IMAGES])
    if rng is not None:
        # Last, after everything that draws from it: a fresh run builds the judge between seeding and
        # epoch 1 too, so the state saved at the end of epoch N is exactly where epoch N + 1 starts.
        set_rng_state(rng)
    return gan, data, metrics, evaluator, done


def train(cfg: TrainConfig, events: EventLog | None = None) -> dict:
    """Run (or resume) training; returns the final metrics document. Its news goes to `events` as well
    (OUT/events.jsonl by default): start, each epoch, an interruption."""
    validate(cfg)
    device = pick_device(cfg.device)
    cfg = check_out_folder(cfg)
    out = Path(cfg.out)
    events = events or EventLog(out)
    uploader = None  # made first: a bad repo id or missing token fails before anything is written
    if cfg.push_to_hub:
        from gan.hub import EpochUploader

        uploader = EpochUploader(cfg.push_to_hub, out)
    epoch = None  # the epoch being trained (None while setting up)
    try:
        if out.is_dir():  # this run's folder (check_out_folder said so): news of a failed start goes there too
            events.open()
        gan, data, metrics, evaluator, done = start_run(cfg, device)  # makes the folder (once the data is read)
        events.open()
        fixed_noise = fixed_latents(SAMPLE_GRID * SAMPLE_GRID, cfg.latent_dim, cfg.seed)
        preview = Preview(out, fixed_noise, cfg.preview_every) if cfg.preview_every else None
        if done >= cfg.epochs:
            print(f"{out} already has {done} epochs; nothing to do (raise --epochs to train further)")
        print(f"training on {device} ({len(data)} images, {cfg.recipe} recipe) into {out}", file=sys.stderr)
        events.write(
            "start",
            settings=dataclasses.asdict(cfg),
            device=str(device),
            first_epoch=done + 1,
            # since the process began (a warm trainer: since it read its settings): importing, reading the data,
            # building the models
            setup_s=round(time.time() - SETTINGS_CAME["at"], 3) if SETTINGS_CAME["at"] else process_age(),
            setup_cpu_s=round(time.process_time() - SETTINGS_CAME["cpu_s"], 3),  # the CPU time of that (all threads)
            warm=SETTINGS_CAME["warm_first"],  # a --warm-start trainer that was warmed up before its settings came
        )
        for epoch in range(done + 1, cfg.epochs + 1):
            started = time.perf_counter()
            record = {"epoch": epoch, **train_epoch(gan, data, cfg, epoch, preview)}
            finish_epoch(gan, cfg, record, started, fixed_noise, evaluator, metrics)
            events.write("epoch", epoch=epoch, record=record)
            print(summary_line(record), flush=True)
            if uploader is not None:
                uploader.submit(epoch)
    except KeyboardInterrupt:
        if epoch is None:
            print(f"\ninterrupted while setting up; nothing new was trained into {out}", file=sys.stderr)
        else:
            given = SETTINGS_CAME["flags"] if SETTINGS_CAME["flags"] is not None else sys.argv[1:]
            again = " ".join(arg for arg in given if arg != "--resume")
            print(
                f"\ninterrupted during epoch {epoch}; epochs up to {epoch - 1} are saved in {out}. "
                f"Resume with: python -m gan.train {again} --resume",
                file=sys.stderr,
            )
        events.write("interrupted", epoch=epoch, saved=None if epoch is None else epoch - 1)
        raise
    finally:
        if uploader is not None:
            uploader.close()
    (out / PREVIEW).unlink(missing_ok=True)  # the last epoch's grid says it all now
    return metrics


def summary_line(record: dict) -> str:
    line = (
        f"epoch {record['epoch']:3d}  D loss {record['d_loss']:.4f}  G loss {record['g_loss']:.4f}  "
        f"D(x) {record['d_real']:.3f}  D(G(z)) {record['d_fake']:.3f}  {record['images_per_sec']:.0f} img/s"
    )
    if "fid" in record:
        line += f"  FID {record['fid']:.2f}  IS {record['inception_score']:.2f}  digits {record['digits_present']}/10"
    return line


# Set by the app's live trainer, which stops a run with SIGINT: a shell without job control starts background
# commands with SIGINT ignored, and Python then never turns it into KeyboardInterrupt (Stop would need SIGKILL).
STOP_ON_SIGINT = "GAN_STOP_ON_SIGINT"


# A --warm-start trainer: when it read its settings (time.time()) and the CPU seconds it had used by then (its
# warm-up), whether it was warm before they came (else they waited in its input while it warmed up), and the
# flags themselves. Its set-up figures count from the reading.
SETTINGS_CAME = {"at": None, "cpu_s": 0.0, "warm_first": False, "flags": None}


def process_age() -> float | None:
    """Seconds since this process started (Linux's /proc; None elsewhere)."""
    try:
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # clock ticks after boot
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line[:5] == "btime")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return round(time.time() - boot - started / os.sysconf("SC_CLK_TCK"), 3)


def one_line(err: BaseException) -> str:
    """'TypeError: what it said' (first line only) for an unexpected exception."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


# `python -m gan.train --warm-start` does a run's set-up that does not depend on its settings, then waits for
# them: one line on stdin, a JSON list of the flags it would have been given. The app keeps one such trainer
# ready, so that a visitor's Start skips importing torch and its optimiser machinery (seconds of every start).
WARM_START = "--warm-start"


def warm_up() -> None:
    """What every run's start does the same way: torch.optim's first optimiser imports torch._dynamo (about 1.3 s
    on a quiet 2-core machine; `import torch` is done already). A throwaway Adam makes that happen now."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=1e-3, fused=True)
    weight.grad = torch.zeros(1)
    optimizer.step()


def wait_for_start(stdin=None) -> list[str] | None:
    """Warm up, then read the run's flags (a JSON list of strings on one line). Returns them, or None when stdin
    closes first: whoever kept this trainer ready has gone, and so does it."""
    stdin = stdin or sys.stdin
    warm_up()
    try:
        waiting = bool(select.select([stdin], [], [], 0)[0])  # the settings came while it warmed up
    except (OSError, ValueError, io.UnsupportedOperation):  # not a pipe (a test's text): nothing waited
        waiting = False
    line = stdin.readline()
    SETTINGS_CAME.update(at=time.time(), cpu_s=time.process_time(), warm_first=not waiting)
    if not line.strip():
        return None
    try:
        flags = json.loads(line)
    except json.JSONDecodeError:
        flags = None
    if not isinstance(flags, list) or not all(isinstance(flag, str) for flag in flags):
        raise UsageError(f"{WARM_START} expects one line with a JSON list of flags, got {line.strip()[:80]!r}")
    SETTINGS_CAME["flags"] = flags
    return flags


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if os.environ.get(STOP_ON_SIGINT) == "1":
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if argv[:1] == [WARM_START]:
        try:
            argv = wait_for_start()
        except KeyboardInterrupt:
            return 130
        if argv is None:
            return 0
    cfg = parse_args(argv)
    events = EventLog(cfg.out)
    try:
        metrics = train(cfg, events)
    except KeyboardInterrupt:
        return 130
    except UsageError as err:  # run_cli prints the same message as "error: ..." and exits with 2
        events.write("error", kind="usage", message=str(err))
        raise
    except Exception as err:
        events.write("error", kind="crash", message=one_line(err))
        raise
    last = metrics["epochs"][-1]["epoch"] if metrics["epochs"] else 0
    events.write("end", epochs=last)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(lambda: main()))
