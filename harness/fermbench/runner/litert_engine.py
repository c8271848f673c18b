"""LiteRT on the host: a .tflite through ai-edge-litert's interpreter with the XNNPACK delegate,
behind the interface of runner/engines.py (the same interpreter the Android AAR wraps).

runtimes/litert.py names it; make_engine builds it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RunnerError
from ..export.litert.interpreter import TensorSpec, input_specs, open_interpreter, output_specs, run_once
from ..export.litert.runtime import INSTALL_HINT, RUNTIME_PACKAGE
from ..runtimes.litert import LITERT
from .engines import Engine, is_oom

RUNTIME_LITERT = LITERT.name
MODEL_FORMAT = LITERT.file_format


class LitertEngine(Engine):
    """ai_edge_litert.interpreter.Interpreter(model_path, num_threads=n), XNNPACK applied at load.

    The interpreter takes its thread count when it is built, so threads(n) is entered before
    load() (as the host runner does) and load() builds it with n.
    """

    name = RUNTIME_LITERT
    model_format = MODEL_FORMAT

    def __init__(self) -> None:
        super().__init__()
        self.num_threads: int | None = None  # what the interpreter is asked for; None: its default
        self.interpreter: Any = None
        self.input: TensorSpec | None = None
        self.out: TensorSpec | None = None

    def _missing(self) -> RunnerError:
        return RunnerError(
            f"cannot load the {self.name} runtime: the Python package {RUNTIME_PACKAGE} is not "
            f"installed ({INSTALL_HINT})",
            "runtime_load_failed",
        )

    def version(self) -> str:
        try:
            return importlib.metadata.version(RUNTIME_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            raise self._missing() from None

    def format_fields(self) -> dict[str, Any]:
        return {"bytecode_min": None, "bytecode_max": None, "pte_identifiers": []}

    def load_runtime(self) -> bool:
        preloaded = "ai_edge_litert.interpreter" in sys.modules
        try:
            import ai_edge_litert.interpreter  # noqa: F401 - loads the native library
        except ImportError:
            raise self._missing() from None
        return preloaded

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[int]:
        """The thread count the next load() builds its interpreter with (XNNPACK's pool is the
        interpreter's own: nothing process-wide to restore)."""
        old = self.num_threads
        self.num_threads = n
        try:
            yield n
        finally:
            self.num_threads = old

    def load(self, host_path: Path, device_path: str) -> None:
        self.device_path = device_path
        try:
            self.interpreter = open_interpreter(host_path, threads=self.num_threads)
        except Exception as exc:  # ValueError for a file that is not a model, RuntimeError from allocation
            if is_oom(exc):
                raise
            raise self._load_failed(exc) from None
        inputs, outputs = input_specs(self.interpreter), output_specs(self.interpreter)
        if len(inputs) != 1 or len(outputs) != 1:
            raise RunnerError(
                f"cannot load {device_path}: it takes {len(inputs)} inputs and returns {len(outputs)} "
                "outputs, the runner feeds one image and reads one tensor of logits",
                "model_load_failed",
            )
        self.input, self.out = inputs[0], outputs[0]

    def forward(self, x: Any) -> Any:
        """One forward of a float32 tensor in the model's own layout (NCHW: litert-torch keeps
        PyTorch's); an int8 model's input is quantised and its output dequantised here."""
        assert self.input is not None and self.out is not None, "load() first"
        try:
            return run_once(self.interpreter, self.input, self.out, x.numpy() if hasattr(x, "numpy") else x)
        except Exception as exc:  # ValueError for a wrong shape or type
            if is_oom(exc):
                raise
            raise self._inference_failed(x, exc) from None

    def output(self, raw: Any) -> Any:
        import numpy as np
        import torch

        if not isinstance(raw, np.ndarray):
            raise self._not_one_tensor()
        return torch.from_numpy(raw.copy())
