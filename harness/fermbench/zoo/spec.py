"""What the harness needs to know about a model besides its module: the input it takes, the
classes it answers with, and how an image becomes that input.

A model factory (the study's, an entry point's, or `--model package.module:factory`) returns
`(module, ModelSpec(...))`, or `(module, {...})` with the same keys:

    def mobilenet():
        from torchvision.models import mobilenet_v3_small
        return mobilenet_v3_small(num_classes=10), ModelSpec(
            input_shape=(1, 3, 224, 224),
            classes=("airplane", "automobile", ...),
            preprocess=Preprocess(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize="center_crop"),
        )
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..errors import ModelError

# How a picture of any size becomes the model's H x W (the study's FER models crop the largest face).
STRETCH = "stretch"  # resize to H x W, aspect ratio not kept
CENTER_CROP = "center_crop"  # shorter side to size / crop_fraction, then the centre H x W (ImageNet's habit)
FACE_CROP = "face_crop"  # Haar face detection, the face's box, then H x W (the FER models')
RESIZE_POLICIES = (STRETCH, CENTER_CROP, FACE_CROP)
INPUT_DTYPES = ("float32",)  # what the runners feed; a model that takes integers is refused with this list

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # safe in file names and runner run ids


@dataclass(frozen=True)
class Preprocess:
    """An image's way to the model's input: channels and size from the input shape, then
    (pixel / 255 - mean[c]) / std[c] per channel (the runners do this last step)."""

    mean: tuple[float, ...] = (0.0,)  # one per channel, or one for all
    std: tuple[float, ...] = (1.0,)
    resize: str = STRETCH
    crop_fraction: float = 0.875  # center_crop: 224 of 256

    def per_channel(self, channels: int) -> Preprocess:
        """Mean and std with one value per channel (a single value is used for every channel)."""
        mean = self.mean * channels if len(self.mean) == 1 else self.mean
        std = self.std * channels if len(self.std) == 1 else self.std
        return replace(self, mean=tuple(mean), std=tuple(std))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": self.resize,
            "crop_fraction": self.crop_fraction,
        }


@dataclass(frozen=True)
class ModelSpec:
    """A model's input (N, C, H, W; C is 1 for grayscale, 3 for RGB), its class names in output
    order (empty: the model is timed, never scored), and its preprocessing."""

    input_shape: tuple[int, ...]
    classes: tuple[str, ...] = ()
    preprocess: Preprocess = field(default_factory=Preprocess)
    name: str | None = None  # the model's name in results; default: the factory's (or entry point's) name
    input_dtype: str = "float32"

    @property
    def channels(self) -> int:
        return self.input_shape[1]

    @property
    def size(self) -> tuple[int, int]:
        return self.input_shape[2], self.input_shape[3]

    def to_dict(self) -> dict[str, Any]:
        """What an export's metadata records (and a stored session reads back)."""
        return {
            "input_shape": list(self.input_shape),
            "input_dtype": self.input_dtype,
            "class_names": list(self.classes),
            "preprocess": self.preprocess.to_dict(),
        }


def check_spec(spec: ModelSpec, where: str) -> ModelSpec:
    """The spec, validated and with per-channel mean/std; ModelError naming `where` and the fix."""
    shape = tuple(spec.input_shape)
    if len(shape) != 4 or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise ModelError(
            f"{where}: input_shape {list(shape)} must be 4 positive sizes N, C, H, W, e.g. (1, 3, 224, 224)"
        )
    if shape[0] != 1:
        raise ModelError(f"{where}: input_shape {list(shape)} has batch {shape[0]}; the runners time one image: use 1")
    if shape[1] not in (1, 3):
        raise ModelError(f"{where}: input_shape {list(shape)} has {shape[1]} channels; images give 1 (gray) or 3 (RGB)")
    if math.prod(shape) > 1 << 26:
        raise ModelError(f"{where}: input_shape {list(shape)} has more than 2^26 elements, the runners' limit")
    if spec.input_dtype not in INPUT_DTYPES:
        raise ModelError(f"{where}: input_dtype {spec.input_dtype!r}: the runners feed {', '.join(INPUT_DTYPES)}")
    classes = _class_names(spec.classes, where)
    if not all(isinstance(c, str) and c and c.strip() == c and "," not in c for c in classes):
        raise ModelError(f"{where}: classes must be non-empty names without commas or outer spaces")
    if len(set(classes)) != len(classes):
        twice = sorted({c for c in classes if classes.count(c) > 1})
        raise ModelError(f"{where}: class {twice[0]!r} is named twice; name each class once")
    pre = spec.preprocess
    if pre.resize not in RESIZE_POLICIES:
        raise ModelError(f"{where}: resize {pre.resize!r}: choose one of {', '.join(RESIZE_POLICIES)}")
    if not 0.0 < pre.crop_fraction <= 1.0:
        raise ModelError(f"{where}: crop_fraction {pre.crop_fraction} must be in (0, 1]")
    for key in ("mean", "std"):
        values = getattr(pre, key)
        if len(values) not in (1, shape[1]) or not all(
            isinstance(v, (int, float)) and math.isfinite(v) for v in values
        ):
            raise ModelError(f"{where}: {key} {list(values)} needs 1 or {shape[1]} finite numbers (one per channel)")
    if any(v <= 0 for v in pre.std):
        raise ModelError(f"{where}: std {list(pre.std)} must be positive")
    if spec.name is not None:
        check_model_name(spec.name, where)
    pre = pre.per_channel(shape[1])
    pre = replace(pre, mean=tuple(float(v) for v in pre.mean), std=tuple(float(v) for v in pre.std))
    return replace(spec, input_shape=shape, classes=classes, preprocess=pre)


