"""Which lite-interpreter bytecode versions each Android runtime reads (docs/platform-facts.md).

A file outside the range fails at load on the phone with "Lite Interpreter version number does
not match", so the exporter checks it on the host before the file ever reaches a phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ExportError


@dataclass(frozen=True)
class Runtime:
    name: str
    min_bytecode: int
    max_bytecode: int


RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("pytorch_android_lite-2.1.0", 4, 9),  # last release; reads torch 2.13's v8 directly
        Runtime("pytorch_android_lite-1.11.0", 4, 7),
        Runtime("pytorch_android_lite-1.10.0", 4, 7),
    )
}
DEFAULT_RUNTIME = "pytorch_android_lite-2.1.0"

# torch.jit.mobile._backport_for_mobile goes down to 4 (3 fails); nothing goes forward.
MIN_BACKPORT = 4


def get_runtime(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise ExportError(f"unknown runtime {name!r}: choose one of {', '.join(sorted(RUNTIMES))}")
    return RUNTIMES[name]
