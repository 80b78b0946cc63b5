import torch

from gan.models import Discriminator, Generator


def test_generator_shape_and_range():
    generator = Generator()
    images = generator(torch.randn(7, 100) * 10)
    assert images.shape == (7, 784)
    assert images.min() >= -1 and images.max() <= 1


def test_discriminator_shape_and_range():
    discriminator = Discriminator()
    scores = discriminator(torch.rand(5, 784) * 2 - 1)
    assert scores.shape == (5, 1)
    assert ((scores > 0) & (scores < 1)).all()
    assert torch.allclose(torch.sigmoid(discriminator.logits(torch.zeros(2, 784))), discriminator(torch.zeros(2, 784)))


def test_tutorial_layer_sizes():
    generator, discriminator = Generator(), Discriminator()
    assert [tuple(m.weight.shape) for m in (generator.linear1, generator.linear2, generator.linear3)] == [
        (256, 100),
        (256, 256),
        (784, 256),
    ]
    assert [tuple(m.weight.shape) for m in (discriminator.linear1, discriminator.linear2, discriminator.linear3)] == [
        (256, 784),
        (256, 256),
        (1, 256),
    ]
    # ReLU (not leaky) in G: negative pre-activations become exactly zero
    assert generator.relu(torch.tensor([-1.0])).item() == 0.0


def test_save_pretrained_round_trip(tmp_path):
    torch.manual_seed(3)
    generator = Generator(latent_dim=8, hidden_dim=16)
    generator.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file() and (tmp_path / "model.safetensors").is_file()
    loaded = Generator.from_pretrained(tmp_path, strict=True)
    assert (loaded.latent_dim, loaded.hidden_dim, loaded.image_size) == (8, 16, 784)
    noise = torch.randn(4, 8)
    assert torch.equal(generator.eval()(noise), loaded(noise))


def test_load_generator_reads_safetensors_only(tmp_path):
    import json

    import pytest

    from gan.models import load_generator

    generator = Generator(latent_dim=8, hidden_dim=16)
    (tmp_path / "config.json").write_text(json.dumps({"latent_dim": 8, "hidden_dim": 16, "image_size": 784}))
    torch.save(generator.state_dict(), tmp_path / "pytorch_model.bin")  # a pickle: never read
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        load_generator(tmp_path)
    generator.save_pretrained(tmp_path)
    assert torch.equal(load_generator(tmp_path).linear1.weight, generator.linear1.weight)
