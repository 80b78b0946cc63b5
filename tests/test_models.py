"""The seed's two MLPs: their exact layers, a forward pass worked out by hand, and the Hub round trip."""

import json
import math

import pytest
import torch

from gan.models import Discriminator, Generator, load_generator


def set_weights(model: torch.nn.Module, layers: list[tuple[list[list[float]], list[float]]]) -> None:
    """Give linear1..3 the (weight, bias) of `layers`."""
    with torch.no_grad():
        for index, (weight, bias) in enumerate(layers, start=1):
            linear = getattr(model, f"linear{index}")
            linear.weight.copy_(torch.tensor(weight))
            linear.bias.copy_(torch.tensor(bias))


def test_seed_spec_layer_sizes():
    """Linear(100->256->256->784) for G and Linear(784->256->256->1) for D, with biases, nothing else."""
    assert {k: tuple(v.shape) for k, v in Generator().state_dict().items()} == {
        "linear1.weight": (256, 100),
        "linear1.bias": (256,),
        "linear2.weight": (256, 256),
        "linear2.bias": (256,),
        "linear3.weight": (784, 256),
        "linear3.bias": (784,),
    }
    assert {k: tuple(v.shape) for k, v in Discriminator().state_dict().items()} == {
        "linear1.weight": (256, 784),
        "linear1.bias": (256,),
        "linear2.weight": (256, 256),
        "linear2.bias": (256,),
        "linear3.weight": (1, 256),
        "linear3.bias": (1,),
    }


def test_generator_forward_worked_out_by_hand():
    """Plain ReLU (a negative pre-activation becomes 0, not -0.2x) between the layers, tanh at the end."""
    generator = Generator(latent_dim=2, hidden_dim=2, image_size=2)
    set_weights(
        generator,
        [
            ([[1.0, 2.0], [-1.0, 0.5]], [0.0, -1.0]),
            ([[0.5, 0.0], [-2.0, 1.0]], [0.1, 0.0]),
            ([[1.0, -1.0], [0.0, 2.0]], [0.0, 0.3]),
        ],
    )
    z = [1.0, -0.5]
    h1 = [
        max(0.0, 1 * 1 + 2 * -0.5 + 0),
        max(0.0, -1 * 1 + 0.5 * -0.5 - 1),
    ]  # [0, 0]: -2.25 is cut to 0 (LeakyReLU would give -0.45)
    assert h1 == [0.0, 0.0]
    h2 = [max(0.0, 0.5 * h1[0] + 0 * h1[1] + 0.1), max(0.0, -2 * h1[0] + 1 * h1[1] + 0)]  # [0.1, 0]
    expected = [math.tanh(1 * h2[0] - 1 * h2[1] + 0), math.tanh(0 * h2[0] + 2 * h2[1] + 0.3)]
    with torch.no_grad():
        images = generator(torch.tensor([z]))
    assert images.shape == (1, 2)
    assert images[0].tolist() == pytest.approx(expected, abs=1e-7)
    # A larger input: pre-activations of both signs, and outputs squashed by tanh.
    z = [3.0, 1.0]
    h1 = [max(0.0, 3 + 2), max(0.0, -3 + 0.5 - 1)]  # [5, 0]
    h2 = [max(0.0, 0.5 * 5 + 0.1), max(0.0, -2 * 5)]  # [2.6, 0]
    expected = [math.tanh(h2[0] - h2[1]), math.tanh(2 * h2[1] + 0.3)]
    with torch.no_grad():
        assert generator(torch.tensor([z]))[0].tolist() == pytest.approx(expected, abs=1e-7)


def test_discriminator_forward_worked_out_by_hand():
    """LeakyReLU with slope 0.2 between the layers; `logits` is the last linear layer, `forward` its sigmoid."""
    discriminator = Discriminator(latent_dim=2, hidden_dim=2, image_size=3)
    set_weights(
        discriminator,
        [
            ([[1.0, -1.0, 0.5], [-2.0, 0.0, 1.0]], [0.0, 0.5]),
            ([[1.0, 1.0], [0.5, -1.0]], [-0.5, 0.0]),
            ([[2.0, -3.0]], [0.25]),
        ],
    )
    x = [0.5, 1.0, -1.0]

    def leaky(value: float) -> float:
        return value if value > 0 else 0.2 * value

    h1 = [leaky(0.5 - 1.0 - 0.5), leaky(-1.0 + 0 - 1.0 + 0.5)]  # [-0.2, -0.3]
    h2 = [leaky(h1[0] + h1[1] - 0.5), leaky(0.5 * h1[0] - h1[1])]  # [-0.2, 0.2]
    logit = 2 * h2[0] - 3 * h2[1] + 0.25  # -0.75
    with torch.no_grad():
        logits = discriminator.logits(torch.tensor([x]))
        probability = discriminator(torch.tensor([x]))
    assert logits.shape == (1, 1) and probability.shape == (1, 1)
    assert logits.item() == pytest.approx(logit, abs=1e-6)
    assert probability.item() == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-6)


def test_save_pretrained_round_trip(tmp_path):
    torch.manual_seed(3)
    generator = Generator(latent_dim=8, hidden_dim=16)
    generator.save_pretrained(tmp_path)
    # config.json holds exactly the constructor's keyword arguments, so it rebuilds the model by itself.
    assert json.loads((tmp_path / "config.json").read_text()) == {"latent_dim": 8, "hidden_dim": 16, "image_size": 784}
    loaded = Generator.from_pretrained(tmp_path, strict=True)
    assert (loaded.latent_dim, loaded.hidden_dim, loaded.image_size) == (8, 16, 784)
    assert all(
        torch.equal(a, b) for a, b in zip(generator.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    noise = torch.randn(4, 8)
    assert torch.equal(generator.eval()(noise), loaded(noise))


def test_load_generator_reads_safetensors_only(tmp_path):
    generator = Generator(latent_dim=8, hidden_dim=16)
    (tmp_path / "config.json").write_text(json.dumps({"latent_dim": 8, "hidden_dim": 16, "image_size": 784}))
    torch.save(generator.state_dict(), tmp_path / "pytorch_model.bin")  # a pickle: never read
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        load_generator(tmp_path)
    generator.save_pretrained(tmp_path)
    assert torch.equal(load_generator(tmp_path).linear1.weight, generator.linear1.weight)
