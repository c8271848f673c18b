"""What every simulated command gets (Ctx), the command table, and toybox-style option parsing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..shell import ExitShell
from ..state import PhoneState

if TYPE_CHECKING:
    from ..shell import Reader, Session, Writer

Handler = Callable[["Ctx"], int]
COMMANDS: dict[str, Handler] = {}


def command(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under one or more command names."""

    def register(fn: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


class UsageError(Exception):
    """Bad options: the command prints `<name>: <message>` and exits 1 (toybox's habit)."""


class Ctx:
    def __init__(
        self,
        state: PhoneState,
        name: str,
        args: list[str],
        stdin: "Reader",
        out: "Writer",
        err: "Writer",
        cancel: threading.Event,
        session: "Session",
        env: dict[str, str],
    ):
        self.state, self.name, self.args = state, name, args
        self.stdin, self._out, self._err = stdin, out, err
        self.cancel, self.session, self.env = cancel, session, env

    def run(self, handler: Handler) -> int:
        try:
            return handler(self)
        except ExitShell:
            raise  # `exit N` ends the whole command line, not just this command
        except UsageError as exc:
            return self.error(str(exc))
        except PermissionError as exc:
            return self.error(f"{exc.filename}: Permission denied" if exc.filename else "Permission denied")
        except Exception as exc:  # a bug in the simulation must show, not pass as success
            if self.cancel.is_set():
                raise  # the stream is gone: nobody to tell
            self.state.log("E", "fermsim", f"{self.name} failed inside the simulated phone: {exc!r}")
            return self.error(f"simulated phone error: {exc!r}")

    # output
    def out(self, data: bytes) -> None:
        self._out(data)

    def write(self, text: str) -> None:
        self._out(text.encode("utf-8"))

    def warn(self, text: str) -> None:
        self._err(text.encode("utf-8"))

    def warn_bytes(self, data: bytes) -> None:
        self._err(data)

    def error(self, message: str, code: int = 1) -> int:
        self._err(f"{self.name}: {message}\n".encode("utf-8"))
        return code

    # paths
    def abspath(self, path: str) -> str:
        from ..shell import device_abspath

        return device_abspath(self.session.cwd, path)

    def host(self, path: str) -> Path:
        return self.state.host_path(self.abspath(path))

    def read_stdin(self, chunk: int = 1 << 20):
        while not self.cancel.is_set():
            data = self.stdin.read(chunk)
            if not data:
                return
            yield data

    # options
    def flags(self, spec: str, values: str = "", args: list[str] | None = None) -> tuple[dict[str, object], list[str]]:
        """Parse single-letter flags (clusters allowed, anywhere before `--`).

        `spec` lists boolean flags, `values` flags taking an argument. A lone `-` is an operand.
        """
        opts: dict[str, object] = {}
        operands: list[str] = []
        args = self.args if args is None else args
        i = 0
        rest = False
        while i < len(args):
            a = args[i]
            if rest or a == "-" or not a.startswith("-"):
                operands.append(a)
            elif a == "--":
                rest = True
            else:
                j = 1
                while j < len(a):
                    c = a[j]
                    if c in values:
                        val = a[j + 1 :]
                        if not val:
                            i += 1
                            if i >= len(args):
                                raise UsageError(f"Missing argument to -{c}")
                            val = args[i]
                        opts[c] = val
                        break
                    if c not in spec:
                        raise UsageError(f"Unknown option '{c}'")
                    opts[c] = True
                    j += 1
            i += 1
        return opts, operands
