"""What one running command gets from the shell (Ctx), and the errors that end it.

The shell (shell.py) builds a Ctx for every command it runs and calls the command's handler
(cmds/). Both sides import this module; neither imports the other: the shell is handed its
command table, and a command that must run another command line (`sh -c`, `exec`) does it
through `ctx.shell`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .permissions import check_list, check_write
from .state import PhoneState

SH = "/system/bin/sh"
SHELL_PID = 9000  # the pid of the `sh` adbd starts for a command line (`$$`); its children follow it


class Reader(Protocol):
    def read(self, n: int = -1) -> bytes: ...


Writer = Callable[[bytes], object]  # a stream's write: what it returns is ignored
Handler = Callable[["Ctx"], int]


class ExitShell(Exception):
    """`exit N` (or `exec`, or a fatal shell error): ends the whole command line."""

    def __init__(self, code: int):
        self.code = code


class LoopControl(Exception):
    """`break N` or `continue N`: leaves (or goes on with) the Nth enclosing loop."""

    def __init__(self, levels: int, again: bool):
        self.levels, self.again = levels, again


class ReturnFromFunction(Exception):
    """`return N` inside a function."""

    def __init__(self, code: int):
        self.code = code


class UsageError(Exception):
    """A toybox usage error: `NAME: MESSAGE (see "NAME --help")` on stderr, exit `status`
    (1, or the command's own, e.g. 2 for grep)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class CommandFailed(Exception):
    """Ends a command with its tool's exact error text (no prefix added) and exit status."""

    def __init__(self, text: str, status: int):
        super().__init__(text)
        self.status = status


@dataclass
class Session:
    """The shell's own state: variables (and which of them are exported), the working
    folder, the last status, positional parameters and the `set` options."""

    env: dict[str, str]
    exported: set[str] = field(default_factory=set)
    cwd: str = "/"
    status: int = 0
    positional: list[str] = field(default_factory=list)
    options: set[str] = field(default_factory=set)  # errexit, nounset, xtrace, pipefail
    functions: dict[str, object] = field(default_factory=dict)  # name -> its body (a syntax node)
    loops: int = 0  # how many loops enclose the running command (for break and continue)
    in_function: int = 0

    def copy(self) -> Session:
        """A subshell's session: changes to it stay inside the subshell."""
        return Session(
            dict(self.env),
            set(self.exported),
            self.cwd,
            self.status,
            list(self.positional),
            set(self.options),
            dict(self.functions),
            0,
            self.in_function,
        )

    def exported_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k in self.exported}


class ShellRunner(Protocol):
    """The shell as a command sees it: its command table, a child shell, one command."""

    commands: Mapping[str, Handler]

    def run(
        self,
        cmdline: str,
        stdin: Reader | None,
        stdout: Writer,
        stderr: Writer,
        cancel: threading.Event,
        env: dict[str, str] | None = None,
    ) -> int: ...

    def run_argv(self, ctx: Ctx, argv: list[str]) -> int: ...

    def eval(self, ctx: Ctx, text: str) -> int: ...

    def describe(self, session: Session, name: str) -> tuple[str, str] | None: ...


def device_abspath(cwd: str, path: str) -> str:
    return path if path.startswith("/") else (cwd.rstrip("/") + "/" + path)


