"""Turning Generator outputs into pictures: uint8 conversion and grids."""

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor, side: int = 28) -> np.ndarray:
    """Flattened images in [-1, 1], (N, side*side) -> uint8 array (N, side, side)."""
    pixels = ((images.detach().float().cpu().reshape(-1, side, side) + 1) * 127.5).round_().clamp_(0, 255)
    return pixels.to(torch.uint8).numpy()


def grid_array(tiles: np.ndarray, rows: int, cols: int, pad: int = 2, background: int = 0) -> np.ndarray:
    """Tiles (N, h, w) uint8 laid out row by row into one (rows*(h+pad)+pad, cols*(w+pad)+pad) array."""
    count, height, width = tiles.shape
    if count > rows * cols:
        raise ValueError(f"{count} tiles do not fit a {rows}x{cols} grid")
    grid = np.full((rows * (height + pad) + pad, cols * (width + pad) + pad), background, dtype=np.uint8)
    for index in range(count):
        row, col = divmod(index, cols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        grid[top : top + height, left : left + width] = tiles[index]
    return grid


def upscale(array: np.ndarray, scale: int) -> Image.Image:
    """Nearest-neighbour upscale so pixels stay crisp; returns a greyscale PIL image."""
    image = Image.fromarray(array, mode="L")
    if scale == 1:
        return image
    return image.resize((array.shape[1] * scale, array.shape[0] * scale), Image.Resampling.NEAREST)


def image_grid(images: torch.Tensor, rows: int, cols: int, scale: int = 1, pad: int = 2) -> Image.Image:
    """Generator outputs (N, 784) in [-1, 1] -> one greyscale grid image."""
    return upscale(grid_array(to_uint8(images), rows, cols, pad), scale)
