"""Which models a session measures, and what each is: an architecture (the study's, an entry
point's, or `--model package.module:factory`) to export, or a ready file (`--model-file`) to
time as it is. Decided before anything is exported or written; every name is unique, because it
names the model's records and files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, FermbenchError
from ..zoo import STUDY_MODELS, Architecture, ModelSpec, resolve
from ..zoo.study import is_fer_spec


@dataclass(frozen=True)
class PlannedModel:
    """One model of the session: exported from `arch`, or the ready file `given`."""

    name: str  # in records, reports and file names
    arch: Architecture | None = None
    spec: ModelSpec | None = None  # the factory's; None for a ready file (it carries no classes)
    given: object | None = None  # modelfiles.GivenFile for --model-file

    @property
    def study(self) -> bool:
        return self.arch is not None and self.arch.study

    @property
    def fer(self) -> bool:
        """Reads FER-2013 as the study's models do: scored on --fer-data and on face-cropped --photos."""
        return self.spec is not None and is_fer_spec(self.spec)

    @property
    def scored(self) -> bool:
        """Has class names to be scored against (a ready file or a spec without classes is only timed)."""
        return self.spec is not None and bool(self.spec.classes)


def plan_models(models: tuple[str, ...], model_files: tuple[str, ...], input_shape: str | None) -> list[PlannedModel]:
    """Every model of the settings, resolved (the study's three when none is named); ConfigError or
    ModelError naming the model and the fix."""
    planned: list[PlannedModel] = []
    names = models or (() if model_files else STUDY_MODELS)
    if len(set(names)) != len(names):
        raise ConfigError("a model is named twice in --models/--model; name each once")
    for name in names:
        try:
            arch = resolve(name)
            spec = arch.spec()
        except FermbenchError as exc:
            raise type(exc)(str(exc)) from None
        planned.append(PlannedModel(arch.name, arch, spec))
    if model_files:
        planned.extend(_given_files(model_files, input_shape))
    seen: dict[str, str] = {}
    for model in planned:
        what = f"--model-file {model.given.path}" if model.given is not None else f"--model {model.arch.ref}"  # type: ignore[attr-defined,union-attr]
        if model.name in seen:
            raise ConfigError(
                f"two models would be named {model.name!r} ({seen[model.name]} and {what}): rename one file, or "
                "give the factory's ModelSpec a name"
            )
        seen[model.name] = what
    if input_shape is not None and not model_files:
        raise ConfigError("--input-shape applies to --model-file files; a model's factory states its own input shape")
    return planned


def _given_files(paths: tuple[str, ...], input_shape: str | None) -> list[PlannedModel]:
    from ..modelfiles import inspect_model_file, parse_input_shape
    from .given_files import given_variant

    shape = parse_input_shape(input_shape) if input_shape is not None else None
    if len(set(map(str, map(Path, paths)))) != len(paths):
        raise ConfigError("a file is named twice in --model-file; name each once")
    out = []
    for path in paths:
        given = inspect_model_file(Path(path), shape)
        out.append(PlannedModel(given_variant(given).model, given=given))
    return out
