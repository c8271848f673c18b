"""A ready model file in a session (`fermbench run --model-file PATH`): measured as it is, never
exported. The session works on its own link of the file (as with exports: bench/exports.py), under
the model's safe name, and its metadata says what the store and the report read of an export's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import sha256_file
from ..modelfiles import GivenFile
from ..store import Variant
from .exports import ModelFile, private_link

SOURCE_FILE = "file"  # meta["source"] of a given file (an export's meta has no source)


def given_variant(given: GivenFile) -> Variant:
    """The one variant a given file is: its name, the runtime that reads it, its quantisation."""
    return Variant(given.name, given.runtime_target, given.quant)


def given_meta(given: GivenFile, file_name: str) -> dict[str, Any]:
    """The file's metadata, with the keys an export's has where they mean the same (store/identity.py)."""
    return {
        "name": given.name,
        "runtime_target": given.runtime_target,
        "quant": given.quant,
        "sha256": given.sha256,
        "file": file_name,
        "bytes": given.size,
        "input_shape": list(given.input_shape),
        "input_dtype": given.input_dtype,
        "class_names": [],
        "source": SOURCE_FILE,
        "given_path": str(given.path),
        "shape_source": given.shape_source,
        "outputs": None if given.outputs is None else [list(s) for s in given.outputs],
        "checkpoint_sha256": None,
        **given.format_meta,  # bytecode_version (.ptl) or pte_format (.pte): preflight's checks
    }


def given_model_file(given: GivenFile, private_dir: Path) -> ModelFile:
    """The session's ModelFile of a given file: a private link named <name>.<format>, checked to
    still be the file that was inspected."""
    start = time.perf_counter()
    mine = private_link(given.path, private_dir, f"{given.name}.{given.file_format}")
    if sha256_file(mine) != given.sha256:
        raise ConfigError(f"{given.path}: the file changed while the session read it: run again once it is written")
    meta = given_meta(given, mine.name)
    return ModelFile(given_variant(given), mine, meta, cached=False, seconds=time.perf_counter() - start)
