"""A small labelled RGB image folder for the README's example: class subfolders circle/, square/,
triangle/, each with N PNG pictures of one filled shape (random colours, size, position,
rotation, background) on canvases of varied sizes and aspect ratios, so that resizing and the
center crop matter. The same seed writes byte-identical files.

    python -m examples.make_shapes shapes/ [--per-class 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "triangle")
CANVASES = ((300, 200), (200, 300), (256, 256), (320, 240), (240, 320), (400, 300))  # width, height


def _colour_pair(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A background and a shape colour far enough apart to see the shape (each channel may vary)."""
    while True:
        bg, fg = rng.integers(0, 256, size=(2, 3))
        if np.abs(bg - fg).sum() >= 150:
            return tuple(int(v) for v in bg), tuple(int(v) for v in fg)  # type: ignore[return-value]


def _polygon(cx: float, cy: float, radius: float, corners: int, angle: float) -> list[tuple[float, float]]:
    step = 2 * math.pi / corners
    return [
        (cx + radius * math.cos(angle + i * step), cy + radius * math.sin(angle + i * step)) for i in range(corners)
    ]


def draw(shape: str, rng: np.random.Generator) -> Image.Image:
    """One picture of `shape`, its centre inside the central square a center crop keeps."""
    width, height = CANVASES[int(rng.integers(len(CANVASES)))]
    bg, fg = _colour_pair(rng)
    image = Image.new("RGB", (width, height), bg)
    side = min(width, height)
    radius = side * rng.uniform(0.15, 0.3)
    cx = width / 2 + rng.uniform(-0.15, 0.15) * side
    cy = height / 2 + rng.uniform(-0.15, 0.15) * side
    angle = rng.uniform(0, 2 * math.pi)
    pen = ImageDraw.Draw(image)
    if shape == "circle":
        pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fg)
    else:
        pen.polygon(_polygon(cx, cy, radius, 4 if shape == "square" else 3, angle), fill=fg)
    return image


def make_shapes(root: Path, per_class: int = 20, seed: int = 0) -> list[Path]:
    """Write root/<class>/<class>_NNN.png and return the files written."""
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"error: {root} exists and is not empty: name a new folder")
    rng = np.random.default_rng(seed)
    written = []
    for shape in CLASSES:
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            path = root / shape / f"{shape}_{i:03d}.png"
            draw(shape, rng).save(path, format="PNG")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.make_shapes", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the class subfolders (new or empty)")
    parser.add_argument("--per-class", type=int, default=20, help="pictures per class (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed writes the same files (default 0)")
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error("--per-class must be at least 1")
    files = make_shapes(args.folder, args.per_class, args.seed)
    print(f"wrote {len(files)} pictures of {', '.join(CLASSES)} to {args.folder}")


if __name__ == "__main__":
    main()
