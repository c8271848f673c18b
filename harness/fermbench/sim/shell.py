"""A small POSIX-style shell for the simulated phone (what adbd's `/system/bin/sh -c` runs).

Supported: words with single/double quotes and backslash escapes, `$?`, `$NAME`, `${NAME}`,
`NAME=value`, `#` comments, `;` and newlines, `&&`, `||`, pipes, redirections (`>`, `>>`, `<`,
`N>`, `N>&M`, `/dev/null`), and `*`/`?`/`[...]` globs over the phone's file system.
Not supported, and refused with a syntax error rather than misread: `&` (background), `( )`,
backquotes, `$( )`, here-documents, `if`/`for`/`while`. The shell is handed its command table
(`fermbench.sim.cmds.COMMANDS` on a simulated phone); any other name answers "inaccessible or
not found" with exit code 127, as Android's mksh does.
"""

from __future__ import annotations

import fnmatch
import io
import os
import threading
from dataclasses import dataclass, field
from typing import IO, Any, Mapping

from .permissions import check_list, check_write
from .process import SH, Ctx, ExitShell, Handler, Reader, Session, Writer, device_abspath
from .state import PhoneState

_GLOB_CHARS = frozenset("*?[")
_UNSUPPORTED = {"(": "'(' (subshells)", ")": "')'", "`": "backquotes"}


class ShellSyntaxError(Exception):
    pass


# -- parsing -----------------------------------------------------------------------------------


@dataclass
class Part:
    text: str
    quoted: bool
    var: bool = False  # `text` names a variable, expanded when the command runs


@dataclass
class Word:
    parts: list[Part] = field(default_factory=list)


@dataclass
class Redirect:
    fd: int
    op: str  # '>', '>>', '<', '>&'
    target: Word | None = None
    dup: int | None = None  # the M of N>&M


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


Pipeline = list[Command]


def _lex(text: str) -> list[Word | str | Redirect]:
    """Split a command line into Words, operators (';', '&&', '||', '|') and Redirects."""
    tokens: list[Word | str | Redirect] = []
    word: Word | None = None
    i, n = 0, len(text)

    def lit(s: str, quoted: bool) -> None:
        nonlocal word
        if word is None:
            word = Word()
        if word.parts and not word.parts[-1].var and word.parts[-1].quoted == quoted:
            word.parts[-1].text += s
        else:
            word.parts.append(Part(s, quoted))

    def end_word() -> None:
        nonlocal word
        if word is not None:
            tokens.append(word)
            word = None

    def read_var(j: int, quoted: bool) -> int:
        """At text[j] == '$': add a variable part (or a literal '$'); return the next index."""
        nonlocal word
        nxt = text[j + 1] if j + 1 < n else ""
        if nxt in ("?", "$", "#", "@", "*") or nxt.isdigit():
            name, end = nxt, j + 2
        elif nxt == "{":
            close = text.find("}", j + 2)
            if close < 0:
                raise ShellSyntaxError("missing '}'")
            name, end = text[j + 2 : close], close + 1
        elif nxt == "(":
            raise ShellSyntaxError("'$(' (command substitution) is not supported")
        elif nxt.isalpha() or nxt == "_":
            end = j + 1
            while end < n and (text[end].isalnum() or text[end] == "_"):
                end += 1
            name = text[j + 1 : end]
        else:
            lit("$", quoted)
            return j + 1
        if word is None:
            word = Word()
        word.parts.append(Part(name, quoted, var=True))
        return end

    while i < n:
        c = text[i]
        if c in " \t":
            end_word()
            i += 1
        elif c in "\n;":
            end_word()
            tokens.append(";")
            i += 1
        elif c == "#" and word is None:
            while i < n and text[i] != "\n":
                i += 1
        elif c == "&":
            if text.startswith("&&", i):
                end_word()
                tokens.append("&&")
                i += 2
            else:
                raise ShellSyntaxError("'&' (background jobs) is not supported")
        elif c == "|":
            end_word()
            if text.startswith("||", i):
                tokens.append("||")
                i += 2
            else:
                tokens.append("|")
                i += 1
        elif c in "<>":
            fd = 1 if c == ">" else 0
            if word is not None and len(word.parts) == 1 and not word.parts[0].quoted and word.parts[0].text.isdigit() \
                    and not word.parts[0].var:
                fd = int(word.parts[0].text)
                word = None
            end_word()
            if text.startswith(">>", i):
                op, i = ">>", i + 2
            elif text.startswith(">&", i) or text.startswith("<&", i):
                j = i + 2
                while j < n and text[j].isdigit():
                    j += 1
                if j == i + 2:
                    raise ShellSyntaxError(f"'{text[i:i + 2]}' needs a file descriptor number")
                tokens.append(Redirect(fd, ">&", dup=int(text[i + 2 : j])))
                i = j
                continue
            elif text.startswith("<<", i):
                raise ShellSyntaxError("here-documents are not supported")
            else:
                op, i = c, i + 1
            tokens.append(Redirect(fd, op))
        elif c == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise ShellSyntaxError("no closing quote")
            lit(text[i + 1 : close], True)
            i = close + 1
        elif c == '"':
            i += 1
            if word is None:
                word = Word()
            word.parts.append(Part("", True))  # so that "" is an (empty) argument
            while True:
                if i >= n:
                    raise ShellSyntaxError("no closing quote")
                d = text[i]
                if d == '"':
                    i += 1
                    break
                if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                    if text[i + 1] != "\n":
                        lit(text[i + 1], True)
                    i += 2
                elif d == "$":
                    i = read_var(i, True)
                elif d == "`":
                    raise ShellSyntaxError("backquotes are not supported")
                else:
                    lit(d, True)
                    i += 1
        elif c == "\\":
            if i + 1 < n and text[i + 1] != "\n":
                lit(text[i + 1], True)
            i += 2
        elif c == "$":
            i = read_var(i, False)
        elif c in _UNSUPPORTED:
            raise ShellSyntaxError(f"{_UNSUPPORTED[c]} not supported")
        else:
            lit(c, False)
            i += 1
    end_word()
    return tokens


