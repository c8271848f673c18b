"""A model file the user already has (`fermbench run --model-file PATH`): its runtime, from its
content, and the one input its runner will feed, from the file where the format records it
(.pte, .tflite), else from --input-shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import runtimes
from ..errors import ConfigError
from ..fileio import sha256_file
from .formats import PTE, PTL, TFLITE, detect_format
from .input_shape import check_shape, format_shape
from .readers import FileFacts, Tensor, read_pte, read_ptl, read_tflite

SHAPE_FROM_FILE, SHAPE_FROM_OPTION = "file", "--input-shape"
FED_DTYPES = ("float32",)  # what every runner feeds; an int8 .tflite is fed quantised floats


@dataclass(frozen=True)
class GivenFile:
    """A ready model file, inspected: what a session needs to run it as it is."""

    path: Path  # the file as given (resolved)
    runtime: str  # the registry's runtime: pytorch_lite | executorch | litert
    runtime_target: str  # the export runtime id a Variant names (pytorch_android_lite-2.1.0, ...)
    file_format: str  # ptl | pte | tflite
    sha256: str
    size: int  # bytes
    input_shape: tuple[int, ...]
    input_dtype: str  # float32, or int8 (a quantised .tflite: its runner quantises the input)
    shape_source: str  # "file" | "--input-shape"
    outputs: tuple[tuple[int, ...], ...] | None  # each output's shape; None: the format does not say
    quant: str  # int8 when the file's input is int8 (.tflite), else fp32
    format_meta: dict[str, Any]  # what preflight checks: bytecode_version (.ptl), pte_format (.pte)

    @property
    def name(self) -> str:
        """The model's name in results: the file's stem, made safe for file names and run ids."""
        return safe_name(self.path.stem)


def safe_name(stem: str) -> str:
    """[A-Za-z0-9._-], at most 64 characters, starting with a letter or digit."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).lstrip("._-")[:64]
    return cleaned or "model"


def _read(path: Path, file_format: str, identifier: str) -> FileFacts:
    if file_format == PTL:
        return read_ptl(path)
    if file_format == PTE:
        return read_pte(path, identifier)
    return read_tflite(path)


def _the_input(path: Path, facts: FileFacts, file_format: str) -> Tensor | None:
    """The one input the runners feed, checked: one input, of a type they feed."""
    if facts.input_count is not None and facts.input_count != 1:
        raise ConfigError(
            f"{path}: the model takes {facts.input_count} inputs; the runners feed one tensor: "
            "export a model with a single input"
        )
    if facts.outputs is not None and len(facts.outputs) != 1:
        raise ConfigError(
            f"{path}: the model returns {len(facts.outputs)} outputs; the runners read one tensor: "
            "export a model with a single output"
        )
    if not facts.inputs:
        return None
    tensor = facts.inputs[0]
    int8_tflite = file_format == TFLITE and tensor.dtype == "int8" and tensor.quantized
    if tensor.dtype not in FED_DTYPES and not int8_tflite:
        raise ConfigError(
            f"{path}: the model's input is {tensor.dtype}; the runners feed float32 (or a quantised "
            "int8 .tflite input): export it with a float32 input"
        )
    if file_format == TFLITE and facts.outputs and facts.outputs[0].dtype not in ("float32", "int8"):
        raise ConfigError(
            f"{path}: the model's output is {facts.outputs[0].dtype}; the LiteRT runner reads float32 and int8"
        )
    return tensor


def inspect_model_file(path: str | Path, input_shape: tuple[int, ...] | None = None) -> GivenFile:
    """The file's runtime, size, hash and input; ConfigError (one line, naming the file) for a
    file of no known format, a suffix its content contradicts, no input shape from either the
    file or `input_shape`, a shape that disagrees with the file's, or an input the runners
    cannot feed."""
    path = Path(path)
    kind = detect_format(path)
    facts = _read(path, kind.format, kind.identifier)
    tensor = _the_input(path, facts, kind.format)
    if tensor is not None:
        recorded = check_shape(tensor.shape, f"{path}: its input shape")
        if input_shape is not None and tuple(input_shape) != recorded:
            raise ConfigError(
                f"{path}: the file's input is {format_shape(recorded)} but --input-shape says "
                f"{format_shape(tuple(input_shape))}: drop --input-shape or pass {format_shape(recorded)}"
            )
        shape, source, dtype = recorded, SHAPE_FROM_FILE, tensor.dtype
    elif input_shape is not None:
        shape = check_shape(tuple(input_shape), "--input-shape")
        source, dtype = SHAPE_FROM_OPTION, "float32"
    else:
        raise ConfigError(f"{path}: a .{kind.format} does not record its input shape: pass --input-shape 1x3x224x224")
    return GivenFile(
        path=path.resolve(),
        runtime=runtimes.by_version(facts.runtime_target).name,
        runtime_target=facts.runtime_target,
        file_format=kind.format,
        sha256=sha256_file(path),
        size=path.stat().st_size,
        input_shape=shape,
        input_dtype=dtype,
        shape_source=source,
        outputs=None if facts.outputs is None else tuple(t.shape for t in facts.outputs),
        quant="int8" if dtype == "int8" else "fp32",
        format_meta=dict(facts.meta),
    )


def inspect_model_files(paths: list[str] | list[Path], input_shape: tuple[int, ...] | None = None) -> list[GivenFile]:
    """Every `--model-file`, inspected (the one --input-shape applies to each); two files whose
    names would be the same model are a ConfigError naming both."""
    given = [inspect_model_file(path, input_shape) for path in paths]
    seen: dict[str, GivenFile] = {}
    for g in given:
        other = seen.setdefault(g.name, g)
        if other is not g:
            same = "is given twice" if other.path == g.path else f"and {g.path} are both named {g.name}"
            raise ConfigError(f"--model-file {other.path} {same}: give each file once, under a name of its own")
    return given
