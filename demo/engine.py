"""The app's logic without any UI: loading a run's epochs, latents, interpolation, directions, pictures.

Everything here is shared by all users and read-only after start-up, except the per-epoch cache of
principal directions, which is filled once per epoch under a lock.
"""

import bisect
import hashlib
import inspect
import io
import json
import logging
import math
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from safetensors.torch import load_file

from gan.errors import UsageError
from gan.images import grid_array, to_uint8, upscale
from gan.layout import METRICS, epoch_folders, epoch_name, read_metrics
from gan.models import Generator

log = logging.getLogger("demo")

MAX_GRID = 10  # grids are at most MAX_GRID x MAX_GRID: caps the work and memory of any request
BANK_SIZE = MAX_GRID * MAX_GRID  # latents drawn per seed; a grid of any size uses a prefix of them
PAD = 2  # pixels between tiles, as in the training run's sample grids
MIN_SIDE = 512  # images are upscaled by a whole factor until at least this wide
SEPARATOR_GREY = 128  # the band between two runs on one sheet
# What a picture costs (a 10x10 grid: 1 ms through the Generator, 1.3 ms of PNG encoding) is kept for pictures asked
# for again (a slider moved back and forth, the Timeline played twice, visitors on the same defaults), in two
# caches bounded by size: tiles by (generator, latents) and PNG files by their pixels (both keyed by content).
TILE_CACHE_BYTES, PNG_CACHE_BYTES = 32 << 20, 16 << 20
MAX_DIMS = {"latent_dim": 4096, "hidden_dim": 8192, "image_size": 256 * 256}  # refuse absurd configs


GENERATOR_DEFAULTS = {
    name: p.default for name, p in inspect.signature(Generator.__init__).parameters.items() if name in MAX_DIMS
}


class RunError(Exception):
    """A weights folder with nothing usable in it."""


class ByteLRU:
    """A thread-safe least-recently-used cache holding at most `max_bytes` of values (each put with its size)."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes, self.hits, self.misses = max_bytes, 0, 0, 0
        self._items: OrderedDict[object, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: object, value: object, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = self.hits = self.misses = 0


TILE_CACHE, PNG_CACHE = ByteLRU(TILE_CACHE_BYTES), ByteLRU(PNG_CACHE_BYTES)


def digest(array: np.ndarray) -> bytes:
    """A key for an array's exact contents: its shape, dtype and the SHA-256 of its bytes (0.2 ms for a 10x10
    grid's 365 KB of pixels)."""
    array = np.ascontiguousarray(array)
    return f"{array.shape}{array.dtype}".encode() + hashlib.sha256(array).digest()


# ---- pure math -------------------------------------------------------------------------------


