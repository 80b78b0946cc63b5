"""The app's pure parts: latents, interpolation, grids, directions, loading a run, input checks."""

import io
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from demo.engine import (
    BANK_SIZE,
    PNG_CACHE,
    TILE_CACHE,
    ByteLRU,
    Engine,
    RunError,
    display_scale,
    epoch_ranges,
    generator_jacobians,
    lerp,
    load_run,
    png_bytes,
    principal_directions,
    seed_latents,
    slerp,
    stacked_progression,
)
from demo.runs import find_runs, load_runs, load_specs, run_folders, split_specs
from demo.validation import InputError, choice, real_number, whole_number, whole_numbers
from gan.models import Generator, load_generator


def test_seed_latents_are_deterministic_and_prefix_stable():
    a, b = seed_latents(7, 16, 100), seed_latents(7, 16, 100)
    assert torch.equal(a, b)
    assert not torch.equal(a, seed_latents(8, 16, 100))
    # A 1x1 grid shows the top-left digit of the 10x10 grid of the same seed.
    assert torch.equal(seed_latents(7, 1, 100)[0], seed_latents(7, BANK_SIZE, 100)[0])
    # Seed = the trainer's --seed reproduces its fixed noise (gan.train.fixed_latents).
    trainer_noise = torch.randn(BANK_SIZE, 100, generator=torch.Generator().manual_seed(0))
    assert torch.equal(seed_latents(0, BANK_SIZE, 100), trainer_noise)


def test_slerp_end_points_and_norm():
    a, b = seed_latents(1, 1, 100), seed_latents(2, 1, 100)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid_slerp, mid_lerp = slerp(a, b, 0.5).norm(), lerp(a, b, 0.5).norm()
    # Slerp stays near the end points' norms; lerp of two near-orthogonal Gaussians shrinks by ~1/sqrt(2).
    assert min(a.norm(), b.norm()) * 0.95 <= mid_slerp <= max(a.norm(), b.norm()) * 1.05
    assert mid_lerp < 0.85 * mid_slerp
    assert torch.allclose(slerp(a, a, 0.3), a, atol=1e-5)  # parallel: falls back to lerp


def test_grid_layout_and_scale(tiny_weights):
    engine = Engine(load_run(tiny_weights))
    image = engine.seed_grid(engine.epochs[-1], 3, 4)
    width = 4 * (28 + 2) + 2
    scale = display_scale(width)
    assert image.mode == "L" and image.size == (width * scale, width * scale)
    pixels = np.asarray(image)
    assert np.array_equal(
        np.kron(pixels[::scale, ::scale], np.ones((scale, scale), np.uint8)), pixels
    )  # nearest-neighbour
    assert (pixels[: 2 * scale] == 0).all()  # padding row on top
    assert engine.seed_grid(engine.epochs[-1], 3, 1).size[0] >= 512


def test_byte_lru_keeps_the_most_recent_within_its_bound():
    cache = ByteLRU(100)
    for key in "abc":
        cache.put(key, key.upper(), 40)  # 120 bytes: "a" goes
    assert cache.get("a") is None and cache.get("b") == "B" and cache.bytes == 80
    cache.put("d", "D", 40)  # "c" is now the least recently used
    assert cache.get("c") is None and cache.get("b") == "B" and cache.get("d") == "D"
    cache.put("huge", "X", 101)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 3)


