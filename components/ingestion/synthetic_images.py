"""A small procedurally drawn two-class image set (circles vs squares).

Only for a first demo on a machine that has neither a data directory nor
internet access; never a stand-in for real data in tests of the model.
File names follow <shape>NN-M.png so the subject-wise split applies.
"""
from __future__ import annotations

import os
import random

from PIL import Image, ImageDraw

CLASSES = ("circles", "squares")


def _draw(shape: str, rng: random.Random, size: int) -> Image.Image:
    background = tuple(rng.randint(0, 255) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(0, 3)):  # clutter shared by both classes
        x, y = rng.randint(0, size), rng.randint(0, size)
        draw.line([x, y, rng.randint(0, size), rng.randint(0, size)], fill=tuple(rng.randint(0, 255) for _ in range(3)), width=2)
    extent = rng.randint(size // 4, size // 2)
    left, top = rng.randint(0, size - extent), rng.randint(0, size - extent)
    box = [left, top, left + extent, top + extent]
    colour = tuple(rng.randint(0, 255) for _ in range(3))
    if shape == "circles":
        draw.ellipse(box, fill=colour)
    else:
        draw.rectangle(box, fill=colour)
    return image


def write_synthetic_images(directory: str, subjects: int = 20, views: int = 6, size: int = 150, seed: int = 0) -> str:
    """Writes subjects*views PNGs per class under directory/<class>/ and returns directory."""
    rng = random.Random(seed)
    for shape in CLASSES:
        folder = os.path.join(directory, shape)
        os.makedirs(folder, exist_ok=True)
        for subject in range(1, subjects + 1):
            for view in range(views):
                _draw(shape, rng, size).save(os.path.join(folder, f"{shape[:-1]}{subject:02d}-{view}.png"))
    return directory