def seed_latents(seed: int, count: int, latent_dim: int) -> torch.Tensor:
    """The first `count` latents (count, latent_dim) of seed's bank; the same seed gives the same z.

    The bank is drawn as one (BANK_SIZE, latent_dim) tensor, exactly as the trainer draws its fixed
    noise, so seed = the run's --seed reproduces its samples/epoch-NNN.png grids.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(max(count, BANK_SIZE), latent_dim, generator=generator)[:count]


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Straight-line mixing; mid-way its norm shrinks (by about 1/sqrt(2) for independent Gaussians)."""
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation along the last axis: keeps the norm typical of Gaussian latents."""
    a_unit = a / a.norm(dim=-1, keepdim=True)
    b_unit = b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_unit * b_unit).sum(-1, keepdim=True).clamp(-1, 1))  # angle between a and b
    sin_omega = torch.sin(omega)
    if float(sin_omega.abs().min()) < 1e-6:  # (anti)parallel: the arc is undefined, the line is fine
        return lerp(a, b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin_omega


def generator_jacobians(generator: Generator, noise: torch.Tensor) -> torch.Tensor:
    """d G(z) / d z for each z in noise (B, latent_dim) -> (B, image_size, latent_dim), in closed form.

    G = tanh(W3 relu(W2 relu(W1 z + b1) + b2) + b3), so J = diag(1 - y^2) W3 diag(m2) W2 diag(m1) W1,
    with m1, m2 the ReLU masks (much cheaper than autograd's jacfwd on a CPU).
    """
    w1, w2, w3 = generator.linear1.weight, generator.linear2.weight, generator.linear3.weight
    pre1 = generator.linear1(noise)  # (B, hidden)
    pre2 = generator.linear2(pre1.relu())  # (B, hidden)
    images = torch.tanh(generator.linear3(pre2.relu()))  # (B, image_size)
    jacobian = (pre1 > 0).to(w1.dtype)[:, :, None] * w1  # (B, hidden, latent)
    jacobian = (pre2 > 0).to(w1.dtype)[:, :, None] * (w2 @ jacobian)  # (B, hidden, latent)
    return (1 - images**2)[:, :, None] * (w3 @ jacobian)  # (B, image_size, latent)


def principal_directions(
    generator: Generator, count: int = 5, samples: int = 64, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top right-singular vectors of G's Jacobian, averaged over random z (eigenvectors of E[J^T J]).

    Returns (count, latent_dim) unit directions, largest effect first, and each one's share of the
    total squared pixel change. A direction's sign is chosen so that + adds ink (brightens the image).
    """
    noise = torch.randn(samples, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        jacobians = generator_jacobians(generator, noise)  # (samples, image_size, latent_dim)
        gram = torch.einsum("bpi,bpj->ij", jacobians, jacobians) / samples  # (latent, latent)
        ink = jacobians.sum(dim=(0, 1))  # how each latent coordinate changes total brightness
    eigenvalues, eigenvectors = torch.linalg.eigh(gram.double())  # ascending
    top = eigenvalues.flip(0)[:count].clamp(min=0)
    directions = eigenvectors.flip(1)[:, :count].T.float()  # (count, latent_dim)
    signs = torch.where(directions @ ink < 0, -1.0, 1.0)
    shares = (top / eigenvalues.clamp(min=0).sum().clamp(min=1e-12)).float()
    return (directions * signs[:, None]).contiguous(), shares


# zlib level and strategy of the pictures' PNG files. The filtered rows are mostly runs of zeros, which zlib's
# run-length strategy finds as fast as level 1's default search, and its files are 25-35% smaller (a 10x10 grid:
# 31 KB against 42 KB, 1.3 ms either way; level 6's default search: 37 KB in 3.7 ms).
PNG_LEVEL, PNG_STRATEGY = 1, zlib.Z_RLE


def png_bytes(pixels: np.ndarray) -> bytes:
    """encode_png, remembered by the pixels' digest in PNG_CACHE."""
    key = digest(pixels)
    data = PNG_CACHE.get(key)
    if data is None:
        data = encode_png(pixels)
        PNG_CACHE.put(key, data, len(data))
    return data


def encode_png(pixels: np.ndarray) -> bytes:
    """A greyscale uint8 array (H, W) as a PNG file, lossless: each row filtered with PNG's "Up" when it repeats the
    row above (all zeros: the upscaled pictures repeat every row), else "Sub" (runs of zeros inside the upscaled
    pixels), then zlib at PNG_LEVEL with PNG_STRATEGY. Faster than Pillow's encoder, which tries every filter on
    every row."""
    height, width = pixels.shape
    rows = np.empty((height, width + 1), np.uint8)  # (H, 1 + W): the filter byte, then the filtered row
    repeats = np.zeros(height, bool)
    repeats[1:] = (pixels[1:] == pixels[:-1]).all(axis=1)
    rows[:, 0] = np.where(repeats, 2, 1)  # 2: Up, 1: Sub
    rows[:, 1] = pixels[:, 0]
    np.subtract(pixels[:, 1:], pixels[:, :-1], out=rows[:, 2:])  # uint8 wraps around, as PNG's filters do
    rows[repeats, 1:] = 0
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale, not interlaced
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", deflate(rows.tobytes()))
        + png_chunk(b"IEND", b"")
    )


def deflate(data: bytes) -> bytes:
    """One zlib stream of `data`, as a PNG's IDAT holds it."""
    packer = zlib.compressobj(PNG_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, 9, PNG_STRATEGY)
    return packer.compress(data) + packer.flush()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def display_scale(width: int) -> int:
    """Whole upscale factor that makes an image `width` pixels wide at least MIN_SIDE wide."""
    return max(1, math.ceil(MIN_SIDE / width))


def grid_side(count: int, side: int) -> int:
    """Width in pixels of a row of `count` tiles of `side` pixels with padding."""
    return count * (side + PAD) + PAD


def labelled_rows(rows: list[np.ndarray], labels: list[str], scale: int) -> Image.Image:
    """Stack upscaled row images under each other with a text label to the left of each."""
    font = ImageFont.load_default(size=max(11, 5 * scale))
    label_width = max(int(font.getlength(label)) for label in labels) + 4 * scale
    images = [upscale(row, scale) for row in rows]
    sheet = Image.new("L", (label_width + images[0].width, sum(im.height for im in images)), 0)
    draw = ImageDraw.Draw(sheet)
    top = 0
    for image, label in zip(images, labels, strict=True):
        sheet.paste(image, (label_width, top))
        draw.text((2 * scale, top + image.height // 2), label, fill=255, font=font, anchor="lm")
        top += image.height
    return sheet


def with_caption(image: Image.Image, caption: str) -> Image.Image:
    """Add a black band with white text above an image (for GIF frames)."""
    font = ImageFont.load_default(size=max(12, image.width // 24))
    band = int(font.size * 1.6)
    framed = Image.new("L", (image.width, image.height + band), 0)
    framed.paste(image, (0, band))
    ImageDraw.Draw(framed).text((image.width // 2, band // 2), caption, fill=255, font=font, anchor="mm")
    return framed


def gif_bytes(frames: list[Image.Image], frame_ms: int = 160, hold_last_ms: int = 1200) -> bytes:
    """Greyscale frames -> looping GIF. 256 grey levels fit GIF's palette, so frames stay exact."""
    buffer = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [hold_last_ms]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buffer.getvalue()


def epoch_ranges(epochs: list[int]) -> str:
    """[1, 2, 3, 4, 10, 15, 20, 25, 30, 33] -> '1-4, 10-30 every 5, 33'."""
    parts, index = [], 0
    while index < len(epochs):
        end = index
        step = epochs[index + 1] - epochs[index] if index + 1 < len(epochs) else 0
        while end + 1 < len(epochs) and epochs[end + 1] - epochs[end] == step:
            end += 1
        if end - index >= 2 or (step == 1 and end > index):
            parts.append(f"{epochs[index]}-{epochs[end]}" + ("" if step == 1 else f" every {step}"))
            index = end + 1
        else:
            parts.append(str(epochs[index]))
            index += 1
    return ", ".join(parts)


# ---- loading a run ---------------------------------------------------------------------------


@dataclass
class Run:
    """The usable epochs of one weights folder, its metrics and what was skipped."""

    folder: Path
    generators: dict[int, Generator]  # epoch -> Generator in eval mode, ascending epochs
    records: dict[int, dict] = field(default_factory=dict)  # epoch -> its metrics.json record
    reference: dict = field(default_factory=dict)  # real-data floor of the quality measures
    skipped: list[str] = field(default_factory=list)  # one line per thing left out, with the reason


def _read_config(folder: Path) -> dict:
    """config.json's sizes, checked; raises ValueError with a one-line reason."""
    config_path, weights_path = folder / "config.json", folder / "model.safetensors"
    if not weights_path.is_file():
        raise ValueError("no model.safetensors")
    if not config_path.is_file():
        raise ValueError("no config.json")
    try:
        config = json.loads(config_path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise ValueError("config.json is not valid JSON") from None
    if not isinstance(config, dict):
        raise ValueError("config.json is not a JSON object")
    sizes = {}
    for name, limit in MAX_DIMS.items():
        value = config.get(name, GENERATOR_DEFAULTS[name])
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
            raise ValueError(f"config.json has {name}={value!r}")
        sizes[name] = value
    if math.isqrt(sizes["image_size"]) ** 2 != sizes["image_size"]:
        raise ValueError(f"config.json has image_size={sizes['image_size']}, not a square image")
    return sizes


def _load_generator(folder: Path) -> Generator:
    """What Generator.from_pretrained(folder, strict=True) loads, ten times faster: the module is built on
    the meta device (no random initialisation to throw away) and takes the file's tensors as they are."""
    sizes = _read_config(folder)
    try:
        with torch.device("meta"):
            generator = Generator(**sizes)
        state = load_file(folder / "model.safetensors")  # never a pickle
        generator.load_state_dict(state, strict=True, assign=True)
        generator = generator.float()
    except Exception as err:  # truncated files, wrong shapes, ...: one line is enough
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "size mismatch" in str(err):
            reason = f"model.safetensors does not match config.json ({sizes})"
        raise ValueError(f"cannot load weights: {reason[:200]}") from None
    return generator.eval().requires_grad_(False)


def _read_metrics(folder: Path, skipped: list[str]) -> tuple[dict[int, dict], dict]:
    """metrics.json's records by epoch and its real-data floor; when unreadable, none, and a line in `skipped`."""
    try:
        metrics = read_metrics(folder)
        records = {
            int(r["epoch"]): r
            for r in metrics.get("epochs", [])
            if isinstance(r, dict) and isinstance(r.get("epoch"), int)
        }
        reference = metrics.get("reference") or {}
    except (UsageError, AttributeError, TypeError):
        skipped.append(f"{METRICS}: not valid JSON in the expected layout; plots and quality numbers are left out")
        return {}, {}
    return records, reference if isinstance(reference, dict) else {}


def load_run(folder: str | Path) -> Run:
    """Load every usable epoch-NNN/ of `folder` once; skip broken ones, noting why. Raises RunError if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder (expected epoch-NNN/ folders from python -m gan.train)")
    found = epoch_folders(folder).items()
    generators: dict[int, Generator] = {}
    skipped: list[str] = []
    for epoch, path in found:
        try:
            generators[epoch] = _load_generator(path)
        except ValueError as err:
            skipped.append(f"{path.name}: {err}")
    # The same z is followed through training, so every epoch must take the same latent and image size.
    if generators:
        last = generators[max(generators)]
        shape = (last.latent_dim, last.image_size)
        for epoch in list(generators):
            other = generators[epoch]
            if (other.latent_dim, other.image_size) != shape:
                skipped.append(
                    f"{epoch_name(epoch)}: latent_dim {other.latent_dim} / image_size {other.image_size} "
                    f"differs from the last epoch's {shape[0]} / {shape[1]}"
                )
                del generators[epoch]
    records, reference = _read_metrics(folder, skipped)
    for line in skipped:
        log.warning("skipped %s", line)
    if not generators:
        why = f" ({'; '.join(skipped[:3])}{'; ...' if len(skipped) > 3 else ''})" if skipped else ""
        raise RunError(f"no usable epoch-NNN/ folders in {folder}{why}")
    return Run(folder, dict(sorted(generators.items())), records, reference, skipped)


# ---- the engine: what the endpoints compute --------------------------------------------------


class Engine:
    """Renders pictures from a loaded Run. Thread-safe: shared by all users at once."""

    def __init__(self, run: Run, directions: int = 5):
        self.run = run
        self.epochs = list(run.generators)
        first = run.generators[self.epochs[0]]
        self.latent_dim = first.latent_dim
        self.side = math.isqrt(first.image_size)
        self.direction_count = directions  # fixed, so every run has the same /edit signature
        self._directions: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._directions_lock = threading.Lock()

    def nearest_epoch(self, epoch: int) -> int:
        """The saved epoch closest to `epoch` (the later one on a tie)."""
        index = bisect.bisect_left(self.epochs, epoch)
        candidates = self.epochs[max(0, index - 1) : index + 1]
        return min(candidates, key=lambda e: (abs(e - epoch), -e))

    def latents(self, seed: int, count: int) -> torch.Tensor:
        return seed_latents(seed, count, self.latent_dim)

    def tiles(self, epoch: int, latents: torch.Tensor) -> np.ndarray:
        """Latents (N, latent_dim) -> uint8 tiles (N, side, side) from the given saved epoch; read-only, and
        remembered in TILE_CACHE by the epoch's Generator and the latents' values."""
        generator = self.run.generators[epoch]
        key = (generator, digest(latents.detach().cpu().numpy()))
        tiles = TILE_CACHE.get(key)
        if tiles is None:
            with torch.inference_mode():
                tiles = to_uint8(generator(latents), self.side)
            tiles.setflags(write=False)
            TILE_CACHE.put(key, tiles, tiles.nbytes)
        return tiles

    def grid(self, epoch: int, latents: torch.Tensor, rows: int, cols: int) -> Image.Image:
        """Latents rendered by one epoch as a crisp, upscaled greyscale grid."""
        array = grid_array(self.tiles(epoch, latents), rows, cols, PAD)
        return upscale(array, display_scale(array.shape[1]))

    def seed_grid(self, epoch: int, seed: int, size: int) -> Image.Image:
        return self.grid(epoch, self.latents(seed, size * size), size, size)

    def progression(self, epochs: list[int], seed: int, columns: int) -> Image.Image:
        """One row per epoch, the same z in each column, epoch labels on the left."""
        return stacked_progression([("", self, epochs)], seed, columns)

    def run_gif(self, seed: int, size: int, max_frames: int = 80) -> bytes:
        """Every saved epoch (evenly thinned to max_frames, last one kept) rendering the same grid."""
        epochs = self.epochs
        if len(epochs) > max_frames:
            picks = np.linspace(0, len(epochs) - 1, max_frames).round().astype(int)
            epochs = [epochs[i] for i in sorted(set(picks))]
        latents = self.latents(seed, size * size)
        frames = [with_caption(self.grid(e, latents, size, size), f"epoch {e}") for e in epochs]
        return gif_bytes(frames)

    def mix(self, seed_a: int, seed_b: int, t: float, method: str, start: torch.Tensor | None = None) -> torch.Tensor:
        """The latent at t between seed A's and seed B's first latent, (1, latent_dim); `start` (1, latent_dim), when
        given, stands in for seed A's latent (a z handed on from another view)."""
        a, b = (self.latents(seed_a, 1) if start is None else start.reshape(1, -1)), self.latents(seed_b, 1)
        return (slerp if method == "slerp" else lerp)(a, b, t)

    def interpolation_strip(
        self,
        epoch: int,
        seed_a: int,
        seed_b: int,
        frames: int,
        method: str,
        gif: bool = True,
        start: torch.Tensor | None = None,
    ) -> tuple[Image.Image, bytes | None]:
        """A row of `frames` images from A to B, and (unless gif=False) the same as a GIF going there and back;
        `start` stands in for seed A's latent as in mix."""
        latents = torch.cat([self.mix(seed_a, seed_b, t, method, start) for t in np.linspace(0, 1, frames)])
        tiles = self.tiles(epoch, latents)
        columns = min(frames, MAX_GRID)  # long walks wrap onto more rows, so phones still see them
        strip = grid_array(tiles, math.ceil(frames / columns), columns, PAD)
        strip_image = upscale(strip, display_scale(strip.shape[1]))
        if not gif:
            return strip_image, None
        gif_frames = [upscale(tile, display_scale(self.side)) for tile in tiles]
        return strip_image, gif_bytes(gif_frames + gif_frames[-2:0:-1], 90, 90)

    def directions(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Principal directions of one epoch's Generator, computed on first use and cached."""
        with self._directions_lock:
            if epoch not in self._directions:
                directions, shares = principal_directions(self.run.generators[epoch], self.direction_count)
                missing = self.direction_count - len(directions)  # only when latent_dim < direction_count
                if missing:
                    directions = torch.cat([directions, directions.new_zeros(missing, self.latent_dim)])
                    shares = torch.cat([shares, shares.new_zeros(missing)])
                self._directions[epoch] = directions, shares
            return self._directions[epoch]

    def seed_latents(self, seed: int, count: int, first: torch.Tensor | None = None) -> torch.Tensor:
        """Seed's first `count` latents, the first replaced by `first` (latent_dim,) when given (a z handed on)."""
        latents = self.latents(seed, count)
        if first is not None:
            latents = torch.cat([first.reshape(1, -1).to(latents.dtype), latents[1:]])
        return latents

    def edited_latents(
        self, epoch: int, seed: int, count: int, strengths: list[float], first: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Seed's first `count` latents (the first one `first` when given), each moved by sum_k strength_k *
        direction_k."""
        directions, _ = self.directions(epoch)
        shift = torch.tensor(strengths, dtype=directions.dtype) @ directions  # (latent_dim,)
        return self.seed_latents(seed, count, first) + shift

    def direction_sheet(
        self,
        epoch: int,
        seed: int,
        steps: tuple[float, ...] = (-3, -2, -1, 0, 1, 2, 3),
        first: torch.Tensor | None = None,
    ) -> Image.Image:
        """Rows: directions; columns: seed's digit (or `first`) pushed by each strength in `steps`."""
        directions, shares = self.directions(epoch)
        base = self.seed_latents(seed, 1, first)
        rows = []
        for direction in directions:
            latents = base + torch.tensor(steps, dtype=base.dtype)[:, None] * direction
            rows.append(grid_array(self.tiles(epoch, latents), 1, len(steps), PAD))
        labels = [f"dir {k + 1} ({share:.0%})" for k, share in enumerate(shares.tolist())]
        return labelled_rows(rows, labels, display_scale(rows[0].shape[1] + 70))


def stacked_progression(parts: list[tuple[str, Engine, list[int]]], seed: int, columns: int) -> Image.Image:
    """Progression sheets of several runs, (name, engine, epochs) each, one under the other with a grey band
    between them: one row per epoch, the seed's first `columns` latents in the columns, labels on the left."""
    rows: list[np.ndarray] = []
    labels: list[str] = []
    for name, engine, epochs in parts:
        latents = engine.latents(seed, columns)
        if rows:
            rows.append(np.full((3 * PAD, rows[0].shape[1]), SEPARATOR_GREY, np.uint8))
            labels.append("")
        for epoch in epochs:
            rows.append(grid_array(engine.tiles(epoch, latents), 1, columns, PAD))
            labels.append(f"{name}, epoch {epoch}" if name else f"epoch {epoch}")
    return labelled_rows(rows, labels, display_scale(rows[0].shape[1] + 60))