def test_pictures_asked_for_again_are_not_drawn_or_encoded_again(tiny_weights, monkeypatch):
    """Tiles come from TILE_CACHE by the epoch's Generator and the latents' values, PNG files from PNG_CACHE by
    their pixels: the same picture again skips both, and any other latents or pixels get their own."""
    from demo import engine as engine_module

    TILE_CACHE.clear()
    PNG_CACHE.clear()
    engine = Engine(load_run(tiny_weights))
    last = engine.epochs[-1]
    forwards = []
    hook = engine.run.generators[last].register_forward_hook(lambda *_: forwards.append(1))
    try:
        first = engine.tiles(last, engine.latents(3, 4))
        again = engine.tiles(last, engine.latents(3, 4))
        assert again is first and len(forwards) == 1 and not first.flags.writeable
        other = engine.tiles(last, engine.latents(4, 4))
        assert len(forwards) == 2 and not np.array_equal(other, first)
        earlier = engine.tiles(engine.epochs[0], engine.latents(3, 4))  # another epoch: its own Generator
        assert not np.array_equal(earlier, first)
    finally:
        hook.remove()
    encodes = []
    encode = engine_module.encode_png
    monkeypatch.setattr(engine_module, "encode_png", lambda pixels: encodes.append(1) or encode(pixels))
    pixels = np.asarray(engine.seed_grid(last, 3, 2)).copy()
    assert png_bytes(pixels) is png_bytes(pixels.copy()) and len(encodes) == 1
    pixels[0, 0] ^= 1  # one pixel changed: a new file with it
    with Image.open(io.BytesIO(png_bytes(pixels))) as back:
        assert np.array_equal(np.asarray(back), pixels)
    assert len(encodes) == 2


def test_jacobian_closed_form_matches_autograd():
    torch.manual_seed(0)
    generator = Generator(latent_dim=8, hidden_dim=16, image_size=16).eval()
    noise = torch.randn(3, 8)
    expected = torch.func.vmap(torch.func.jacfwd(lambda z: generator(z[None])[0]))(noise)
    assert torch.allclose(generator_jacobians(generator, noise), expected, atol=1e-6)


def test_principal_directions_are_orthonormal_deterministic_and_ordered():
    torch.manual_seed(0)
    generator = Generator(latent_dim=12, hidden_dim=32, image_size=16).eval()
    directions, shares = principal_directions(generator, count=4, samples=32)
    assert directions.shape == (4, 12)
    assert torch.allclose(directions @ directions.T, torch.eye(4), atol=1e-5)
    assert (shares[:-1] >= shares[1:]).all() and 0 < shares.sum() <= 1
    again, _ = principal_directions(generator, count=4, samples=32)
    assert torch.equal(directions, again)
    # The top direction changes the image at least as much as a random unit direction.
    z = torch.randn(16, 12)
    jacobians = generator_jacobians(generator, z)
    random_direction = torch.nn.functional.normalize(torch.randn(12), dim=0)
    assert (jacobians @ directions[0]).norm() >= (jacobians @ random_direction).norm()


def test_epoch_ranges_and_nearest_epoch(tiny_weights, tmp_path):
    assert epoch_ranges([1, 2, 3, 4, 5, 10, 15, 20, 25]) == "1-5, 10-25 every 5"
    assert epoch_ranges([1, 3]) == "1, 3"
    folder = tmp_path / "gapped"
    folder.mkdir()
    for epoch in (1, 3):
        shutil.copytree(tiny_weights / f"epoch-{epoch:03d}", folder / f"epoch-{epoch:03d}")
    engine = Engine(load_run(folder))
    assert engine.epochs == [1, 3]
    assert [engine.nearest_epoch(e) for e in (1, 2, 3)] == [1, 3, 3]


