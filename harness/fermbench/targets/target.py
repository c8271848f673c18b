"""Where a benchmark runs: the interface (Target) that the host CPU (host.py) and an Android
device (android.py: a phone, an emulator, a simulated phone) implement.

A Target hides the difference from the session: put a file where the runner can read it, run
one `am instrument` of the runner with a timeout, read thermal and battery state, say who it is.
Only AndroidTarget talks to a device, and only through `fermbench.device`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import RunnerError
from ..measures.readings import EnvReading
from ..runner import protocol as p
from ..runner.instrument_output import InstrumentRun
from ..threads import Worker

HOST = "host"

# Runners that use this machine's CPU (the host runner, simulated phones) take turns: two of them
# at once would each measure the other's load. Real phones run in parallel, one worker each.
HOST_CPU = threading.Lock()


@dataclass
class Description:
    """What session.json records about a device."""

    kind: str  # android | sim | host
    identity: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


# Thermal and battery state between runs: the runner's own reading type, None where the target cannot tell.
Environment = EnvReading


R = TypeVar("R", p.InfoResult, p.LatencyResult, p.ClassifyResult)


@dataclass
class RunnerCall(Generic[R]):
    result: R
    seconds: float  # wall time of the runner call (process start + load + run + output)
    output: str = ""


class Target(ABC):
    """Where a benchmark runs: the interface the session uses (host.HostTarget, android.AndroidTarget).

    Subclasses say how to start one runner call (`_instrument`) and read a file it left
    (`_fetch`); `run` decodes and type-checks every answer the same way for all of them.
    """

    serial: str
    kind: str

    @abstractmethod
    def describe(self) -> Description:
        """Identity, properties and tags, for session.json."""

    @abstractmethod
    def put_file(self, local: Path, name: str) -> str:
        """Make `local` readable by the runner as `name`; returns the runner's path. Skips identical files."""

    @abstractmethod
    def _instrument(
        self, runtime: str, extras: dict[str, str], timeout: float, stop: threading.Event | None
    ) -> tuple[InstrumentRun, float]:
        """One `am instrument` of the runner for `runtime` (pytorch_lite or executorch): its parsed
        output and the seconds it took; it ends early (RunnerError "interrupted") once `stop` is set."""

    @abstractmethod
    def _fetch(self, path: str) -> bytes:
        """A result file the runner wrote (when its result was too large to inline)."""

    def run(
        self, runtime: str, extras: dict[str, str], timeout: float, expect: type[R], stop: threading.Event | None = None
    ) -> RunnerCall[R]:
        """One call of the runner of `runtime`; RunnerError on a coded error, crash, hang (code
        'timeout'), an interruption (`stop` set: 'interrupted') or an answer of another mode than
        `expect`."""
        run, seconds = self._instrument(runtime, extras, timeout, stop)
        result = p.decode_result(run, fetch=self._fetch)
        if not isinstance(result, expect):
            raise RunnerError(
                f"the runner answered a {type(result).__name__} to a {extras.get('mode')} call; reinstall the runner",
                "bad_result",
            )
        return RunnerCall(result, seconds, run.text)

    def environment(self) -> Environment:
        return Environment()

    def free_bytes(self) -> int | None:
        return None

    def installed_size(self, apk: Path | None, runtime: str = p.RUNTIME_LITE) -> tuple[int | None, str]:
        return None, "not an Android device"

    def install(self, apk: Path) -> str:
        raise RunnerError(f"{self.serial} is not an Android device: nothing to install", "bad_arguments")

    def connected(self) -> bool:
        return True

    def reconnect(self) -> bool:
        return True

    def close(self) -> None:  # noqa: B027 (a target with nothing to release keeps this no-op)
        pass


def run_with_timeout(
    start: Callable[[Callable[[str], None], threading.Event], None], timeout: float, stop: threading.Event | None = None
) -> tuple[str, float, bool]:
    """Run `start(emit, cancel)` in a thread; cancel it after `timeout`, or as soon as `stop` is set.
    Returns (output, seconds, timed_out); RunnerError code "interrupted" when `stop` ended it."""
    chunks: list[str] = []
    cancel = threading.Event()
    box: dict[str, BaseException] = {}

    def target() -> None:
        try:
            start(chunks.append, cancel)
        except BaseException as exc:  # handed to the caller's thread below
            box["exc"] = exc

    t0 = time.perf_counter()
    worker = Worker(target, "fermbench-runner").start()
    deadline = time.monotonic() + timeout
    try:
        while worker.alive() and time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            worker.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        stopped = stop is not None and stop.is_set() and worker.alive()
        timed_out = worker.alive() and not stopped
    finally:
        # whatever ends the wait (a stop, the timeout, Ctrl-C in this thread), the runner must not
        # outlive it: a process that exits while a runner thread is inside torch aborts
        if worker.alive():
            cancel.set()
            worker.wait(30)
    if stopped:
        raise RunnerError("the runner call was interrupted (the session is stopping)", "interrupted")
    if "exc" in box:
        raise box["exc"]
    return "".join(chunks), time.perf_counter() - t0, timed_out
