"""Pictures from outside (a drawing, an upload) made to look as MNIST's digits looked to the models.

MNIST's recipe: a white digit on black, its ink cropped and fitted into a 20x20 box (aspect kept, anti-aliased),
then placed in a 28x28 field so that its centre of mass sits at the middle.
"""

import numpy as np
from PIL import Image

from demo.validation import InputError

SIDE = 28  # MNIST's field
BOX = 20  # the ink is fitted into BOX x BOX
INK = 0.1  # a pixel at least this bright (0..1, after inversion) is ink when cropping
MAX_PIXELS = 4096 * 4096  # refuse larger uploads before any work


def _grey(picture) -> np.ndarray:
    """Any picture (PIL, array, or a drawing pad's dict) as greys in 0..1, transparent parts read as white paper."""
    if isinstance(picture, dict):  # gr.Sketchpad / gr.ImageEditor: {"composite": ..., "layers": [...], ...}
        picture = picture.get("composite")
    if picture is None:
        raise InputError("no picture: draw a digit or upload an image")
    if isinstance(picture, Image.Image):
        if picture.width * picture.height > MAX_PIXELS:
            raise InputError(f"the picture is {picture.width}x{picture.height}; at most 4096x4096 is taken")
        if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
            paper = Image.new("RGBA", picture.size, (255, 255, 255, 255))
            picture = Image.alpha_composite(paper, picture.convert("RGBA"))
        return np.asarray(picture.convert("L"), dtype=np.float32) / 255.0
    array = np.asarray(picture)
    if array.ndim not in (2, 3) or array.size == 0 or array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise InputError(f"expected a picture (height x width [x channels]), got an array of shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise InputError("the picture's values must be finite numbers")
    array = array.astype(np.float32)
    if array.max() > 1.0:
        array = array / 255.0
    array = np.clip(array, 0.0, 1.0)
    if array.ndim == 3:
        channels = array.shape[2]
        if channels in (2, 4):  # alpha last: composite over white paper
            alpha = array[..., -1:]
            array = array[..., :-1] * alpha + (1.0 - alpha)
            channels -= 1
        if channels == 3:
            array = array @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        elif channels == 1:
            array = array[..., 0]
        else:
            raise InputError(f"expected 1 to 4 colour channels, got {array.shape[2]}")
    return array


def is_mnist_like(grey: np.ndarray) -> bool:
    """A 28x28 picture with a dark border: already a white digit on black, used as it is."""
    if grey.shape != (SIDE, SIDE):
        return False
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(border.mean()) < 0.25


def to_mnist(picture) -> np.ndarray:
    """(28, 28) float32 in 0..1, white digit on black, as MNIST was made; an InputError for an empty picture."""
    grey = _grey(picture)
    if is_mnist_like(grey):
        if grey.max() < INK:
            raise InputError("the picture is empty: draw a digit (a light stroke on dark, or dark on light)")
        return grey.astype(np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = 1.0 - grey if np.median(border) > 0.5 else grey  # dark ink on light paper is turned around
    ink = ink - float(np.median(border if np.median(border) <= 0.5 else 1.0 - border))  # the paper's own shade is 0
    ink = np.clip(ink / max(float(ink.max()), 1e-6), 0.0, 1.0)
    rows, cols = np.nonzero(ink >= INK)
    if len(rows) == 0:
        raise InputError("the picture is empty: draw a digit (a light stroke on dark, or dark on light)")
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fitted = np.asarray(
        Image.fromarray(np.round(crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS), np.float32
    )
    fitted /= 255.0
    field = np.zeros((SIDE, SIDE), np.float32)
    top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
    field[top : top + size[1], left : left + size[0]] = fitted
    total = float(field.sum())
    if total > 0:  # move the centre of mass to the middle (whole pixels, as MNIST did), keeping the ink inside
        ys, xs = np.indices(field.shape)
        dy = round((SIDE - 1) / 2 - float((ys * field).sum()) / total)
        dx = round((SIDE - 1) / 2 - float((xs * field).sum()) / total)
        dy = int(np.clip(dy, -top, SIDE - top - size[1]))
        dx = int(np.clip(dx, -left, SIDE - left - size[0]))
        field = np.roll(field, (dy, dx), axis=(0, 1))
    return field