def test_load_run_skips_broken_epochs_and_says_why(tiny_weights, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_weights, folder)
    weights = (folder / "epoch-001" / "model.safetensors").read_bytes()
    (folder / "epoch-001" / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # truncated
    config = json.loads((folder / "epoch-002" / "config.json").read_text())
    (folder / "epoch-002" / "config.json").write_text(json.dumps({**config, "hidden_dim": 64}))  # wrong sizes
    (folder / "epoch-004").mkdir()  # no weights
    (folder / "metrics.json").write_text("{not json")
    run = load_run(folder)
    assert list(run.generators) == [3]
    reasons = "\n".join(run.skipped)
    assert "epoch-001" in reasons and "epoch-002" in reasons and "does not match config.json" in reasons
    assert "epoch-004: no model.safetensors" in reasons and "metrics.json" in reasons
    assert run.records == {}


def test_load_run_with_nothing_usable(tmp_path):
    with pytest.raises(RunError, match="no usable"):
        load_run(tmp_path)
    with pytest.raises(RunError, match="not a folder"):
        load_run(tmp_path / "missing")


@pytest.mark.parametrize("value", [-1, 11, 2.5, "3", None, True, math.nan, math.inf, [3], "x" * 10_000])
def test_whole_number_rejects_with_what_is_allowed(value):
    with pytest.raises(InputError, match="grid size must be a whole number from 1 to 10") as caught:
        whole_number(value, "grid size", 1, 10)
    assert len(str(caught.value)) < 120  # long values are cut short in the message


def test_checks_accept_good_values():
    assert whole_number(3.0, "n", 1, 10) == 3
    assert real_number(0, "t", 0, 1) == 0.0
    assert choice("lerp", "method", ("slerp", "lerp")) == "lerp"
    assert whole_numbers([3, 1, 3], "epochs", 1, 5, 4) == [1, 3]
    for bad in (math.nan, "0.5", None, 1.5):
        with pytest.raises(InputError, match="t must be a number from 0 to 1"):
            real_number(bad, "t", 0, 1)
    with pytest.raises(InputError, match="method must be one of"):
        choice("SLERP", "method", ("slerp", "lerp"))
    with pytest.raises(InputError, match="at most 2"):
        whole_numbers([1, 2, 3], "epochs", 1, 5, 2)


def test_fast_loader_matches_from_pretrained(tiny_weights):
    run = load_run(tiny_weights)
    noise = seed_latents(0, 4, 100)
    for epoch, generator in run.generators.items():
        reference = load_generator(tiny_weights / f"epoch-{epoch:03d}")  # Generator.from_pretrained(strict=True)
        assert torch.equal(generator(noise), reference(noise))
        assert not any(p.is_meta or p.requires_grad for p in generator.parameters())


def test_find_runs_in_a_run_folder_and_a_folder_of_runs(two_runs):
    assert find_runs(two_runs / "tutorial") == {"tutorial": two_runs / "tutorial"}
    assert find_runs(two_runs) == {"stable": two_runs / "stable", "tutorial": two_runs / "tutorial"}  # no classifier
    runs = load_specs([str(two_runs)])
    assert runs.names == ["stable", "tutorial"] and runs.default == "tutorial" and runs.skipped == []
    assert load_specs([str(two_runs / "stable")]).default == "stable"  # no tutorial: the first run


def test_several_specs_hub_names_and_duplicates(two_runs, tmp_path):
    fetched = []

    def fetch(spec: str, fallback: str) -> Path:  # stands in for gan.hub.resolve_weights
        fetched.append(spec)
        return two_runs / "stable" if spec == "someone/mnist-gan" else Path(fallback)

    assert split_specs(["a, b", "c  d,"]) == ["a", "b", "c", "d"]
    specs = [str(two_runs / "tutorial"), "someone/mnist-gan", str(two_runs / "tutorial")]
    folders, empty = run_folders(specs, fallback=str(two_runs), fetch=fetch)
    assert folders == {"tutorial": two_runs / "tutorial", "mnist-gan": two_runs / "stable"}  # the repo's name
    assert fetched == ["someone/mnist-gan"] and empty == []
    # Offline and not cached, a repo falls back to the fallback folder of runs; a folder met twice counts once.
    folders, _ = run_folders(["someone/elsewhere"], fallback=str(two_runs), fetch=fetch)
    assert folders == {"stable": two_runs / "stable", "tutorial": two_runs / "tutorial"}
    other = tmp_path / "other"
    shutil.copytree(two_runs / "tutorial", other / "tutorial")
    folders, _ = run_folders([str(two_runs), str(other)], fetch=fetch)
    assert list(folders) == ["stable", "tutorial", "tutorial-2"]  # another folder of the same name


def test_a_broken_run_is_skipped_and_reported(two_runs, tmp_path):
    shutil.copytree(two_runs, tmp_path / "weights")
    (tmp_path / "weights" / "broken" / "epoch-001").mkdir(parents=True)
    runs = load_specs([str(tmp_path / "weights")])
    assert runs.names == ["stable", "tutorial"]
    assert len(runs.skipped) == 1 and runs.skipped[0].startswith("run broken: no usable epoch-NNN/ folders in")
    assert "epoch-001: no model.safetensors" in runs.skipped[0]
    with pytest.raises(RunError, match="^no usable epoch-NNN/ folders in .*broken"):  # only one, its own reason
        load_specs([str(tmp_path / "weights" / "broken")])
    with pytest.raises(RunError, match="^no usable run; no usable epoch-NNN/ folders in .*classifier; run broken: "):
        load_specs([str(tmp_path / "weights" / "broken"), str(tmp_path / "weights" / "classifier")])
    with pytest.raises(RunError, match="no usable run"):
        load_runs({})


def test_stacked_progression_puts_run_b_below_run_a(two_runs):
    runs = load_specs([str(two_runs)])
    tutorial, stable = runs.engines["tutorial"], runs.engines["stable"]
    one = np.asarray(tutorial.progression([1, 3], 7, 4))
    both = np.asarray(stacked_progression([("tutorial", tutorial, [1, 3]), ("stable", stable, [1, 2])], 7, 4))
    assert both.shape[0] > 2 * one.shape[0]
    digits = 4 * 30 + 2  # (scale 1 would be this wide; compare the tiles' columns at the sheet's own scale)
    scale = one.shape[0] // (2 * 32)
    width = digits * scale
    assert np.array_equal(both[: one.shape[0], -width:], one[:, -width:])  # run A's rows on top, unchanged
    assert not np.array_equal(both[-one.shape[0] :, -width:], one[:, -width:])  # run B draws differently


def test_gif_file_survives_old_gifs_deleted_by_someone_else(tiny_weights, monkeypatch):
    """Several requests clear out old GIFs at once: one that another request (or a cache sweep) deleted between
    listing and checking is passed over, not an error; old GIFs still go, the new one stays."""
    import os
    import time

    from demo.context import GIF_MAX_AGE_S, Context
    from demo.runs import Runs

    context = Context(Runs({"tutorial": Engine(load_run(tiny_weights))}))
    old = context.gif_dir / "tmp-old" / "old.gif"
    old.parent.mkdir()
    old.write_bytes(b"GIF89a")
    os.utime(old, (time.time() - 2 * GIF_MAX_AGE_S,) * 2)
    listed = Path.glob

    def glob_with_a_vanished_file(self, pattern):  # what a listing taken just before another request's delete holds
        return iter([self / "tmp-gone" / "deleted-meanwhile.gif", *listed(self, pattern)])

    monkeypatch.setattr(Path, "glob", glob_with_a_vanished_file)
    path = Path(context.gif_file(b"GIF89a-new", "fresh"))
    assert path.read_bytes() == b"GIF89a-new" and path.name == "fresh.gif" and path.parent.parent == context.gif_dir
    assert not old.exists() and not old.parent.exists()


@pytest.mark.slow
def test_gif_folder_goes_with_the_process(tiny_weights, tmp_path):
    """Each app start makes a GIF folder; the process's exit (SIGTERM exits through sys.exit in app.py) deletes it
    with the GIFs in it, instead of leaving one in the temp folder per start."""
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from demo.context import Context; from demo.engine import Engine, "
        "load_run; from demo.runs import Runs; "
        f"c = Context(Runs({{'tutorial': Engine(load_run(Path({str(tiny_weights)!r})))}})); "
        "print(c.gif_file(b'GIF89a', 'kept-until-exit'), flush=True); sys.exit(143)"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 143, done.stderr
    gif = Path(done.stdout.strip())
    assert gif.name == "kept-until-exit.gif" and gif.is_relative_to(tmp_path)
    assert not gif.exists() and not list(tmp_path.glob("gan-demo-gifs-*"))
