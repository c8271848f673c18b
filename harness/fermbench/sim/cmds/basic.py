"""Shell builtins and small tools: echo, true/false, sleep, exit, cd/pwd, test, grep, head/tail,
getprop/setprop, settings, logcat."""

from __future__ import annotations

import os
import re
import stat as stat_mod

from ..shell import ExitShell
from .base import Ctx, UsageError, command


@command("true")
def true(ctx: Ctx) -> int:
    return 0


@command("false")
def false(ctx: Ctx) -> int:
    return 1


@command("echo")
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


@command("sleep")
def sleep(ctx: Ctx) -> int:
    if len(ctx.args) != 1:
        raise UsageError("Needs 1 argument")
    try:
        seconds = float(ctx.args[0].rstrip("s"))
    except ValueError:
        raise UsageError(f"Not a number '{ctx.args[0]}'") from None
    ctx.cancel.wait(seconds)
    return 0


@command("exit")
def exit_(ctx: Ctx) -> int:
    code = ctx.session.status
    if ctx.args:
        try:
            code = int(ctx.args[0])
        except ValueError:
            raise UsageError(f"{ctx.args[0]}: bad number") from None
    raise ExitShell(code)


@command("cd")
def cd(ctx: Ctx) -> int:
    target = ctx.abspath(ctx.args[0] if ctx.args else "/")
    if not ctx.state.host_path(target).is_dir():
        return ctx.error(f"{target}: No such file or directory" if not ctx.state.host_path(target).exists()
                         else f"{target}: Not a directory", 2)
    parts: list[str] = []
    for p in target.split("/"):
        if p == "..":
            parts = parts[:-1]
        elif p and p != ".":
            parts.append(p)
    ctx.session.cwd = "/" + "/".join(parts)
    return 0


@command("pwd")
def pwd(ctx: Ctx) -> int:
    ctx.write(ctx.session.cwd + "\n")
    return 0


@command("test", "[")
def test(ctx: Ctx) -> int:
    args = list(ctx.args)
    if ctx.name == "[":
        if not args or args[-1] != "]":
            return ctx.error("missing ]", 2)
        args.pop()
    negate = False
    if args and args[0] == "!":
        negate, args = True, args[1:]
    try:
        result = _test(ctx, args)
    except UsageError as exc:
        return ctx.error(str(exc), 2)
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
        raise UsageError(f"{op}: unknown operator")
    if len(args) == 3:
        a, op, b = args
        if op == "=" or op == "==":
            return a == b
        if op == "!=":
            return a != b
        ints = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-gt": int.__gt__,
                "-le": int.__le__, "-ge": int.__ge__}
        if op in ints:
            try:
                return ints[op](int(a), int(b))
            except ValueError:
                raise UsageError("bad number") from None
        raise UsageError(f"{op}: unknown operator")
    raise UsageError("too many arguments (the simulated test has no -a/-o)")


def _inputs(ctx: Ctx, operands: list[str]):
    """(name, bytes) of each file operand, or of stdin when there is none."""
    if not operands or operands == ["-"]:
        yield "-", b"".join(ctx.read_stdin())
        return
    for name in operands:
        host = ctx.host(name)
        if host.is_dir():
            ctx.error(f"{name}: Is a directory")
            yield name, None
        elif not host.exists():
            ctx.error(f"{name}: No such file or directory")
            yield name, None
        else:
            yield name, host.read_bytes()


@command("grep")
def grep(ctx: Ctx) -> int:
    opts, operands = ctx.flags("qvicFEwxnh", values="e")
    if "e" in opts:
        pattern = str(opts["e"])
    elif operands:
        pattern = operands.pop(0)
    else:
        return ctx.error("Missing pattern", 2)
    if opts.get("F"):
        pattern = re.escape(pattern)
    if opts.get("w"):
        pattern = rf"\b(?:{pattern})\b"
    if opts.get("x"):
        pattern = rf"(?:{pattern})\Z"
    try:
        rx = re.compile(pattern, re.IGNORECASE if opts.get("i") else 0)
    except re.error as exc:
        return ctx.error(f"bad regex '{pattern}': {exc}", 2)
    matched, failed = 0, False
    many = len(operands) > 1 and not opts.get("h")
    for name, data in _inputs(ctx, operands):
        if data is None:
            failed = True
            continue
        count = 0
        for num, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if bool(rx.search(line)) != bool(opts.get("v")):
                count += 1
                if opts.get("q"):
                    return 0
                if not opts.get("c"):
                    prefix = (f"{name}:" if many else "") + (f"{num}:" if opts.get("n") else "")
                    ctx.write(prefix + line + "\n")
        if opts.get("c"):
            ctx.write((f"{name}:" if many else "") + f"{count}\n")
        matched += count
    return 2 if failed and not opts.get("q") else (0 if matched else 1)


