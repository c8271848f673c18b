"""Architectures by name: every model comes from a factory, found one way.

Installed packages register factories under the `fermbench.models` entry-point group (fermbench
registers the study's three there itself, in setup.cfg); `--model package.module:factory` names
one directly. A factory takes no arguments and returns `(nn.Module, ModelSpec)` (zoo/spec.py).

    [options.entry_points]
    fermbench.models =
        my_net = my_package.models:my_net
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
from torch import nn

from .. import labels
from ..errors import ModelError
from ..labels import INPUT_SHAPE
from .spec import ModelSpec, check_model_name, source_sha256, spec_from

ENTRY_POINT_GROUP = "fermbench.models"
# The study's models, registered in setup.cfg under ENTRY_POINT_GROUP with these very values (a
# test compares them); read from here only when fermbench runs without being installed.
STUDY_ENTRY_POINTS: dict[str, str] = {
    "shallow_cnn": "fermbench.zoo.study:shallow_cnn",
    "deep_cnn": "fermbench.zoo.study:deep_cnn",
    "resnet9": "fermbench.zoo.study:resnet9",
}
STUDY_MODELS: tuple[str, ...] = labels.STUDY_MODELS  # the keys above, in the study's order (a test checks)
MODEL_NAMES = STUDY_MODELS  # what `run`, `export` and `verify` measure when no model is named


@dataclass(frozen=True)
class Architecture:
    """One model the harness can build: its name, where its factory is, and where that came from."""

    name: str
    ref: str  # "package.module:factory"
    origin: str  # "fermbench 0.1.0 (entry point)", "my-pkg 1.2 (entry point)", "--model package.module:factory"
    study: bool = False  # one of the study's FER-2013 models

    def factory(self) -> Callable[[], Any]:
        where = f"--model {self.ref}" if self.origin.startswith("--model") else f"model {self.name} from {self.origin}"
        return load_ref(self.ref, where)

    def build(self, seed: int | None = None) -> tuple[nn.Module, ModelSpec]:
        """A fresh model (seeded when `seed` is given), on the CPU, in eval mode, and its checked spec."""
        factory = self.factory()
        if seed is not None:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                answer = _call(factory, self.ref)
        else:
            answer = _call(factory, self.ref)
        module, spec = _unpack(answer, self.ref)
        return module.eval(), spec

    def spec(self) -> ModelSpec:
        return _spec_of(self)

    def code_sha256(self) -> str:
        """The factory's source and the built module's class's source (an export cache key)."""
        module, _ = self.build(seed=0)
        return source_sha256(self.factory(), type(module))


@cache
def _spec_of(arch: Architecture) -> ModelSpec:
    return arch.build(seed=0)[1]


def _call(factory: Callable[[], Any], ref: str) -> Any:
    try:
        return factory()
    except ModelError:
        raise
    except Exception as exc:  # the user's code: one line, the fix is theirs
        raise ModelError(f"model factory {ref} raised {type(exc).__name__}: {exc}") from None


def _unpack(answer: Any, ref: str) -> tuple[nn.Module, ModelSpec]:
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], nn.Module)):
        got = type(answer).__name__ if not isinstance(answer, tuple) else f"a tuple of {len(answer)}"
        raise ModelError(
            f"model factory {ref} returned {got}; return (torch.nn.Module, fermbench.zoo.ModelSpec(input_shape=..., "
            "classes=...))"
        )
    spec = spec_from(answer[1], f"model factory {ref}")
    return answer[0], spec


def load_ref(ref: str, where: str | None = None) -> Callable[[], Any]:
    """The callable `package.module:attr` names; the current folder is importable (like `python -m`).
    Errors start with `where` (default: `--model ref`), e.g. the entry point that named it."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ModelError(f"{where or f'--model {ref!r}'}: name a factory as package.module:function")
    where = where or f"--model {ref}"
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())  # appended: the user's files never shadow installed packages
    try:
        module = importlib.import_module(module_name)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"{where}: cannot import {module_name} ({type(exc).__name__}: {exc}); check the name and that "
            "it is installed or in the current folder"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"{where}: {module_name} has no {attr!r}; name a function defined there")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ModelError(f"{where}: {attr} is a {type(obj).__name__}, not a function that builds the model")
    return obj  # type: ignore[no-any-return]


@cache
def architectures() -> dict[str, Architecture]:
    """Every registered architecture by name: the entry points, the study's always among them."""
    from importlib.metadata import entry_points

    found: dict[str, Architecture] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        dist = getattr(ep, "dist", None)
        origin = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
        if ep.name in found:  # two packages claim a name: the first by value wins
            continue
        if ep.name in STUDY_ENTRY_POINTS and ep.value != STUDY_ENTRY_POINTS[ep.name]:
            continue  # the study's names always mean the study's models, whatever else is installed
        found[ep.name] = Architecture(
            ep.name, ep.value, f"{origin} (entry point)", ep.value == STUDY_ENTRY_POINTS.get(ep.name)
        )
    for name, ref in STUDY_ENTRY_POINTS.items():
        if name not in found:  # fermbench run from a source tree, not installed
            found[name] = Architecture(name, ref, "fermbench (built in)", True)
    study = {n: found.pop(n) for n in STUDY_MODELS if n in found}
    return {**study, **dict(sorted(found.items()))}


def resolve(name: str) -> Architecture:
    """A registered name, or `package.module:factory` (named by its spec's name, else the function's)."""
    if ":" in name:
        factory = load_ref(name)
        module, spec = _unpack(_call(factory, name), name)
        del module
        model_name = spec.name or name.rpartition(":")[2].rpartition(".")[2]
        check_model_name(model_name, f"--model {name}")
        return Architecture(model_name, name, f"--model {name}")
    known = architectures()
    if name not in known:
        raise ModelError(
            f"unknown model {name!r}: choose one of {', '.join(known)} (see `fermbench models`), "
            "or name a factory as package.module:function"
        )
    return known[name]


def check_name(name: str) -> str:
    resolve(name)
    return name


def build_model(name: str, seed: int | None = None) -> nn.Module:
    """A freshly initialised model (seeded when `seed` is given), on the CPU, in eval mode."""
    return resolve(name).build(seed)[0]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    params: int
    macs: int  # multiply-accumulates for one input of the model's shape
    fp32_bytes: int  # parameters and buffers at 4 bytes each


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = INPUT_SHAPE) -> int:
    """Multiply-accumulates of convolutions and linear layers, counted with forward hooks."""
    total = 0

    def on_conv(mod: nn.Conv2d, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total += out.numel() * k

    def on_linear(mod: nn.Linear, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() * mod.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(on_conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(on_linear))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
    return total


def model_info(name: str) -> ModelInfo:
    model, spec = resolve(name).build(seed=0)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    return ModelInfo(name, params, count_macs(model, spec.input_shape), 4 * (params + buffers))
