"""Outside pictures made MNIST-like, the shipped real digits, and D loaded from an epoch's discriminator/ folder."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from demo import critic
from demo.mnist_style import to_mnist
from demo.validation import InputError
from gan.layout import discriminator_folder


def test_mnist_digit_is_used_as_it_is():
    images, labels = critic.real_digits()
    assert images.shape == (1000, 28, 28) and images.dtype == np.uint8 and labels.shape == (1000,)
    assert sorted(set(labels.tolist())) == list(range(10))
    np.testing.assert_array_equal(to_mnist(images[3]), images[3].astype(np.float32) / 255.0)


def test_dark_on_light_drawing_is_inverted_fitted_and_centred():
    picture = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(picture).line([(60, 20), (90, 180)], fill="black", width=14)  # a stroke off to the left
    field = to_mnist(picture)
    assert field.shape == (28, 28) and field.dtype == np.float32
    assert field.max() == pytest.approx(1.0, abs=0.02) and field[0].max() == 0 and field[:, 0].max() == 0
    rows, cols = np.nonzero(field >= 0.1)
    assert rows.max() - rows.min() + 1 in (20, 21)  # the longer side fills the 20-pixel box
    ys, xs = np.indices(field.shape)
    centre = ((ys * field).sum() / field.sum(), (xs * field).sum() / field.sum())
    assert abs(centre[0] - 13.5) <= 1 and abs(centre[1] - 13.5) <= 1


def test_drawing_pad_value_with_transparent_paper():
    layer = np.zeros((120, 120, 4), np.uint8)  # transparent, with an opaque black stroke
    layer[20:100, 55:65] = (0, 0, 0, 255)
    field = to_mnist({"composite": layer, "layers": [layer], "background": None})
    assert field.sum() > 10 and field[0].max() == 0


@pytest.mark.parametrize("picture", [np.full((50, 50), 255, np.uint8), np.zeros((28, 28)), None])
def test_empty_pictures_are_refused_by_name(picture):
    with pytest.raises(InputError, match="empty|no picture"):
        to_mnist(picture)


def test_bad_arrays_are_refused():
    with pytest.raises(InputError, match="shape"):
        to_mnist(np.zeros((2, 2, 2, 2)))
    with pytest.raises(InputError, match="finite"):
        to_mnist(np.full((28, 28), np.nan))


def test_discriminator_loads_from_an_exported_epoch(tiny_weights):
    folder = discriminator_folder(tiny_weights / "epoch-001")
    assert folder is not None
    model = critic.discriminator(tiny_weights, 1)
    assert critic.discriminator(tiny_weights, 1) is model  # loaded once
    plain = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.LeakyReLU(0.2), torch.nn.Linear(256, 256), torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(256, 1), torch.nn.Sigmoid(),
    )  # fmt: skip
    from safetensors.torch import load_file

    state = load_file(folder / "model.safetensors")
    assert all(t.dtype == torch.float16 for t in state.values())  # stored in half precision
    plain.load_state_dict({k.replace("linear1", "0").replace("linear2", "2").replace("linear3", "4"): v.float()
                           for k, v in state.items()})  # fmt: skip
    images = critic.to_model_input(critic.real_digits()[0][:8] / 255.0)
    np.testing.assert_allclose(critic.scores(model, images), plain(images).reshape(-1).detach().numpy(), rtol=1e-6)
    assert critic.discriminator(tiny_weights / "nowhere", 1) is None