def _head_tail(ctx: Ctx, tail: bool) -> int:
    args = [f"-n{a[1:]}" if re.fullmatch(r"-\d+", a) else a for a in ctx.args]
    opts, operands = ctx.flags("", values="nc", args=args)
    status = 0
    for name, data in _inputs(ctx, operands):
        if data is None:
            status = 1
            continue
        if "c" in opts:
            n = int(str(opts["c"]))
            ctx.out(data[-n:] if tail else data[:n])
        else:
            n = int(str(opts.get("n", 10)))
            lines = data.splitlines(keepends=True)
            ctx.out(b"".join(lines[-n:] if tail and n else lines[:n] if not tail else []))
    return status


@command("head")
def head(ctx: Ctx) -> int:
    return _head_tail(ctx, tail=False)


@command("tail")
def tail(ctx: Ctx) -> int:
    return _head_tail(ctx, tail=True)


@command("getprop")
def getprop(ctx: Ctx) -> int:
    if not ctx.args:
        with ctx.state.lock:
            items = sorted(ctx.state.props.items())
        ctx.write("".join(f"[{k}]: [{v}]\n" for k, v in items))
        return 0
    key = ctx.args[0]
    value = ctx.state.getprop(key)
    if not value and len(ctx.args) > 1:
        value = ctx.args[1]
    ctx.write(value + "\n")
    return 0


@command("setprop")
def setprop(ctx: Ctx) -> int:
    if len(ctx.args) != 2:
        return ctx.error("usage: setprop NAME VALUE")
    key, value = ctx.args
    if key.startswith("ro.") and ctx.state.getprop(key):
        return ctx.error(f"failed to set property '{key}' to '{value}'.\nSee dmesg for error reason.")
    ctx.state.setprop(key, value)
    return 0


@command("settings")
def settings(ctx: Ctx) -> int:
    args = list(ctx.args)
    if args and args[0] == "--user":
        args = args[2:]
    if len(args) < 2:
        return ctx.error("usage: settings [--user N] get|put|delete|list NAMESPACE [KEY [VALUE]]", 255)
    verb, ns = args[0], args[1]
    table = ctx.state.settings.get(ns)
    if table is None:
        return ctx.error(f"Invalid namespace '{ns}'", 255)
    with ctx.state.lock:
        if verb == "get" and len(args) == 3:
            ctx.write(table.get(args[2], "null") + "\n")
        elif verb == "put" and len(args) >= 4:
            table[args[2]] = args[3]
        elif verb == "delete" and len(args) == 3:
            ctx.write(f"Deleted {1 if table.pop(args[2], None) is not None else 0} rows\n")
        elif verb == "list" and len(args) == 2:
            ctx.write("".join(f"{k}={v}\n" for k, v in sorted(table.items())))
        else:
            return ctx.error(f"bad arguments for '{verb}'", 255)
    return 0


@command("logcat")
def logcat(ctx: Ctx) -> int:
    opts, operands = ctx.flags("dc", values="vtsb")
    if opts.get("v", "threadtime") != "threadtime":
        return ctx.error(f"format '{opts['v']}' is not simulated (only threadtime)")
    if opts.get("c"):
        ctx.state.clear_log()
        return 0
    lines = ctx.state.log_lines()
    tags = ([str(opts["s"])] if "s" in opts else []) + [o.split(":", 1)[0] for o in operands if o != "*:S"]
    if tags:
        lines = [ln for ln in lines if any(f" {t}: " in ln for t in tags)]
    if "t" in opts:
        lines = lines[-int(str(opts["t"])):]
    ctx.write("".join(ln + "\n" for ln in lines))
    if not opts.get("d"):
        ctx.cancel.wait()  # a live logcat runs until the stream closes
    return 0


@command("sh")
def sh(ctx: Ctx) -> int:
    """`sh -c COMMANDS`: a child shell (its `exit` ends only the child)."""
    from ..shell import run_shell

    if len(ctx.args) < 2 or ctx.args[0] != "-c":
        return ctx.error("the simulated phone runs only `sh -c COMMANDS`", 2)
    return run_shell(ctx.state, ctx.args[1], ctx.stdin, ctx.out, ctx.warn_bytes, ctx.cancel)
