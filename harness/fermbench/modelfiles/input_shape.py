"""`--input-shape 1x3x224x224`: the input a file's runner feeds when the file does not say."""

from __future__ import annotations

import math
import re

from ..errors import ConfigError

MAX_DIMS = 6  # the runners' limit (protocol: input_shape)
MAX_ELEMENTS = 1 << 26
_SHAPE = re.compile(r"^[0-9]+([x,][0-9]+)*$")


def format_shape(shape: tuple[int, ...]) -> str:
    """1x3x224x224, as --input-shape takes it."""
    return "x".join(str(d) for d in shape)


def check_shape(shape: tuple[int, ...], where: str) -> tuple[int, ...]:
    """A shape the runners can feed: 1 to 6 positive sizes, at most 2^26 elements."""
    if not 1 <= len(shape) <= MAX_DIMS:
        raise ConfigError(f"{where}: {format_shape(shape)} has {len(shape)} sizes; the runners take 1 to {MAX_DIMS}")
    if min(shape) < 1:
        raise ConfigError(f"{where}: {format_shape(shape)} has a size below 1; every size must be positive")
    if math.prod(shape) > MAX_ELEMENTS:
        raise ConfigError(f"{where}: {format_shape(shape)} has more than 2^26 elements, the runners' limit")
    return shape


def parse_input_shape(text: str) -> tuple[int, ...]:
    """ "1x3x224x224" or "1,3,224,224" -> (1, 3, 224, 224); ConfigError naming the text otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _SHAPE.match(cleaned) or ("x" in cleaned and "," in cleaned):
        raise ConfigError(f"--input-shape {text!r}: expected positive sizes joined by x (or commas), e.g. 1x3x224x224")
    shape = tuple(int(d) for d in re.split(r"[x,]", cleaned))
    return check_shape(shape, f"--input-shape {text!r}")
