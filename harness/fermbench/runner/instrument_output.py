"""Parse the text that `am instrument -w -r` prints (AOSP's raw output format).

    INSTRUMENTATION_STATUS: key=value     one line per key, keys sorted; a value may span lines
    INSTRUMENTATION_STATUS_CODE: n        closes one status bundle
    INSTRUMENTATION_RESULT: key=value     the final bundle
    INSTRUMENTATION_CODE: n               the end (-1 = finished; 0 after a crash)

A crashed process ends with `INSTRUMENTATION_RESULT: shortMsg=Process crashed.` (or the
exception's name, with longMsg) and `INSTRUMENTATION_CODE: 0`. A stream that stops before
INSTRUMENTATION_CODE (adb connection lost, runner killed) is `truncated`; a status bundle whose
STATUS_CODE never came is kept apart in `partial_status`, never mixed with complete ones.

Lines am writes itself (AOSP `Instrument.java`, raw mode):
    onError: commandError=true message=INSTRUMENTATION_FAILED: <component>    stdout: no such runner;
        stderr then carries `android.util.AndroidException: INSTRUMENTATION_FAILED: ...` and a trace
    onError: commandError=false message=INSTRUMENTATION_ABORTED: System has crashed.
    INSTRUMENTATION_ABORTED: System has crashed.       the system server died mid-run
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_STATUS = "INSTRUMENTATION_STATUS: "
_STATUS_CODE = "INSTRUMENTATION_STATUS_CODE: "
_RESULT = "INSTRUMENTATION_RESULT: "
_CODE = "INSTRUMENTATION_CODE: "
_ON_ERROR = "onError: "
# am's own failure lines, bare, after `onError: ... message=`, or as a Java exception on stderr.
_FAILED = re.compile(r"^(?:onError: commandError=\w+ message=|[\w.$]+Exception: )?INSTRUMENTATION_FAILED: (.*)$")
_ABORTED = re.compile(r"^(?:onError: commandError=\w+ message=)?INSTRUMENTATION_ABORTED: (.*)$")


@dataclass
class InstrumentStatus:
    """One status bundle: its values and the code on its INSTRUMENTATION_STATUS_CODE line."""

    code: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.values


@dataclass
class InstrumentRun:
    text: str = ""  # what `am instrument` printed, as it came
    statuses: list[InstrumentStatus] = field(default_factory=list)
    result: dict[str, str] = field(default_factory=dict)
    code: int | None = None  # INSTRUMENTATION_CODE; None when the stream ended before it
    crashed: bool = False
    truncated: bool = False
    partial_status: dict[str, str] | None = None  # a bundle cut off before its STATUS_CODE
    errors: list[str] = field(default_factory=list)  # onError / ABORTED / FAILED lines
    not_installed: str | None = None  # the INSTRUMENTATION_FAILED text (no such instrumentation)
    aborted: str | None = None  # the INSTRUMENTATION_ABORTED text (the system server died)
    other_lines: list[str] = field(default_factory=list)  # anything else (e.g. a Java stack trace)

    @property
    def crash_message(self) -> str:
        parts = [self.result.get("shortMsg", ""), self.result.get("longMsg", "")]
        return " ".join(p for p in parts if p) or "unknown crash"


def _split(line: str, prefix: str) -> tuple[str, str]:
    key, sep, value = line[len(prefix) :].partition("=")
    return key, value


def _int_or_none(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


class InstrumentReader:
    """Reads the output as it streams in: `feed` chunks, then `finish` for the InstrumentRun.

    Each status bundle goes to `on_status` once its STATUS_CODE line has come, and the final
    bundle to `on_end` with the INSTRUMENTATION_CODE (the simulated phone logs a run this way as
    it goes). A line is read only once it is complete; `finish` reads an unterminated last one.
    """

    def __init__(
        self,
        on_status: Callable[[InstrumentStatus], None] | None = None,
        on_end: Callable[[dict[str, str], int | None], None] | None = None,
    ):
        self._on_status, self._on_end = on_status, on_end
        self.run = InstrumentRun()
        self._chunks: list[str] = []
        self._pending = ""  # text after the last line break, not read yet
        self._current: dict[str, str] | None = None  # the status bundle being read
        self._target: dict[str, str] | None = None  # where a continuation line goes (status or result)
        self._last_key: str | None = None

    def feed(self, text: str) -> None:
        self._chunks.append(text)
        text = self._pending + text
        cut = text.rfind("\n") + 1  # lines end at a \n; a \r\n pair is never split by the cut
        self._pending = text[cut:]
        for raw in text[:cut].splitlines():
            self._line(raw)

    def finish(self) -> InstrumentRun:
        run = self.run
        for raw in self._pending.splitlines():
            self._line(raw)
        self._pending = ""
        run.text = "".join(self._chunks)
        if self._current is not None:
            run.partial_status = self._current
        run.crashed = "shortMsg" in run.result
        run.truncated = run.code is None and run.not_installed is None and run.aborted is None
        return run

    def _line(self, raw: str) -> None:
        run = self.run
        line = raw.rstrip("\r")  # devices behind a pty print CRLF
        if line.startswith(_STATUS):
            if self._current is None:
                self._current = {}
            key, value = _split(line, _STATUS)
            self._current[key] = value
            self._target, self._last_key = self._current, key
        elif line.startswith(_STATUS_CODE):
            code = _int_or_none(line[len(_STATUS_CODE) :])
            status = InstrumentStatus(code if code is not None else 0, self._current or {})
            run.statuses.append(status)
            self._current = self._target = self._last_key = None
            if self._on_status is not None:
                self._on_status(status)
        elif line.startswith(_RESULT):
            key, value = _split(line, _RESULT)
            run.result[key] = value
            self._target, self._last_key = run.result, key
        elif line.startswith(_CODE):
            run.code = _int_or_none(line[len(_CODE) :])
            self._target = self._last_key = None
            if self._on_end is not None:
                self._on_end(run.result, run.code)
        elif (failed := _FAILED.match(line)) is not None:
            run.not_installed = failed.group(1).strip()
            run.errors.append(line)
            self._target = self._last_key = None
        elif (aborted := _ABORTED.match(line)) is not None:
            run.aborted = aborted.group(1).strip()
            run.errors.append(line)
            self._target = self._last_key = None
        elif line.startswith(_ON_ERROR):
            run.errors.append(line)
            self._target = self._last_key = None
        elif line == "" and self._target is None:
            return
        elif self._target is not None and self._last_key is not None:
            self._target[self._last_key] += "\n" + line  # a value that spans lines
        else:
            run.other_lines.append(line)


def parse_instrument_output(text: str) -> InstrumentRun:
    """The whole output at once."""
    reader = InstrumentReader()
    reader.feed(text)
    return reader.finish()
