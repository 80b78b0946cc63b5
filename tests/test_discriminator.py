"""The Discriminator tab: /discriminate against a plain nn.Sequential, the piles, the push, the arms race, steps
by hand (per visitor, never touching the files), and a run without D."""

import base64
import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import free_port
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image
from safetensors.torch import load_file
from torch import nn

from demo import arena, critic
from demo.context import Context
from demo.mnist_style import to_mnist
from demo.runs import load_specs
from demo.tabs import discriminator as tab
from demo.ui import build_demo, launch_options


def plain_discriminator(folder: Path) -> nn.Sequential:
    """epoch-NNN/discriminator loaded into a plain 784-256-256-1 nn.Sequential (LeakyReLU 0.2, Sigmoid), in fp32."""
    state = load_file(folder / "discriminator" / "model.safetensors")
    model = nn.Sequential(
        nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid()
    )
    names = {"0": "linear1", "2": "linear2", "4": "linear3"}
    model.load_state_dict(
        {key: state[f"{names[key.split('.')[0]]}.{key.split('.')[1]}"].float() for key in model.state_dict()},
        strict=True,
    )
    return model.eval()


def plain_score(folder: Path, digit: np.ndarray) -> float:
    """D's probability for a uint8 white-on-black 28x28 digit, normalised as training normalised MNIST."""
    x = torch.as_tensor(digit, dtype=torch.float32).reshape(1, 784) / 255.0 * 2 - 1
    with torch.no_grad():
        return float(plain_discriminator(folder)(x)[0, 0])


