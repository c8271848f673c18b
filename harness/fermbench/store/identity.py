"""An exported model's identity, typed: what session.json's `models` entry (the exporter's meta,
kept whole on disk) says about the file a record measured. Readers use this instead of reading
the meta dict with string keys; the meta's other keys (operators, calibration, training curve...)
stay in the dict for the tools that own them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ResultsError


@dataclass(frozen=True)
class ExportIdentity:
    """Who an exported model file is; None where the meta does not say (older exporters)."""

    name: str | None = None  # the zoo model's name
    runtime_target: str | None = None  # the runtime it was exported for (pytorch_android_lite-2.1.0, ...)
    quant: str | None = None  # fp32 | int8; schema-1 exports say nothing (fp32)
    file: str | None = None  # its file name in the models folder
    sha256: str | None = None  # of the exported file: what a phase's model_sha256 must match
    bytes: int | None = None  # its size
    params: int | None = None  # the model's parameters
    macs: int | None = None  # multiply-accumulates of one forward
    trained: bool | None = None  # False: initial weights (accuracy is chance)
    checkpoint_sha256: str | None = None  # the checkpoint it was exported from

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None, where: str = "model meta") -> ExportIdentity:
        """The identity fields of an exporter's meta, each checked for its kind (a wrong one is a
        corrupt file, said with its key); keys it does not name are left to their owners."""
        meta = meta or {}
        kinds = {"bytes": int, "params": int, "macs": int, "trained": bool}
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = meta.get(f.name)
            kind = kinds.get(f.name, str)
            if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
                raise ResultsError(
                    f"{where}.{f.name}: expected {kind.__name__}, found {type(value).__name__} "
                    f"{str(value)[:40]!r}; the file is corrupt"
                )
            values[f.name] = value
        return cls(**values)