def parse(text: str) -> list[tuple[str, Pipeline]]:
    """A list of (connector, pipeline); the connector is ';', '&&' or '||' (the first is ';')."""
    script: list[tuple[str, Pipeline]] = []
    connector, pipeline, cmd = ";", [], Command()
    tokens = _lex(text)
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if isinstance(tok, Word):
            cmd.words.append(tok)
        elif isinstance(tok, Redirect):
            if tok.op != ">&":
                if k + 1 >= len(tokens) or not isinstance(tokens[k + 1], Word):
                    raise ShellSyntaxError(f"'{tok.op}' needs a file name")
                k += 1
                tok.target = tokens[k]  # type: ignore[assignment]
            cmd.redirects.append(tok)
        else:
            empty = not cmd.words and not cmd.redirects
            if tok == "|":
                if empty:
                    raise ShellSyntaxError("unexpected '|'")
                pipeline.append(cmd)
            else:
                if empty:
                    if tok == ";" and connector == ";" and not pipeline:
                        k += 1
                        continue  # empty statements (blank lines, a trailing ';') are fine
                    raise ShellSyntaxError(f"unexpected '{tok}'")
                pipeline.append(cmd)
                script.append((connector, pipeline))
                connector, pipeline = tok, []
            cmd = Command()
        k += 1
    if cmd.words or cmd.redirects:
        pipeline.append(cmd)
    elif pipeline:
        raise ShellSyntaxError("unexpected end after '|'")
    if pipeline:
        script.append((connector, pipeline))
    elif connector != ";":
        raise ShellSyntaxError(f"unexpected end after '{connector}'")
    return script


# -- running -----------------------------------------------------------------------------------


def default_env() -> dict[str, str]:
    """The environment adbd gives a shell (all exported)."""
    return {
        "PATH": "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin",
        "HOME": "/",
        "ANDROID_DATA": "/data",
        "ANDROID_ROOT": "/system",
        "EXTERNAL_STORAGE": "/sdcard",
        "TMPDIR": "/data/local/tmp",
        "SHELL": SH,
        "USER": "shell",
        "HOSTNAME": "localhost",
    }