def data_url(digit: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(digit, "L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def runs_folder(tiny_weights, tmp_path_factory) -> Path:
    """tutorial/: the tiny run with D in every epoch; old/: the same run as trained before D was exported."""
    root = tmp_path_factory.mktemp("d-runs")
    shutil.copytree(tiny_weights, root / "tutorial")
    shutil.copytree(tiny_weights, root / "old")
    for folder in (root / "old").glob("epoch-*/discriminator"):
        shutil.rmtree(folder)
    return root


@pytest.fixture(scope="module")
def handlers(runs_folder) -> tab.Handlers:
    return tab.Handlers(Context(load_specs([str(runs_folder)])))


@pytest.fixture(scope="module")
def client(runs_folder, tmp_path_factory):
    demo = build_demo(load_specs([str(runs_folder)])).queue(default_concurrency_limit=8)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **launch_options()
    )
    yield Client(url, verbose=False, download_files=str(tmp_path_factory.mktemp("d-downloads")))
    demo.close()


def test_discriminate_returns_what_a_plain_sequential_gives(client, runs_folder):
    """/discriminate on a real test digit (28x28 white on black, used as it is) gives the number the epoch's
    discriminator/ files give when loaded into a plain nn.Sequential; as grey rows and as a PNG data URL alike."""
    images, labels = critic.real_digits()
    for index, epoch in ((0, 3), (1, 1)):
        digit = images[index]
        expected = plain_score(runs_folder / "tutorial" / f"epoch-{epoch:03d}", digit)
        score, caption = client.predict("tutorial", epoch, digit.astype(int).tolist(), api_name="/discriminate")
        assert score == pytest.approx(expected, abs=1e-6)
        assert f"**{score:.3f}**" in caption and f"epoch {epoch}" in caption
        from_png, _ = client.predict("tutorial", epoch, data_url(digit), api_name="/discriminate")
        assert from_png == pytest.approx(expected, abs=1e-6)
    assert labels[0] == 7  # the example the API documents


def test_discriminate_preprocesses_other_pictures_and_refuses_non_pictures(client, runs_folder):
    """A dark digit on white paper, larger than 28x28, is made MNIST-like first (as demo.mnist_style does)."""
    images, _ = critic.real_digits()
    paper = 255 - np.kron(images[0], np.ones((3, 3), np.uint8))  # 84x84, black ink on white
    made = to_mnist(Image.fromarray(paper, "L"))  # white on black, 28x28, the ink fitted into 20x20
    assert made.shape == (28, 28) and made[0].max() == 0 and made.max() > 0.9
    x = torch.as_tensor(made, dtype=torch.float32).reshape(1, 784) * 2 - 1
    with torch.no_grad():
        expected = float(plain_discriminator(runs_folder / "tutorial" / "epoch-003")(x)[0, 0])
    score, _ = client.predict("tutorial", 3, data_url(paper), api_name="/discriminate")
    assert score == pytest.approx(expected, abs=1e-6)
    with pytest.raises(AppError, match="image must be a picture"):
        client.predict("tutorial", 3, "not a picture", api_name="/discriminate")
    with pytest.raises(AppError, match="has no Discriminator saved"):
        client.predict("old", 3, images[0].astype(int).tolist(), api_name="/discriminate")


def test_piles_are_d_scores_on_real_digits_and_the_epochs_fakes(handlers, runs_folder):
    engine = handlers.ctx.engine("tutorial")
    found = arena.epoch_piles(engine, 2)
    images, _ = critic.real_digits()
    model = plain_discriminator(runs_folder / "tutorial" / "epoch-002")
    with torch.no_grad():
        real = model(torch.as_tensor(images[:50], dtype=torch.float32).reshape(50, 784) / 255 * 2 - 1)[:, 0]
        fakes = engine.run.generators[2](engine.latents(arena.PILE_SEED, 50))
        fake = model(fakes)[:, 0]
    assert len(found.real) == len(found.fake) == arena.PILE_SIZE
    assert np.allclose(found.real[:50], real.numpy(), atol=1e-6) and np.allclose(found.fake[:50], fake.numpy())
    assert 0.0 <= found.overlap <= 1.0
    assert arena.Piles(found.real, found.real).overlap == pytest.approx(1.0)
    apart = arena.Piles(np.full(10, 0.99), np.full(10, 0.01))
    assert apart.overlap == 0.0 and apart.accuracy == 1.0
    picture, caption = handlers.piles("tutorial", 2)
    assert picture.mode == "RGB" and "Where the piles overlap, D cannot tell real from fake." in caption
    assert f"overlap by **{found.overlap:.0%}**" in caption


def test_verdicts_write_each_samples_score(handlers):
    engine = handlers.ctx.engine("tutorial")
    picture, caption = handlers.verdicts("tutorial", 3, 5, 3, 2)
    d = critic.discriminator(engine.run.folder, 3)
    with torch.no_grad():
        scores = d(engine.run.generators[3](engine.latents(5, 9)))[:, 0].numpy()
    assert picture.mode == "RGB" and f"{scores.mean():.2f}" in caption
    assert f"**{int((scores > 0.5).sum())} of 9**" in caption
    red, green = np.array(arena.verdict_colour(0.0)), np.array(arena.verdict_colour(1.0))
    assert tuple(red) == arena.FAKE_COLOUR and tuple(green) == arena.REAL_COLOUR


def test_the_push_is_minus_the_gradient_of_gs_loss(handlers):
    """|dD/dx| and -dL_G/dx match autograd on the plain formulas; the minimax push is the non-saturating one times
    D/(1-D); a small step along the push raises D's score."""
    engine = handlers.ctx.engine("tutorial")
    d = critic.discriminator(engine.run.folder, 3)
    with torch.no_grad():
        image = engine.run.generators[3](engine.latents(0, 4))[3]
    x = image.clone().requires_grad_(True)
    (grad_d,) = torch.autograd.grad(d(x[None])[0, 0], x)
    y = image.clone().requires_grad_(True)
    (grad_ns,) = torch.autograd.grad(-torch.log(d(y[None])[0, 0]), y)
    z = image.clone().requires_grad_(True)
    (grad_mm,) = torch.autograd.grad(torch.log(1 - d(z[None])[0, 0]), z)
    ns = arena.push(d, image, "non-saturating", 0.01)
    mm = arena.push(d, image, "minimax", 0.01)
    assert torch.allclose(ns.looks, grad_d.abs(), atol=1e-6)
    assert torch.allclose(ns.push, -grad_ns, atol=1e-5) and torch.allclose(mm.push, -grad_mm, atol=1e-5)
    d_x = ns.score  # both pushes point the same way; their sizes are (1 - D) and D times D's logit slope
    assert ns.sizes["minimax"] / ns.sizes["non-saturating"] == pytest.approx(d_x / (1 - d_x), rel=1e-5)
    assert ns.scale == mm.scale == max(ns.sizes.values())  # drawn and stepped against the stronger push
    moved = float((ns.stepped - image).abs().max())  # the stronger push moves its strongest pixel by the step
    assert moved == pytest.approx(0.01 * ns.sizes["non-saturating"] / ns.scale, abs=1e-6)
    assert ns.stepped_score > ns.score and mm.stepped_score > mm.score
    picture, caption = handlers.push("tutorial", 3, 0, 4, 0.01, "minimax")
    assert picture.mode == "RGB" and f"**{mm.score:.3f}**" in caption and "log(1 − D(G(z)))" in caption


def test_generator_losses_push_apart_when_d_is_sure():
    """While D is sure a fake is fake (logit -8), log(1 - D) gives G about e^8 times less push than -log D."""
    logits = torch.full((4, 1), -8.0, requires_grad=True)
    (ns,) = torch.autograd.grad(arena.generator_loss(logits, "non-saturating"), logits)
    (mm,) = torch.autograd.grad(arena.generator_loss(logits, "minimax"), logits)
    assert float(ns.abs().sum() / mm.abs().sum()) == pytest.approx(np.exp(8.0), rel=1e-3)


def test_arms_race_is_every_d_against_every_g_computed_once(handlers, monkeypatch):
    engine = handlers.ctx.engine("tutorial")
    found = arena.arms_race(engine)
    assert found.d_epochs == found.g_epochs == [1, 2, 3] and found.fake.shape == (3, 3)
    d = critic.discriminator(engine.run.folder, 2)
    fakes = arena.fakes(engine.run.generators[3], arena.ARMS_FAKES, arena.ARMS_SEED)
    assert found.fake[1, 2] == pytest.approx(float(critic.scores(d, fakes).mean()), abs=1e-6)
    assert found.real[1] == pytest.approx(float(critic.scores(d, arena.real_inputs()).mean()), abs=1e-6)
    monkeypatch.setattr(critic, "scores", lambda *a: pytest.fail("the arms race was computed again"))
    picture, caption = handlers.arms_race("tutorial", 2)
    assert picture.mode == "RGB" and "mean D(G(z))" in caption and arena.cached_arms_race(engine) is found
    picked = arena.arms_epochs(list(range(1, 201)))  # a 200-epoch run: 30 of them, evenly spread, both ends kept
    assert len(picked) == arena.MAX_ARMS_EPOCHS and picked[0] == 1 and picked[-1] == 200


def test_hand_steps_are_per_visitor_replayable_and_never_touch_files(handlers, runs_folder):
    engine = handlers.ctx.engine("tutorial")
    before = folder_digest(runs_folder / "tutorial")
    shared_g = {k: v.clone() for k, v in engine.run.generators[3].state_dict().items()}
    shared_d = {k: v.clone() for k, v in critic.discriminator(engine.run.folder, 3).state_dict().items()}
    state, steps, *_ = handlers.hand_click("reset", None, "tutorial", 3, 0, 3, "non-saturating")
    assert steps == "" and state.steps == []
    start_g = {k: v.clone() for k, v in state.generator.state_dict().items()}
    start_d = {k: v.clone() for k, v in state.discriminator.state_dict().items()}
    state, steps, *_ = handlers.hand_click("D", state, "tutorial", 3, 0, 3, "non-saturating")
    assert all(torch.equal(v, state.generator.state_dict()[k]) for k, v in start_g.items())  # a D step: G stays
    assert not all(torch.equal(v, state.discriminator.state_dict()[k]) for k, v in start_d.items())
    other, *_ = handlers.hand_click("G", None, "tutorial", 3, 0, 3, "non-saturating")  # another visitor
    assert other is not state and other.steps == ["G"] and state.steps == ["D"]
    state, steps, verdicts, piles, caption = handlers.hand_click("G", state, "tutorial", 3, 0, 3, "non-saturating")
    assert steps == "DG" and "After **2 steps** (DG)" in caption and "−log D(G(z))" in caption
    api_verdicts, api_piles, api_caption = handlers.hand_step("tutorial", 3, 0, 3, "dg", "non-saturating")
    assert np.array_equal(np.asarray(api_verdicts), np.asarray(verdicts))  # the API replays the same two steps
    assert np.array_equal(np.asarray(api_piles), np.asarray(piles)) and api_caption == caption
    assert all(torch.equal(v, engine.run.generators[3].state_dict()[k]) for k, v in shared_g.items())
    assert all(torch.equal(v, critic.discriminator(engine.run.folder, 3).state_dict()[k]) for k, v in shared_d.items())
    moved, steps, *_ = handlers.hand_click("D", state, "tutorial", 2, 0, 3, "minimax")  # another epoch: a new game
    assert moved.key[1] == 2 and steps == "D"
    assert folder_digest(runs_folder / "tutorial") == before
    with pytest.raises(Exception, match="steps must be a string of the letters D and G"):
        handlers.hand_step("tutorial", 3, 0, 3, "DX", "minimax")


def test_hand_adam_is_torchs_adam():
    """The hand steps' Adam gives torch.optim.Adam's numbers, step after step (the recipe's betas 0.5 and 0.9)."""
    torch.manual_seed(0)
    ours, theirs = nn.Linear(5, 3), nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    start = ours.weight.detach().clone()
    mine = arena.Adam(ours.parameters(), lr=2e-4, betas=(0.5, 0.999))
    reference = torch.optim.Adam(theirs.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for step in range(5):
        x = torch.randn(8, 5, generator=torch.Generator().manual_seed(step))
        for model, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.zero_grad(set_to_none=True)
            (model(x) ** 2).mean().backward()
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-7, rtol=1e-6)
    assert not torch.equal(ours.weight, start)  # the steps moved the weights


def test_a_run_without_d_says_so_in_one_line(handlers):
    line = critic.missing_line("old")
    assert handlers.piles("old", 3) == (None, line)
    assert handlers.verdicts("old", 3, 0, 2, 1) == (None, line)
    assert handlers.push("old", 3, 0, 1, 0.2, "minimax") == (None, line)
    assert handlers.arms_race("old", 3) == (None, line)
    assert handlers.hand_step("old", 3, 0, 2, "DG", "minimax") == (None, None, line)
    assert handlers.hand_click("D", None, "old", 3, 0, 2, "minimax")[-1] == line
