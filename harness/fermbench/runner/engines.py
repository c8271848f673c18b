"""The runtimes the host runner runs, behind one interface that mirrors the APK's `Engine`.

- LiteEngine: a .ptl through torch's lite interpreter (`torch.jit.mobile`), the interpreter that
  pytorch_android_lite wraps.
- ExecutorchEngine: a .pte through ExecuTorch's Python runtime (`executorch.runtime`: XNNPACK
  delegate and portable kernels, like the executorch-android AAR).

Each engine: load_runtime() (load the runtime library; says whether it was already loaded),
threads(n) (a context that sets the runtime's threads, yields the count in use, restores them),
load(host_path, device_path), forward(x) (one call, as the timed loop makes it) and output(raw)
(the one output tensor, or inference_failed). Failures are RunnerErrors with the protocol's codes.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import re
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import runtimes
from ..errors import RunnerError
from ..quiet import native_stderr, quiet_imports
from . import protocol as p

HOST_BYTECODE_RANGE = (4, 9)  # torch 2.x lite interpreter: kMinSupportedBytecodeVersion..kMaxSupported


def first_line(exc: BaseException) -> str:
    """Runtime errors carry a C++ trace; keep the line that says what went wrong."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("RuntimeError:", "Error:")) or "version" in ln.lower():
            return ln[:500]
    return (lines[0] if lines else type(exc).__name__)[:500]