def _glob(state: PhoneState, cwd: str, pattern: str) -> list[str]:
    """Device paths matching a glob pattern; [] when none (the caller keeps the word)."""
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p]
    found = ["/" if absolute else ""]
    for part in parts:
        nxt: list[str] = []
        for base in found:
            if not any(ch in part for ch in _GLOB_CHARS):
                nxt.append(f"{base.rstrip('/')}/{part}" if base else part)
                continue
            try:
                check_list(device_abspath(cwd, base or "."))
                host = state.host_path(device_abspath(cwd, base or "."))
                names = sorted(os.listdir(host))
            except (OSError, PermissionError):
                continue
            for name in names:
                if name.startswith(".") and not part.startswith("."):
                    continue
                if fnmatch.fnmatchcase(name, part):
                    nxt.append(f"{base.rstrip('/')}/{name}" if base else name)
        found = nxt
    out = []
    for p in found:
        try:
            if os.path.lexists(state.host_path(device_abspath(cwd, p))):
                out.append(p)
        except PermissionError:
            pass
    return out


def fnmatch_escape(s: str) -> str:
    return "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in s)


class _Unset(Exception):
    """`set -u` and an unset variable: mksh names it and ends the shell."""


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)

    def read(self, n: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


class Shell:
    """Runs `sh -c` command lines on one phone, with the command table it is given."""

    def __init__(self, state: PhoneState, commands: Mapping[str, Handler]):
        self.state = state
        self.commands = commands

    def run(self, cmdline: str, stdin: Reader | None, stdout: Writer, stderr: Writer,
            cancel: threading.Event, env: dict[str, str] | None = None) -> int:
        """Run one command line; returns the exit status (0-255). `env`: the exported
        variables it starts with (adbd's environment when None)."""
        start = default_env() if env is None else dict(env)
        session = Session(start, exported=set(start))
        try:
            script = parse(cmdline)
        except ShellSyntaxError as exc:
            stderr(f"{SH}: syntax error: {exc}\n".encode())
            return 1
        status = 0
        try:
            for k, (connector, pipeline) in enumerate(script):
                if cancel.is_set():
                    break
                if (connector == "&&" and status != 0) or (connector == "||" and status == 0):
                    continue
                status = self._run_pipeline(session, pipeline, stdin or _Discard(), stdout, stderr, cancel)
                session.status = status
                tested = k + 1 < len(script) and script[k + 1][0] in ("&&", "||")
                if status and not tested and "errexit" in session.options:
                    raise ExitShell(status)
        except ExitShell as exc:
            status = exc.code
        return status & 0xFF

    def run_argv(self, ctx: Ctx, argv: list[str]) -> int:
        """Run one already expanded command with ctx's streams and session (for `exec`)."""
        name, handler = self._resolve(argv[0])
        if handler is None:
            ctx.warn(f"{SH}: {argv[0]}: inaccessible or not found\n")
            return 127
        return ctx.derive(name, argv[1:]).run(handler)

    def _resolve(self, word: str) -> tuple[str, Handler | None]:
        name = word
        if name.startswith("/system/bin/") or name.startswith("/system/xbin/"):
            name = name.rsplit("/", 1)[1]
        return name, self.commands.get(name)

    def _run_pipeline(self, session: Session, pipeline: Pipeline, stdin: Reader, stdout: Writer, stderr: Writer,
                      cancel: threading.Event) -> int:
        # Stages run one after another; each stage's output is buffered for the next. Enough for
        # `pm list packages | grep x`; only the last stage streams (as `am instrument` needs).
        status, failed, feed = 0, 0, stdin
        for i, cmd in enumerate(pipeline):
            last = i == len(pipeline) - 1
            buf = io.BytesIO()
            status = self._run_command(session, cmd, feed, stdout if last else buf.write, stderr, cancel)
            failed = status or failed
            feed = io.BytesIO(buf.getvalue())
        return failed if "pipefail" in session.options and failed else status

    def _expand(self, word: Word, session: Session) -> list[str]:
        literal = [p for p in word.parts if p.var or p.text]
        if len(literal) == 1 and literal[0].var and literal[0].text == "@":
            return list(session.positional)  # "$@": one word per parameter
        text, pattern, magic = "", "", False
        for part in word.parts:
            if part.var:
                value = self._variable(part.text, session)
                text += value
                pattern += fnmatch_escape(value)
            else:
                text += part.text
                if part.quoted:
                    pattern += fnmatch_escape(part.text)
                else:
                    pattern += part.text
                    magic = magic or any(ch in part.text for ch in _GLOB_CHARS)
        if magic:
            matches = _glob(self.state, session.cwd, pattern)
            if matches:
                return matches
        if not text and all(p.var and not p.quoted for p in word.parts):
            return []  # an unquoted empty variable vanishes, as in sh
        return [text]

    @staticmethod
    def _variable(name: str, session: Session) -> str:
        if name == "?":
            return str(session.status)
        if name == "$":
            return "1"
        if name == "#":
            return str(len(session.positional))
        if name in ("@", "*"):
            return " ".join(session.positional)
        if name.isdigit():
            k = int(name)
            return SH if k == 0 else session.positional[k - 1] if k <= len(session.positional) else ""
        if name not in session.env and "nounset" in session.options:
            raise _Unset(name)
        return session.env.get(name, "")

    def _run_command(self, session: Session, cmd: Command, stdin: Reader, stdout: Writer, stderr: Writer,
                     cancel: threading.Event) -> int:
        argv: list[str] = []
        assignments: dict[str, str] = {}
        try:
            for word in cmd.words:
                first = word.parts[0]
                if not argv and not first.var and not first.quoted and "=" in first.text \
                        and first.text.split("=", 1)[0].isidentifier():
                    name, _, value = first.text.partition("=")
                    rest = Word([Part(value, False)] + word.parts[1:])
                    assignments[name] = "".join(self._expand(rest, session))
                    continue
                argv.extend(self._expand(word, session))
        except _Unset as unset:
            stderr(f"{SH}: {unset}: parameter not set\n".encode())
            raise ExitShell(1) from None
        if "xtrace" in session.options and (argv or assignments):
            shown = [f"{k}={v}" for k, v in assignments.items()] + argv
            stderr(("+ " + " ".join(shown) + "\n").encode())

        fds: dict[int, object] = {0: stdin, 1: stdout, 2: stderr}
        opened = []
        try:
            for r in cmd.redirects:
                if r.op == ">&":
                    if r.dup not in fds:
                        stderr(f"{SH}: {r.dup}: bad file descriptor\n".encode())
                        return 1
                    fds[r.fd] = fds[r.dup]
                    continue
                target = "".join(self._expand(r.target, session)) if r.target else ""
                path = device_abspath(session.cwd, target)
                try:
                    fh: _Discard | IO[Any] = _Discard()
                    if path != "/dev/null":
                        if r.op != "<":
                            check_write(path, target)
                        fh = open(self.state.host_path(path), {"<": "rb", ">": "wb", ">>": "ab"}[r.op])
                        opened.append(fh)
                except (OSError, PermissionError) as exc:
                    verb = "open" if r.op == "<" else "create"
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "Permission denied"
                    stderr(f"{SH}: can't {verb} {target}: {reason}\n".encode())
                    return 1
                fds[r.fd] = fh if r.op == "<" else fh.write

            if not argv:
                session.env.update(assignments)
                return 0
            name, handler = self._resolve(argv[0])
            err = fds[2]
            if handler is None:
                err(f"{SH}: {argv[0]}: inaccessible or not found\n".encode())  # type: ignore[operator]
                return 127
            env = {**session.exported_env(), **assignments}
            ctx = Ctx(self.state, name, argv[1:], fds[0], fds[1], err,  # type: ignore[arg-type]
                      cancel, session, env, self)
            return ctx.run(handler)
        finally:
            for fh in opened:
                fh.close()
