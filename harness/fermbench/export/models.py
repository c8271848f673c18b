"""Export one model: its weights, what identifies them, and the exporter the registry (runtimes/)
names for the chosen runtime.

The study's models are exported from a checkpoint, or from seeded fresh weights loudly marked as
untrained. Any other model (an entry point, `package.module:factory`) from the weights its factory
gives, identified by their sha256 and the factory's code: fermbench cannot know whether they are
trained, so they are neither called trained nor marked untrained ("trained": None)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from torch import nn

from .. import runtimes
from ..errors import ConfigError, ExportError
from ..paths import models_dir
from ..zoo.registry import Architecture, build_model, count_macs, resolve
from ..zoo.spec import ModelSpec, source_sha256, weights_sha256
from ..zoo.study import FER_SPEC, is_fer_spec
from .common import Exporter, ExportResult
from .fer_samples import fer_samples
from .runtimes import DEFAULT_RUNTIME, LiteRuntime, check_quant, get_runtime
from .samples import Samples, check_fits, missing_samples_hint

UNTRAINED_NOTE = "UNTRAINED: freshly initialised weights; accuracy numbers from this model are meaningless"


def default_checkpoint(name: str) -> Path:
    return models_dir() / f"{name}.ckpt"


def model_and_identity(
    name: str, checkpoint: str | Path | None, untrained: bool, seed: int
) -> tuple[nn.Module, dict[str, Any], list[str]]:
    """The model to export, the metadata that identifies its weights, and warnings to show. A
    checkpoint's training history (curve and settings, or why it is missing) goes into `training`."""
    from ..training.history import MissingHistory, training_history
    from ..zoo.checkpoint import model_from_checkpoint

    ckpt_path = Path(checkpoint) if checkpoint is not None else default_checkpoint(name)
    if checkpoint is not None and untrained:
        raise ExportError("--checkpoint and --untrained contradict each other: pass one of them")
    notes: list[str] = []
    identity: dict[str, Any]
    if not untrained and (checkpoint is not None or ckpt_path.exists()):
        model, ckpt = model_from_checkpoint(ckpt_path, expect_arch=name)
        history = training_history(ckpt, ckpt_path)
        if isinstance(history, MissingHistory):
            notes.append(f"{name}: {history.reason}")
        scalars = {k: ckpt.meta[k] for k in sorted(ckpt.meta) if isinstance(ckpt.meta[k], (int, float, str, bool))}
        identity = {
            "arch": ckpt.arch,
            "trained": True,
            "checkpoint": {"path": str(ckpt_path), "sha256": ckpt.sha256},
            "training": {**scalars, **history.to_dict()},
        }
    else:
        model = build_model(name, seed=seed)
        identity = {
            "arch": name,
            "trained": False,
            "checkpoint": None,
            "init_seed": seed,
            "warning": UNTRAINED_NOTE,
            "training": MissingHistory("no training curve: untrained weights").to_dict(),
        }
        notes.append(f"{name}: {UNTRAINED_NOTE} (no checkpoint at {ckpt_path})")
    identity.update({"params": sum(p.numel() for p in model.parameters()), "macs": count_macs(model)})
    return model, identity, notes


@dataclass(frozen=True)
class ModelToExport:
    """A built model, ready for any exporter: its module, spec, identity (for the metadata and
    the export cache) and the warnings to show."""

    name: str
    module: nn.Module
    spec: ModelSpec
    identity: dict[str, Any]
    notes: tuple[str, ...] = ()


def factory_identity(arch: Architecture, module: nn.Module, spec: ModelSpec, seed: int) -> dict[str, Any]:
    """What identifies a factory's model: its weights' and its code's sha256, where it came from."""
    return {
        "arch": arch.name,
        "trained": None,  # the factory's own weights: fermbench cannot know
        "checkpoint": None,
        "weights": {"source": "factory", "sha256": weights_sha256(module)},
        "code_sha256": source_sha256(arch.factory(), type(module)),
        "ref": arch.ref,
        "origin": arch.origin,
        "init_seed": seed,  # the factory ran with torch seeded: random weights are repeatable
        "params": sum(p.numel() for p in module.parameters()),
        "macs": count_macs(module, spec.input_shape),
    }


