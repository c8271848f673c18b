"""The host CPU as a benchmark target: the host runner, same protocol, same model files."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import RunnerError
from ..runner.instrument_output import InstrumentRun, parse_instrument_output
from ..tempdirs import make_temp_dir, remove_temp_dir
from .target import HOST, HOST_CPU, Description, Target, run_with_timeout


class HostTarget(Target):
    """The host CPU with the host runner (same protocol, same .ptl, the host's lite interpreter)."""

    serial = HOST
    kind = "host"

    def __init__(self) -> None:
        self._work = make_temp_dir("host")

    def describe(self) -> Description:
        import os
        import platform

        return Description(
            kind="host",
            identity={
                "model": platform.node() or "host",
                "manufacturer": None,
                "soc": platform.processor() or platform.machine(),
                "abis": [platform.machine()],
                "release": platform.platform(),
                "sdk": None,
                "fingerprint": None,
            },
            properties={"cpu_count": os.cpu_count(), "python": platform.python_version()},
            tags=["host"],
        )

    def put_file(self, local: Path, name: str) -> str:
        return str(Path(local).resolve())  # the host runner reads files where they are

    def _instrument(
        self, runtime: str, extras: dict[str, str], timeout: float, stop: threading.Event | None
    ) -> tuple[InstrumentRun, float]:
        from ..runner.host import run_instrumentation

        work = str(self._work)

        def start(emit: Callable[[str], None], cancel: threading.Event) -> None:
            run_instrumentation(extras, Path, emit, cancel, external_dir=work, runtime=runtime)

        with HOST_CPU:
            text, seconds, timed_out = run_with_timeout(start, timeout, stop)
        if timed_out:
            raise RunnerError(f"host runner did not finish within {timeout:.0f} s; raise timeout_seconds", "timeout")
        return parse_instrument_output(text), seconds

    def _fetch(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def free_bytes(self) -> int | None:
        import shutil

        return shutil.disk_usage(str(self._work)).free

    def close(self) -> None:
        remove_temp_dir(self._work)
