"""What a runtime is, in one record: everything fermbench knows about it, from the file its exporter
writes to the native libraries that say an APK carries it.

The exporter and the host engine live in the layers that own them (export/, runner/); a runtime
names them as "module:attribute" and those layers resolve the name (tests/runtimes/ checks that
every name resolves), so this record sits low enough for every layer to read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class Compat:
    """What a device needs for the runner flavor of this runtime to install and load."""

    abis: tuple[str, ...]  # the flavor's ndk.abiFilters: a device needs one of them
    min_sdk: int  # the flavor's minSdk
    library_align: int  # LOAD alignment of its native libraries: a device's page size must not exceed it


@dataclass(frozen=True)
class Runtime:
    name: str  # the runner's runtime_name in results and protocol: pytorch_lite, executorch, litert
    label: str  # how reports name it
    versions: tuple[str, ...]  # the export runtime ids it reads (export/runtimes.py), newest first
    file_format: str  # the file it runs: ptl, pte, tflite
    quants: tuple[str, ...]  # the quantisations it runs
    exporter: str  # "module:function" under fermbench.export, called by export/models.py
    gates: tuple[str, ...]  # what the exporter checks before it accepts a file
    engine: str  # "module:Engine class" under fermbench.runner, built by runner/engines.py
    flavor: str  # the runner's Gradle product flavor (android-runner/app/build.gradle.kts)
    package: str  # that flavor's application id
    libraries: tuple[str, ...]  # its native libraries in the APK; the first one says the APK carries it
    device: Compat
    model_file: str  # the exported file's name, from {model} and {quant}
    meta_file: str  # its metadata file's name beside it
    tool_versions: str = ""  # "module:function" giving the versions an export must have been made with
    modules: tuple[str, ...] = ()  # Python modules its exporter and engine need beyond the core install
    install_hint: str = ""  # how to install them, one line

    @property
    def marker(self) -> str:
        """The native library whose presence says an APK carries this runtime."""
        return self.libraries[0]

    def files(self, model: str, quant: str) -> tuple[str, str]:
        """The names of the file the exporter writes for `model` at `quant` and of its metadata."""
        return self.model_file.format(model=model, quant=quant), self.meta_file.format(model=model, quant=quant)

    @property
    def default_version(self) -> str:
        return self.versions[0]


def resolve(ref: str) -> Any:
    """The attribute a "fermbench.module:attribute" reference names."""
    module, _, attr = ref.partition(":")
    if not module.startswith("fermbench.") or not attr:
        raise ConfigError(f"bad reference {ref!r}: expected fermbench.<module>:<attribute>")
    return getattr(importlib.import_module(module), attr)
