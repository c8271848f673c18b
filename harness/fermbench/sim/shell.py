"""The phone's shell (what adbd's `/system/bin/sh -c` runs: Android's mksh), in-process.

The language is parsed by sh_syntax.py (quoting, expansions, `$( )`, backquotes, `$(( ))`,
if/for/while/until/case, functions, `{ }`, `( )`) and run here; no host shell or process is ever
started. The shell is handed its command table (`fermbench.sim.cmds.COMMANDS` on a simulated
phone); any other name answers "inaccessible or not found" with exit code 127, as mksh does.
Refused with a syntax error rather than misread: `&` (background jobs) and here-documents.
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
import threading
from collections.abc import Collection, Mapping
from typing import IO, Any

from .permissions import check_list, check_write
from .process import (
    SH,
    SHELL_PID,
    Ctx,
    ExitShell,
    Handler,
    LoopControl,
    Reader,
    ReturnFromFunction,
    Session,
    Writer,
    device_abspath,
)
from .sh_arith import ArithError, evaluate
from .sh_syntax import (
    RESERVED,
    AndOr,
    Arith,
    Case,
    CmdSub,
    For,
    FuncDef,
    Group,
    If,
    Lit,
    Node,
    Param,
    Pipeline,
    Redirect,
    Seq,
    ShellSyntaxError,
    Simple,
    While,
    Word,
    parse_node,
)
from .state import PhoneState

_GLOB_CHARS = frozenset("*?[")

__all__ = ["Shell", "ShellSyntaxError", "default_env", "parse"]


def parse(text: str) -> Node:
    """The syntax tree of a command line; ShellSyntaxError if the shell would refuse it."""
    return parse_node(text)


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


class _ExpansionError(Exception):
    """`${X:?msg}`, a bad arithmetic expression: mksh prints the message and ends the shell."""


def _pattern(word_text: str) -> str:
    """A shell pattern (case, ${X#p}) as a regular expression."""
    return fnmatch.translate(word_text)


class Shell:
    """Runs `sh -c` command lines on one phone, with the command table it is given."""

    def __init__(self, state: PhoneState, commands: Mapping[str, Handler], builtins: Collection[str] = ()):
        self.state = state
        self.commands = commands
        self.builtins = frozenset(builtins)  # names in `commands` that are shell builtins, not files

    # -- entry points ------------------------------------------------------------------------

    def run(
        self,
        cmdline: str,
        stdin: Reader | None,
        stdout: Writer,
        stderr: Writer,
        cancel: threading.Event,
        env: dict[str, str] | None = None,
    ) -> int:
        """Run one command line; returns the exit status (0-255). `env`: the exported
        variables it starts with (adbd's environment when None)."""
        start = default_env() if env is None else dict(env)
        session = Session(start, exported=set(start))
        try:
            tree = parse(cmdline)
        except ShellSyntaxError as exc:
            stderr(f"{SH}: syntax error: {exc}\n".encode())
            return 1
        return self._run_top(session, tree, stdin or _Discard(), stdout, stderr, cancel)

    def _run_top(
        self, session: Session, tree: Node, stdin: Reader, stdout: Writer, stderr: Writer, cancel: threading.Event
    ) -> int:
        try:
            status = self._exec(tree, session, _Io(stdin, stdout, stderr, cancel), False)
        except ExitShell as exc:
            status = exc.code
        except (LoopControl, ReturnFromFunction) as exc:
            status = exc.code if isinstance(exc, ReturnFromFunction) else 0
        return status & 0xFF

    def run_argv(self, ctx: Ctx, argv: list[str]) -> int:
        """Run one already expanded command with ctx's streams and session (for `exec`, `command`)."""
        name, handler = self._resolve(argv[0])
        if handler is None:
            ctx.warn(f"{SH}: {argv[0]}: inaccessible or not found\n")
            return 127
        return ctx.derive(name, argv[1:]).run(handler)

    def eval(self, ctx: Ctx, text: str) -> int:
        """Run a command line in ctx's own session (`eval`)."""
        try:
            tree = parse(text)
        except ShellSyntaxError as exc:
            ctx.warn(f"{SH}: eval: syntax error: {exc}\n")
            return 1
        io_ = _Io(ctx.stdin, ctx.out, ctx.warn_bytes, ctx.cancel)
        return self._exec(tree, ctx.session, io_, False)

    def describe(self, session: Session, name: str) -> tuple[str, str] | None:
        """What a name is, as `command -v` and `type` say it: (kind, where)."""
        if name in RESERVED:
            return "keyword", name
        if name in session.functions:
            return "function", name
        resolved, handler = self._resolve(name)
        if handler is None:
            return None
        if resolved in self.builtins and "/" not in name:
            return "builtin", name
        return "tool", name if name.startswith("/") else f"/system/bin/{resolved}"

    def _resolve(self, word: str) -> tuple[str, Handler | None]:
        name = word
        if name.startswith("/system/bin/") or name.startswith("/system/xbin/"):
            name = name.rsplit("/", 1)[1]
        return name, self.commands.get(name)

    # -- running the tree --------------------------------------------------------------------

    def _exec(self, node: Node, session: Session, io_: _Io, tested: bool) -> int:
        """Run a node; `tested`: its status is tested (if, while, &&, ||, !), so `set -e` lets it fail."""
        if io_.cancel.is_set():
            return session.status
        if isinstance(node, Seq):
            status = 0
            for item in node.items:
                status = self._exec(item, session, io_, tested)
                if io_.cancel.is_set():
                    break
            return status
        if isinstance(node, AndOr):
            status = self._exec(node.first, session, io_, True)
            for op, part in node.rest:
                if (op == "&&") == (status == 0):
                    status = self._exec(part, session, io_, tested if part is node.rest[-1][1] else True)
            session.status = status  # `set -e` spares an and-or list: its last part decided already
            return status
        if isinstance(node, Pipeline):
            return self._pipeline(node, session, io_, tested)
        if isinstance(node, FuncDef):
            session.functions[node.name] = node.body
            return self._done(0, session, tested, node)
        if isinstance(node, Simple):
            return self._done(self._simple(node, session, io_), session, tested, node)
        return self._compound(node, session, io_, tested)

    def _done(self, status: int, session: Session, tested: bool, node: Node) -> int:
        session.status = status
        if status and not tested and "errexit" in session.options and not isinstance(node, AndOr):
            raise ExitShell(status)
        return status

    def _pipeline(self, node: Pipeline, session: Session, io_: _Io, tested: bool) -> int:
        # Stages run one after another; each stage's output is buffered for the next. Enough for
        # `pm list packages | grep x`; only the last stage streams (as `am instrument` needs).
        # Every stage but the last runs in a subshell, as in mksh.
        status, failed, feed = 0, 0, io_.stdin
        for i, cmd in enumerate(node.commands):
            last = i == len(node.commands) - 1
            buf = io.BytesIO()
            stage = _Io(feed, io_.stdout if last else buf.write, io_.stderr, io_.cancel)
            if last:
                status = self._exec(cmd, session, stage, True)
            else:
                status = self._subshell(cmd, session, stage)
            failed = status or failed
            feed = io.BytesIO(buf.getvalue())
        if "pipefail" in session.options and failed:
            status = failed
        if node.negate:
            status = int(status == 0)
            tested = True
        return self._done(status, session, tested, node)

    def _subshell(self, node: Node, session: Session, io_: _Io) -> int:
        child = session.copy()
        try:
            return self._exec(node, child, io_, False)
        except ExitShell as exc:
            return exc.code & 0xFF
        except (LoopControl, ReturnFromFunction) as exc:
            return exc.code if isinstance(exc, ReturnFromFunction) else 0

    def _compound(self, node: Node, session: Session, io_: _Io, tested: bool) -> int:
        redirects: list[Redirect] = getattr(node, "redirects", [])
        opened: list[IO[Any]] = []
        try:
            streams = self._redirect(redirects, session, io_, opened) if redirects else io_
            if streams is None:
                return self._done(1, session, tested, node)
            return self._compound_body(node, session, streams, tested)
        finally:
            for fh in opened:
                fh.close()

    def _compound_body(self, node: Node, session: Session, io_: _Io, tested: bool) -> int:
        if isinstance(node, Group):
            if node.subshell:
                return self._done(self._subshell(node.body, session, io_), session, tested, node)
            return self._exec(node.body, session, io_, tested)
        if isinstance(node, If):
            for cond, body in node.branches:
                if self._exec(cond, session, io_, True) == 0:
                    return self._exec(body, session, io_, tested)
                if io_.cancel.is_set():
                    return 1
            status = self._exec(node.otherwise, session, io_, tested) if node.otherwise is not None else 0
            session.status = status
            return status
        if isinstance(node, (For, While)):
            return self._loop(node, session, io_, tested)
        if isinstance(node, Case):
            subject = self._expand_one(node.subject, session, io_)
            for patterns, arm in node.arms:
                for pat in patterns:
                    if re.match(_pattern(self._pattern_text(pat, session, io_)), subject, re.S):
                        status = self._exec(arm, session, io_, tested) if arm is not None else 0
                        session.status = status
                        return status
            session.status = 0
            return 0
        raise TypeError(f"not a shell node: {node!r}")

    def _loop(self, node: For | While, session: Session, io_: _Io, tested: bool) -> int:
        status = 0
        session.loops += 1
        try:
            if isinstance(node, For):
                items = (
                    self._expand_words(node.items, session, io_) if node.items is not None else list(session.positional)
                )
                steps: Any = iter(items)
            else:
                steps = None
            while not io_.cancel.is_set():
                if isinstance(node, For):
                    item = next(steps, None)
                    if item is None:
                        break
                    session.env[node.name] = item
                else:
                    ok = self._exec(node.cond, session, io_, True) == 0
                    if ok == node.until:
                        break
                try:
                    status = self._exec(node.body, session, io_, tested)
                except LoopControl as jump:
                    if jump.levels > 1:
                        jump.levels -= 1
                        raise
                    status = 0
                    if not jump.again:
                        break
        finally:
            session.loops -= 1
        session.status = status
        return status

    def _simple(self, cmd: Simple, session: Session, io_: _Io) -> int:
        try:
            argv = self._expand_words(cmd.words, session, io_)
            assigns = {name: self._expand_one(word, session, io_) for name, word in cmd.assigns}
        except _Unset as unset:
            io_.stderr(f"{SH}: {unset}: parameter not set\n".encode())
            raise ExitShell(1) from None
        except _ExpansionError as exc:
            io_.stderr(f"{SH}: {exc}\n".encode())
            raise ExitShell(1) from None
        if "xtrace" in session.options and (argv or assigns):
            shown = [f"{k}={v}" for k, v in assigns.items()] + argv
            io_.stderr(("+ " + " ".join(shown) + "\n").encode())
        opened: list[IO[Any]] = []
        try:
            inner = self._redirect(cmd.redirects, session, io_, opened)
            if inner is None:
                return 1
            if not argv:
                # Only assignments (or words that expanded to nothing): the status is that of the
                # last command substitution, else 0, as in sh.
                session.env.update(assigns)
                return session.status if self._had_substitution(cmd) else 0
            body = session.functions.get(argv[0])
            if body is not None:
                return self._call(body, argv, session, inner)
            name, handler = self._resolve(argv[0])
            if handler is None:
                inner.stderr(f"{SH}: {argv[0]}: inaccessible or not found\n".encode())
                return 127
            env = {**session.exported_env(), **assigns}
            ctx = Ctx(
                self.state, name, argv[1:], inner.stdin, inner.stdout, inner.stderr, io_.cancel, session, env, self
            )
            return ctx.run(handler)
        finally:
            for fh in opened:
                fh.close()

    @staticmethod
    def _had_substitution(cmd: Simple) -> bool:
        words = [w for _, w in cmd.assigns] + cmd.words
        return any(isinstance(p, CmdSub) for w in words for p in w.parts)

    def _call(self, body: object, argv: list[str], session: Session, io_: _Io) -> int:
        saved = session.positional
        session.positional = argv[1:]
        session.in_function += 1
        try:
            return self._exec(body, session, io_, False)  # type: ignore[arg-type]
        except ReturnFromFunction as ret:
            return ret.code
        finally:
            session.in_function -= 1
            session.positional = saved

    def _redirect(self, redirects: list[Redirect], session: Session, io_: _Io, opened: list[IO[Any]]) -> _Io | None:
        fds: dict[int, Any] = {0: io_.stdin, 1: io_.stdout, 2: io_.stderr}
        for r in redirects:
            if r.op == ">&":
                if r.dup not in fds:
                    io_.stderr(f"{SH}: {r.dup}: bad file descriptor\n".encode())
                    return None
                fds[r.fd] = fds[r.dup]
                continue
            target = self._expand_one(r.target, session, io_) if r.target else ""
            path = device_abspath(session.cwd, target)
            try:
                fh: _Discard | IO[Any] = _Discard()
                if path != "/dev/null":
                    if r.op != "<":
                        check_write(path, target)
                    fh = open(self.state.host_path(path), {"<": "rb", ">": "wb", ">>": "ab"}[r.op])
                    opened.append(fh)
            except OSError as exc:
                verb = "open" if r.op == "<" else "create"
                reason = exc.strerror or "Permission denied"
                io_.stderr(f"{SH}: can't {verb} {target}: {reason}\n".encode())
                return None
            fds[r.fd] = fh if r.op == "<" else fh.write
        return _Io(fds[0], fds[1], fds[2], io_.cancel)

    # -- expansion ---------------------------------------------------------------------------

    def _expand_words(self, words: list[Word], session: Session, io_: _Io) -> list[str]:
        out: list[str] = []
        for word in words:
            out.extend(self._expand(word, session, io_))
        return out

    def _expand_one(self, word: Word, session: Session, io_: _Io) -> str:
        """A word expanded without field splitting or globbing (assignments, redirections, case)."""
        return "".join(self._part_value(p, session, io_) if not isinstance(p, Lit) else p.text for p in word.parts)

    def _pattern_text(self, word: Word, session: Session, io_: _Io) -> str:
        """A case pattern: quoted parts match themselves, unquoted ones are globs."""
        text = ""
        for p in word.parts:
            value = p.text if isinstance(p, Lit) else self._part_value(p, session, io_)
            text += value if (not p.quoted and isinstance(p, Lit)) else fnmatch_escape(value)
        return text

    def _expand(self, word: Word, session: Session, io_: _Io) -> list[str]:
        """Fields of a word: expansions, field splitting of unquoted results, then globbing."""
        fields: list[tuple[str, str, bool]] = []  # (text, glob pattern, has a quoted part)
        text, pattern, quoted, started = "", "", False, False
        for part in word.parts:
            if isinstance(part, Lit):
                text += part.text
                pattern += fnmatch_escape(part.text) if part.quoted else part.text
                quoted = quoted or part.quoted
                started = started or part.quoted or bool(part.text)
                continue
            if isinstance(part, Param) and part.name == "@" and part.quoted and not part.op:
                params = session.positional
                for k, value in enumerate(params):
                    text += value
                    pattern += fnmatch_escape(value)
                    if k < len(params) - 1:
                        fields.append((text, pattern, True))
                        text, pattern = "", ""
                started = started or bool(params)
                quoted = quoted or bool(params)
                continue
            value = self._part_value(part, session, io_)
            if part.quoted:
                text += value
                pattern += fnmatch_escape(value)
                quoted = started = True
                continue
            pieces = re.split(r"[ \t\n]+", value)
            for k, piece in enumerate(pieces):
                if k:
                    if started or text:
                        fields.append((text, pattern, quoted))
                    text, pattern, quoted, started = "", "", False, False
                text += piece
                pattern += fnmatch_escape(piece)
                started = started or bool(piece)
        if started or text or quoted:
            fields.append((text, pattern, quoted))
        out: list[str] = []
        for text, pattern, _ in fields:
            if any(ch in pattern for ch in _GLOB_CHARS) and pattern != fnmatch_escape(text):
                matches = _glob(self.state, session.cwd, pattern)
                if matches:
                    out.extend(matches)
                    continue
            out.append(text)
        return out

    def _part_value(self, part: Param | CmdSub | Arith, session: Session, io_: _Io) -> str:
        if isinstance(part, CmdSub):
            buf = io.BytesIO()
            status = self._subshell(part.body, session, _Io(io_.stdin, buf.write, io_.stderr, io_.cancel))
            session.status = status
            return buf.getvalue().decode("utf-8", "replace").rstrip("\n")
        if isinstance(part, Arith):
            expr = self._expand_one(part.expr, session, io_)
            try:
                return str(
                    evaluate(expr, lambda n: self._variable(n, session), lambda n, v: session.env.__setitem__(n, v))
                )
            except ArithError as exc:
                raise _ExpansionError(f"{expr.strip()}: {exc}") from None
        return self._param(part, session, io_)

    def _param(self, part: Param, session: Session, io_: _Io) -> str:
        name, op = part.name, part.op
        is_set = self._is_set(name, session)
        if op == "#len":
            return str(len(self._variable(name, session)))
        if not op:
            return self._variable(name, session)
        value = self._variable(name, session, check=False)
        present = is_set and (bool(value) or not op.startswith(":"))

        def arg() -> str:
            return self._expand_one(part.arg, session, io_) if part.arg else ""

        if op in (":-", "-"):
            return value if present else arg()
        if op in (":=", "="):
            if not present:
                session.env[name] = arg()
            return session.env.get(name, "")
        if op in (":+", "+"):
            return arg() if present else ""
        if op in (":?", "?"):
            if not present:
                raise _ExpansionError(f"{name}: {arg() or 'parameter null or not set'}")
            return value
        pat = self._pattern_text(part.arg, session, io_) if part.arg else ""
        regex = _pattern(pat)[4:-3]  # fnmatch.translate gives (?s:...)\Z
        if op in ("#", "##"):
            lazy = regex.replace(".*", ".*?") if op == "#" else regex
            m = re.match(f"(?s:{lazy})", value)
            return value[m.end() :] if m else value
        # % and %%: the shortest (or longest) matching suffix
        starts = range(len(value), -1, -1) if op == "%" else range(0, len(value) + 1)
        for k in starts:
            if re.fullmatch(f"(?s:{regex})", value[k:]):
                return value[:k]
        return value

    @staticmethod
    def _is_set(name: str, session: Session) -> bool:
        if name in ("?", "$", "#", "@", "*", "!", "-") or name == "0":
            return True
        if name.isdigit():
            return int(name) <= len(session.positional)
        return name in session.env

    @staticmethod
    def _variable(name: str, session: Session, check: bool = True) -> str:
        if name == "?":
            return str(session.status)
        if name == "$":
            return str(SHELL_PID)
        if name == "!" or name == "-":
            return ""
        if name == "#":
            return str(len(session.positional))
        if name in ("@", "*"):
            return " ".join(session.positional)
        if name.isdigit():
            k = int(name)
            return SH if k == 0 else session.positional[k - 1] if k <= len(session.positional) else ""
        if check and name not in session.env and "nounset" in session.options:
            raise _Unset(name)
        return session.env.get(name, "")


class _Io:
    """The three streams a node runs with, and the cancel event of the whole command line."""

    def __init__(self, stdin: Any, stdout: Any, stderr: Any, cancel: threading.Event):
        self.stdin, self.stdout, self.stderr, self.cancel = stdin, stdout, stderr, cancel