def is_oom(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "not enough memory" in text


class Engine(ABC):
    name: str  # runtime_name in results
    model_format: str  # the file it reads: ptl or pte

    def __init__(self) -> None:
        self.device_path = ""  # the model being run, for messages

    @classmethod
    def for_phone(cls, bytecode_range: tuple[int, int] | None, page_size: int) -> Engine:
        """An engine imitating a phone's runtime; only Lite imitates (bytecode range, page size)."""
        return cls()

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def format_fields(self) -> dict[str, Any]:
        """What `info` says the runtime reads: bytecode_min, bytecode_max, pte_identifiers."""

    @abstractmethod
    def load_runtime(self) -> bool:
        """Load the runtime library; True when it was already in this process."""

    @abstractmethod
    def threads(self, n: int) -> contextlib.AbstractContextManager[int]: ...

    @abstractmethod
    def load(self, host_path: Path, device_path: str) -> None: ...

    @abstractmethod
    def forward(self, x: Any) -> Any: ...

    @abstractmethod
    def output(self, raw: Any) -> Any:
        """The one logits tensor a forward returned; anything else is inference_failed."""

    def _load_failed(self, exc: BaseException) -> RunnerError:
        return RunnerError(f"cannot load {self.device_path}: {first_line(exc)}", "model_load_failed")

    def _inference_failed(self, x: Any, exc: BaseException) -> RunnerError:
        return RunnerError(f"{self.device_path} failed on input {list(x.shape)}: {first_line(exc)}", "inference_failed")

    def _not_one_tensor(self) -> RunnerError:
        return RunnerError(f"{self.device_path} did not return one tensor of logits", "inference_failed")


class LiteEngine(Engine):
    """torch.jit.mobile: a .ptl exactly as pytorch_android_lite reads it.

    bytecode_range imitates an older phone runtime's check; page_size > 4 KB imitates a 16 KB-page
    phone, where pytorch_android_lite's 4 KB-aligned native libraries do not load.
    """

    name = p.RUNTIME_LITE
    model_format = p.MODEL_FORMATS[p.RUNTIME_LITE]

    def __init__(self, bytecode_range: tuple[int, int] | None = None, page_size: int = p.PAGE_SIZE_4K):
        super().__init__()
        self.bytecode_range = bytecode_range or HOST_BYTECODE_RANGE
        self.imitate_range = bytecode_range is not None
        self.page_size = page_size
        self.module: Any = None

    @classmethod
    def for_phone(cls, bytecode_range: tuple[int, int] | None, page_size: int) -> Engine:
        return cls(bytecode_range, page_size)

    def version(self) -> str:
        import torch

        return torch.__version__

    def format_fields(self) -> dict[str, Any]:
        lo, hi = self.bytecode_range
        return {"bytecode_min": lo, "bytecode_max": hi, "pte_identifiers": []}

    def load_runtime(self) -> bool:
        preloaded = "torch.jit.mobile" in sys.modules
        if self.page_size > p.PAGE_SIZE_4K:  # what bionic's linker says about a 4 KB-aligned library
            raise RunnerError(
                f'cannot load the {self.name} runtime: dlopen failed: "libpytorch_jni_lite.so" program '
                f"alignment ({p.PAGE_SIZE_4K}) cannot be smaller than system page size ({self.page_size})",
                "runtime_load_failed",
            )
        import torch.jit.mobile  # noqa: F401 - not imported by `import torch`

        return preloaded

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[int]:
        """Intra-op threads for the run, restored after (process-wide state)."""
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield torch.get_num_threads()
        finally:
            torch.set_num_threads(old)

    def load(self, host_path: Path, device_path: str) -> None:
        import torch.jit.mobile

        self.device_path = device_path
        if self.imitate_range:
            lo, hi = self.bytecode_range
            try:
                version = torch.jit.mobile._get_model_bytecode_version(str(host_path))
            except Exception as exc:  # torch raises RuntimeError or ValueError for non-model files
                raise self._load_failed(exc) from None
            if not lo <= version <= hi:
                raise RunnerError(
                    f"cannot load {device_path}: Lite Interpreter version number does not match. "
                    f"The model version must be between {lo} and {hi} but the model version is {version}",
                    "model_load_failed",
                )
        try:
            self.module = torch.jit.mobile._load_for_lite_interpreter(str(host_path))  # type: ignore[no-untyped-call]
        except Exception as exc:  # the interpreter's own message says why (version, corrupt file)
            if is_oom(exc):
                raise
            raise self._load_failed(exc) from None

    def forward(self, x: Any) -> Any:
        try:
            return self.module(x)
        except Exception as exc:
            if is_oom(exc):
                raise
            raise self._inference_failed(x, exc) from None

    def output(self, raw: Any) -> Any:
        import torch

        if not isinstance(raw, torch.Tensor):
            raise self._not_one_tensor()
        return raw


# ExecuTorch's threadpool is one per process and may not be reset while a method runs
# (`_unsafe_reset_threadpool`): runs in one process (simulated phones) take turns.
_EXECUTORCH_POOL = threading.Lock()


class ExecutorchEngine(Engine):
    """executorch.runtime: Runtime.get().load_program(path).load_method("forward").execute([x])."""

    name = p.RUNTIME_EXECUTORCH
    model_format = p.MODEL_FORMATS[p.RUNTIME_EXECUTORCH]

    def __init__(self) -> None:
        super().__init__()
        self.program: Any = None
        self.method: Any = None

    def version(self) -> str:
        try:
            return importlib.metadata.version("executorch")
        except importlib.metadata.PackageNotFoundError:
            raise self._missing() from None

    def _missing(self) -> RunnerError:
        return RunnerError(
            "cannot load the executorch runtime: the Python package executorch is not installed "
            "(pip install the release that matches torch, see README)",
            "runtime_load_failed",
        )

    def pte_identifiers(self) -> list[str]:
        """The program identifier the installed runtime reads, from its own flatbuffer schema."""
        spec = importlib.util.find_spec("executorch")
        if spec is None or not spec.submodule_search_locations:
            raise self._missing()
        for folder in spec.submodule_search_locations:
            schema = Path(folder) / "schema" / "program.fbs"
            if schema.is_file():
                return re.findall(r'^file_identifier\s+"(\w{4})";', schema.read_text(encoding="utf-8"), re.M)
        raise RunnerError("cannot read executorch/schema/program.fbs: reinstall executorch", "runtime_load_failed")

    def format_fields(self) -> dict[str, Any]:
        return {"bytecode_min": None, "bytecode_max": None, "pte_identifiers": self.pte_identifiers()}

    def load_runtime(self) -> bool:
        preloaded = "executorch.runtime" in sys.modules
        try:
            with quiet_imports():
                from executorch.runtime import Runtime
        except ImportError:
            raise self._missing() from None
        with native_stderr():  # its CPU probe
            Runtime.get()
        return preloaded

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[int]:
        """XNNPACK's threadpool sized to n for the run. It keeps that size after (only ExecuTorch
        uses it), so a session of runs with the same thread count resets it once."""
        from executorch.extension.pybindings import portable_lib

        with _EXECUTORCH_POOL:
            with native_stderr():  # "Resetting threadpool to n threads"
                if portable_lib._threadpool_get_thread_count() != n:
                    portable_lib._unsafe_reset_threadpool(n)
                used = portable_lib._threadpool_get_thread_count()
            yield used

    def load(self, host_path: Path, device_path: str) -> None:
        from executorch.runtime import Runtime

        self.device_path = device_path
        # The runtime only logs why it refused a program; the identifier check says it in the error.
        with open(host_path, "rb") as fh:
            identifier = fh.read(8)[4:8].decode("ascii", "replace")
        readable = self.pte_identifiers()
        if identifier not in readable:
            raise RunnerError(
                f"cannot load {device_path}: program identifier {identifier!r} is not one ExecuTorch "
                f"{self.version()} reads ({', '.join(readable)}): export it with this runtime's "
                "executorch version",
                "model_load_failed",
            )
        try:
            with native_stderr():  # the XNNPACK delegate's CPU probe, at every load
                self.program = Runtime.get().load_program(host_path)
                self.method = self.program.load_method("forward")
        except KeyError:
            raise RunnerError(
                f"cannot load {device_path}: the program has no forward method", "model_load_failed"
            ) from None
        except Exception as exc:
            if is_oom(exc):
                raise
            raise self._load_failed(exc) from None

    def forward(self, x: Any) -> Any:
        try:
            return self.method.execute([x])
        except Exception as exc:
            if is_oom(exc):
                raise
            raise self._inference_failed(x, exc) from None

    def output(self, raw: Any) -> Any:
        import torch

        if len(raw) != 1 or not isinstance(raw[0], torch.Tensor):
            raise self._not_one_tensor()
        return raw[0]


def make_engine(runtime: str, bytecode_range: tuple[int, int] | None = None, page_size: int = p.PAGE_SIZE_4K) -> Engine:
    """The engine of a registered runtime (runtimes/ names its class); bytecode_range and page_size
    imitate a phone (Lite only). An unknown name is a ConfigError naming the runtimes there are."""
    engine_class: type[Engine] = runtimes.resolve(runtimes.get(runtime).engine)
    return engine_class.for_phone(bytecode_range, page_size)