def model_to_export(
    arch: Architecture, checkpoint: str | Path | None = None, untrained: bool = False, seed: int = 0
) -> ModelToExport:
    """The study's models from a checkpoint or untrained; any other model from its factory."""
    if arch.study:
        module, identity, notes = model_and_identity(arch.name, checkpoint, untrained, seed)
        return ModelToExport(arch.name, module, FER_SPEC, identity, tuple(notes))
    if checkpoint is not None:
        raise ExportError(
            f"{arch.name}: --checkpoint holds weights of the study's models; {arch.ref} builds its own: drop --checkpoint"
        )
    module, spec = arch.build(seed)
    return ModelToExport(arch.name, module, spec, factory_identity(arch, module, spec, seed))


def int8_samples(name: str, spec: ModelSpec, samples: Samples | None, fer_data: str | Path | None) -> Samples:
    """The images an int8 export of this model reads: those given (of its input size), FER-2013's
    for a FER-2013 model, else a ConfigError naming what to pass."""
    if samples is not None:
        return check_fits(samples, spec, name)
    if is_fer_spec(spec):
        return fer_samples(fer_data)
    raise ConfigError(missing_samples_hint(name, spec))


def export_model(
    name: str,
    checkpoint: str | Path | None = None,
    out_dir: str | Path | None = None,
    bytecode: int | None = None,
    runtime: str = DEFAULT_RUNTIME,
    untrained: bool = False,
    seed: int = 0,
    quant: str = "fp32",
    fer_data: str | Path | None = None,
    *,
    arch: Architecture | None = None,
    samples: Samples | None = None,
) -> ExportResult:
    """Export one model: `name` is a registered name or `package.module:factory` (`arch`, when
    given, is what it resolves to). A study model comes from a checkpoint (default
    models/<name>.ckpt) or, when there is none (or `untrained`), from seeded fresh weights,
    loudly marked as untrained; any other from its factory (built with torch seeded by `seed`).

    The file and its metadata are named as the runtime says (runtimes/: <name>.ptl,
    <name>.<quant>.pte, ...); int8 reads `samples`, else for a FER-2013 model calibration and
    agreement images from the FER-2013 copy at `fer_data`.
    """
    arch = arch if arch is not None else resolve(name)
    target = get_runtime(runtime)
    check_quant(target, quant)
    if bytecode is not None and not isinstance(target, LiteRuntime):
        raise ExportError(f"--bytecode applies to the Lite runtimes only: drop it for {target.name}")
    # Read the images first: a bad --fer-data should not wait for the model.
    images = int8_samples(arch.name, arch.spec(), samples, fer_data) if quant == "int8" else None
    model = model_to_export(arch, checkpoint, untrained, seed)
    return export_built(model, out_dir, runtime=target.name, quant=quant, samples=images, bytecode=bytecode)


def export_built(
    model: ModelToExport,
    out_dir: str | Path | None,
    *,
    runtime: str,
    quant: str,
    samples: Samples | None,
    bytecode: int | None,
) -> ExportResult:
    """Export a model already built (model_to_export) with the runtime's exporter and its gates."""
    target = get_runtime(runtime)
    check_quant(target, quant)
    exporter: Exporter = runtimes.resolve(runtimes.by_version(target.name).exporter)
    out = Path(out_dir) if out_dir is not None else models_dir()
    result = exporter(
        model.module,
        model.name,
        out,
        model.identity,
        runtime=target.name,
        quant=quant,
        samples=samples,
        bytecode=bytecode,
        spec=model.spec,
    )
    return replace(result, notes=[*result.notes, *model.notes])