def _class_names(classes: Any, where: str) -> tuple[str, ...]:
    if isinstance(classes, str):  # tuple("cat") would be three classes
        raise ModelError(f"{where}: classes {classes!r} is a string; give a sequence of names, not one string")
    return tuple(classes)


def check_model_name(name: str, where: str = "model") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelError(f"{where}: model name {name!r} must be 1-64 of A-Z a-z 0-9 . _ - (it names files and runs)")
    return name


_SPEC_KEYS = {f.name for f in fields(ModelSpec)}
_PRE_KEYS = {f.name for f in fields(Preprocess)}


def spec_from(value: Any, where: str) -> ModelSpec:
    """A ModelSpec from a factory's answer: a ModelSpec, or a mapping with its keys (and the
    preprocessing's at the top level, or under "preprocess")."""
    if isinstance(value, ModelSpec):
        return check_spec(value, where)
    if not isinstance(value, Mapping):
        raise ModelError(
            f"{where}: the input spec is a {type(value).__name__}; return fermbench.zoo.ModelSpec(...) or a dict "
            "with input_shape and classes"
        )
    unknown = sorted(set(value) - _SPEC_KEYS - _PRE_KEYS)
    if unknown:
        raise ModelError(
            f"{where}: unknown spec key(s) {', '.join(unknown)}: use {', '.join(sorted(_SPEC_KEYS | _PRE_KEYS))}"
        )
    if "input_shape" not in value:
        raise ModelError(f"{where}: the spec has no input_shape; add e.g. input_shape=(1, 3, 224, 224)")
    pre_given = value.get("preprocess")
    pre_kw = {k: value[k] for k in _PRE_KEYS if k in value}
    if isinstance(pre_given, Preprocess):
        pre = replace(pre_given, **pre_kw)
    elif pre_given is None or isinstance(pre_given, Mapping):
        unknown = sorted(set(pre_given or {}) - _PRE_KEYS)
        if unknown:
            raise ModelError(
                f"{where}: unknown preprocess key(s) {', '.join(unknown)}: use {', '.join(sorted(_PRE_KEYS))}"
            )
        pre = Preprocess(**{**dict(pre_given or {}), **pre_kw})
    else:
        raise ModelError(
            f"{where}: preprocess is a {type(pre_given).__name__}; give fermbench.zoo.Preprocess(...) or a dict with its keys"
        )
    pre = replace(pre, mean=_floats(pre.mean), std=_floats(pre.std))
    spec = ModelSpec(
        input_shape=tuple(value["input_shape"]),
        classes=_class_names(value.get("classes") or (), where),
        preprocess=pre,
        name=value.get("name"),
        input_dtype=value.get("input_dtype", "float32"),
    )
    return check_spec(spec, where)


def _floats(values: Any) -> tuple[float, ...]:
    if isinstance(values, (int, float)):
        return (float(values),)
    return tuple(values) if isinstance(values, Sequence) else (values,)


def spec_from_meta(meta: Mapping[str, Any]) -> ModelSpec | None:
    """The spec an export's metadata recorded (None for a file that records none)."""
    shape = meta.get("input_shape")
    if not shape:
        return None
    pre = meta.get("preprocess") or {}
    norm = meta.get("normalisation") or {}  # exports written before specs: the FER models' scalars
    return ModelSpec(
        input_shape=tuple(int(d) for d in shape),
        classes=tuple(meta.get("class_names") or ()),
        preprocess=Preprocess(
            mean=tuple(pre.get("mean") or [norm.get("mean", 0.0)]),
            std=tuple(pre.get("std") or [norm.get("std", 1.0)]),
            resize=pre.get("resize", FACE_CROP if norm else STRETCH),
            crop_fraction=float(pre.get("crop_fraction", 0.875)),
        ),
        input_dtype=str(meta.get("input_dtype", "float32")),
    )


def weights_sha256(module: Any) -> str:
    """sha256 over the module's state (names, dtypes, shapes, bytes, in key order): what an export
    of a factory's model is cached by (two factories returning equal weights share it)."""
    import torch

    h = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{list(t.shape)}\n".encode())
        if t.dtype == torch.bfloat16:
            t = t.view(torch.int16)
        h.update(t.numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def source_sha256(*objects: Any) -> str:
    """sha256 of the source files that define these objects (a factory, a module's class): an
    edited forward() with the same weights is another model, so exports are cached by both."""
    import inspect
    import sys

    h = hashlib.sha256()
    for obj in objects:
        module = sys.modules.get(getattr(obj, "__module__", "") or "")
        try:
            path = inspect.getsourcefile(module) if module is not None else None
            data = open(path, "rb").read() if path else b""
        except (OSError, TypeError):
            data = b""
        h.update(f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}\n".encode() + data)
    return h.hexdigest()
