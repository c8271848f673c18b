"""Builtins of the phone's shell (mksh): true, false, echo, exit, cd, pwd, test/[, export,
unset, set, exec, and the `sh -c` child shell. Their errors read `/system/bin/sh: NAME: ...`."""

from __future__ import annotations

import os
import re
import stat as stat_mod

from ..process import SH, CommandFailed, Ctx, ExitShell
from .registry import command

# `set` options: letter -> name (as `set -o NAME` spells it)
_SET_OPTIONS = {"e": "errexit", "u": "nounset", "x": "xtrace"}
_LONG_SET_OPTIONS = set(_SET_OPTIONS.values()) | {"pipefail"}
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")


def _sh_options(ctx: Ctx, allowed: str) -> tuple[set[str], list[str]]:
    """Leading `-x` options of a builtin (mksh getopt): the letters and the remaining words."""
    letters: set[str] = set()
    args = list(ctx.args)
    while args and args[0].startswith("-") and args[0] != "-":
        word = args.pop(0)
        if word == "--":
            break
        for c in word[1:]:
            if c not in allowed:
                raise CommandFailed(f"{SH}: {ctx.name}: -{c}: unknown option", 1)
            letters.add(c)
    return letters, args


def _quoted(value: str) -> str:
    """A value as mksh prints it back (single quotes when it needs them)."""
    return value if _SAFE_VALUE.fullmatch(value) else "'" + value.replace("'", "'\\''") + "'"


@command("true", summary="exit 0", builtin=True)
def true(ctx: Ctx) -> int:
    return 0


@command("false", summary="exit 1", builtin=True)
def false(ctx: Ctx) -> int:
    return 1


@command("echo", summary="print arguments; -n (no newline), -e/-E (escapes)", builtin=True)
def echo(ctx: Ctx) -> int:
    args, newline, escapes = list(ctx.args), True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args.pop(0)
    text = " ".join(args)
    if escapes:
        text = text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    ctx.write(text + ("\n" if newline else ""))
    return 0


@command("exit", summary="end the command line with a status (default: the last one)", builtin=True)
def exit_(ctx: Ctx) -> int:
    code = ctx.session.status
    if ctx.args:
        try:
            code = int(ctx.args[0])
        except ValueError:
            return ctx.sh_error(f"{ctx.args[0]}: bad number")
    raise ExitShell(code)


@command("cd", summary="change the working folder", builtin=True)
def cd(ctx: Ctx) -> int:
    target = ctx.abspath(ctx.args[0] if ctx.args else "/")
    host = ctx.state.host_path(target)
    if not host.is_dir():
        return ctx.sh_error(f"{target}: {'Not a directory' if host.exists() else 'No such file or directory'}", 2)
    parts: list[str] = []
    for p in target.split("/"):
        if p == "..":
            parts = parts[:-1]
        elif p and p != ".":
            parts.append(p)
    ctx.session.cwd = "/" + "/".join(parts)
    return 0


@command("pwd", summary="print the working folder", builtin=True)
def pwd(ctx: Ctx) -> int:
    ctx.write(ctx.session.cwd + "\n")
    return 0


@command("export", summary="export variables: NAME[=VALUE]...; -p (or no argument) lists them", builtin=True)
def export(ctx: Ctx) -> int:
    letters, names = _sh_options(ctx, "p")
    session = ctx.session
    if not names:
        for name in sorted(session.exported):
            if name in session.env:
                ctx.write(f"export {name}={_quoted(session.env[name])}\n")
        return 0
    status = 0
    for word in names:
        name, eq, value = word.partition("=")
        if not name.isidentifier():
            status = ctx.sh_error(f"{word}: is not an identifier")
            continue
        if eq:
            session.env[name] = value
        session.exported.add(name)
    return status


@command("unset", summary="remove variables: NAME...; -v (variables, the default), -f (functions)", builtin=True)
def unset(ctx: Ctx) -> int:
    letters, names = _sh_options(ctx, "fv")
    if "f" in letters:
        for name in names:
            ctx.session.functions.pop(name, None)
        return 0
    for name in names:
        ctx.session.env.pop(name, None)
        ctx.session.exported.discard(name)
    return 0