class Ctx:
    """One command's arguments, streams, environment and the phone it runs on."""

    def __init__(
        self,
        state: PhoneState,
        name: str,
        args: list[str],
        stdin: Reader,
        out: Writer,
        err: Writer,
        cancel: threading.Event,
        session: Session,
        env: dict[str, str],
        shell: ShellRunner,
    ):
        self.state, self.name, self.args = state, name, args
        self.stdin, self._out, self._err = stdin, out, err
        self.cancel, self.session, self.env, self.shell = cancel, session, env, shell

    def run(self, handler: Handler) -> int:
        try:
            return handler(self)
        except (ExitShell, LoopControl, ReturnFromFunction):
            raise  # `exit N`, `break`, `return` end more than this command
        except UsageError as exc:
            self.warn(f'{self.name}: {exc} (see "{self.name} --help")\n')
            return exc.status
        except CommandFailed as exc:
            self.warn(str(exc) + "\n")
            return exc.status
        except OSError as exc:  # what the kernel refuses the shell user: `NAME: FILE: REASON`
            reason = exc.strerror or str(exc)
            return self.error(f"{exc.filename}: {reason}" if exc.filename else reason)
        except Exception as exc:  # a bug in the simulation must show, not pass as success
            if self.cancel.is_set():
                raise  # the stream is gone: nobody to tell
            self.state.log("E", "fermsim", f"{self.name} failed inside the simulated phone: {exc!r}")
            return self.error(f"simulated phone error: {exc!r}")

    def derive(self, name: str, args: list[str]) -> Ctx:
        """Another command with this one's streams, session and environment (`exec`, `cmd`)."""
        return Ctx(
            self.state, name, args, self.stdin, self._out, self._err, self.cancel, self.session, self.env, self.shell
        )

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
        """A tool's error line: `NAME: MESSAGE` (toybox, toolbox)."""
        self.warn(f"{self.name}: {message}\n")
        return code

    def sh_error(self, message: str, code: int = 1) -> int:
        """A shell builtin's error line: `/system/bin/sh: NAME: MESSAGE` (mksh)."""
        self.warn(f"{SH}: {self.name}: {message}\n")
        return code

    # paths
    def abspath(self, path: str) -> str:
        return device_abspath(self.session.cwd, path)

    def host(self, path: str) -> Path:
        """The host path of a file operand; an empty operand names no file, as in POSIX."""
        if not path:
            raise CommandFailed(f"{self.name}: '': No such file or directory", 1)
        return self.state.host_path(self.abspath(path))

    def writable(self, path: str, shown: str | None = None) -> Path:
        """The host path of an operand the command will create, change or remove; the OSError
        the kernel gives the shell user (EROFS, EACCES) where it may not, naming `shown`."""
        host = self.host(path)
        check_write(self.abspath(path), path if shown is None else shown)
        return host

    def listable(self, path: str) -> Path:
        """The host path of a folder the command will list; EACCES where the shell may not."""
        host = self.host(path)
        check_list(self.abspath(path), path)
        return host

    def read_stdin(self, chunk: int = 1 << 20) -> Iterator[bytes]:
        while not self.cancel.is_set():
            data = self.stdin.read(chunk)
            if not data:
                return
            yield data

    # options
    def flags(
        self,
        spec: str,
        values: str = "",
        args: list[str] | None = None,
        *,
        longs: Mapping[str, str] | None = None,
        argfail: int = 1,
        real: str = "",
    ) -> tuple[dict[str, object], list[str]]:
        """Parse options as toybox does: single-letter flags (clusters allowed, anywhere before
        `--`), `--long` names mapped to their letter by `longs`. A lone `-` is an operand.

        `spec` lists boolean flags, `values` flags taking an argument. An option the real tool
        has (`real`) but the simulation does not carry out says so; any other unknown option is
        a UsageError with the tool's exit status `argfail` (toybox's TOYFLAG_ARGFAIL).
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
            elif a.startswith("--"):
                name, eq, val = a[2:].partition("=")
                letter = (longs or {}).get(name)
                if letter is None:
                    raise UsageError(f"Unknown option '{a[2:]}'", argfail)
                if letter in values:
                    if not eq:
                        i += 1
                        if i >= len(args):
                            raise UsageError(f"Missing argument to --{name}", argfail)
                        val = args[i]
                    opts[letter] = val
                else:
                    opts[letter] = True
            else:
                j = 1
                while j < len(a):
                    c = a[j]
                    if c in values:
                        val = a[j + 1 :]
                        if not val:
                            i += 1
                            if i >= len(args):
                                raise UsageError(f"Missing argument to -{c}", argfail)
                            val = args[i]
                        opts[c] = val
                        break
                    if c not in spec:
                        if c in real:
                            raise CommandFailed(f"{self.name}: -{c} is not simulated by the fermbench phone", 1)
                        raise UsageError(f"Unknown option '{a[j:]}'", argfail)
                    opts[c] = True
                    j += 1
            i += 1
        return opts, operands