@command(
    "set",
    summary="shell options -e -u -x (+ to clear), -o errexit|nounset|xtrace|pipefail, "
    "-- ARGS (positional parameters); no argument lists the variables",
    builtin=True,
)
def set_(ctx: Ctx) -> int:
    session = ctx.session
    if not ctx.args:
        for name in sorted(session.env):
            ctx.write(f"{name}={_quoted(session.env[name])}\n")
        return 0
    args = list(ctx.args)
    while args:
        word = args[0]
        if word == "--":
            session.positional = args[1:]
            return 0
        if word[:1] not in ("-", "+") or len(word) < 2:
            session.positional = args
            return 0
        args.pop(0)
        on = word[0] == "-"
        for c in word[1:]:
            if c == "o":
                if not args:  # `set -o`: list the options
                    for name in sorted(_LONG_SET_OPTIONS):
                        ctx.write(f"{name:<16}{'on' if name in session.options else 'off'}\n")
                    return 0
                name = args.pop(0)
                if name not in _LONG_SET_OPTIONS:
                    return ctx.sh_error(f"{name}: bad option")
            elif c in _SET_OPTIONS:
                name = _SET_OPTIONS[c]
            else:
                return ctx.sh_error(f"{word[0]}{c}: unknown option")
            (session.options.add if on else session.options.discard)(name)
    return 0


@command("exec", summary="run a command in place of the shell (the command line ends with its status)", builtin=True)
def exec_(ctx: Ctx) -> int:
    if not ctx.args:
        return 0  # redirections alone: nothing to replace the shell with
    raise ExitShell(ctx.shell.run_argv(ctx, ctx.args))


@command(
    "test",
    "[",
    summary="file tests (-e -f -d -L -s -r -w -x), strings (-z -n = !=), integers (-eq -ne -lt -gt -le -ge), !",
    builtin=True,
)
def test(ctx: Ctx) -> int:
    args = list(ctx.args)
    if ctx.name == "[":
        if not args or args[-1] != "]":
            return ctx.sh_error("missing ]", 2)
        args.pop()
    negate = False
    if args and args[0] == "!":
        negate, args = True, args[1:]
    try:
        result = _test(ctx, args)
    except ValueError as exc:
        return ctx.sh_error(str(exc), 2)
    return 0 if result != negate else 1


def _test(ctx: Ctx, args: list[str]) -> bool:
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        if op == "-z":
            return operand == ""
        if op == "-n":
            return operand != ""
        tests = {"-e": lambda m: True, "-f": stat_mod.S_ISREG, "-d": stat_mod.S_ISDIR, "-L": stat_mod.S_ISLNK}
        if op in tests or op in ("-s", "-r", "-w", "-x"):
            try:
                st = os.lstat(ctx.host(operand)) if op == "-L" else os.stat(ctx.host(operand))
            except (OSError, PermissionError):
                return False
            if op == "-s":
                return st.st_size > 0
            if op in ("-r", "-w", "-x"):
                return bool(st.st_mode & {"-r": 0o444, "-w": 0o222, "-x": 0o111}[op])
            return bool(tests[op](st.st_mode))
        raise ValueError(f"{op}: unknown operator")
    if len(args) == 3:
        a, op, b = args
        if op == "=" or op == "==":
            return a == b
        if op == "!=":
            return a != b
        ints = {
            "-eq": int.__eq__,
            "-ne": int.__ne__,
            "-lt": int.__lt__,
            "-gt": int.__gt__,
            "-le": int.__le__,
            "-ge": int.__ge__,
        }
        if op in ints:
            try:
                return ints[op](int(a), int(b))
            except ValueError:
                raise ValueError("bad number") from None
        raise ValueError(f"{op}: unknown operator")
    raise ValueError("too many arguments (the simulated test has no -a/-o)")


@command("sh", summary="sh -c COMMANDS: a child shell with the exported variables")
def sh(ctx: Ctx) -> int:
    """`sh -c COMMANDS`: a child shell (its `exit` ends only the child)."""
    if len(ctx.args) < 2 or ctx.args[0] != "-c":
        return ctx.error("the simulated phone runs only `sh -c COMMANDS`", 2)
    return ctx.shell.run(ctx.args[1], ctx.stdin, ctx.out, ctx.warn_bytes, ctx.cancel, env=ctx.env)
