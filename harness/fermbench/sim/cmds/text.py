"""Text tools (toybox): grep, head, tail. Usage errors follow toybox (`grep` exits 2)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..process import CommandFailed, Ctx, UsageError
from .registry import command


def _inputs(ctx: Ctx, operands: list[str], quiet: bool = False) -> Iterator[tuple[str, bytes | None]]:
    """(name, bytes) of each file operand, or of stdin when there is none; None (after the
    tool's error line, unless `quiet`) for a file that cannot be read."""
    if not operands or operands == ["-"]:
        yield "-", b"".join(ctx.read_stdin())
        return
    for name in operands:
        host = ctx.host(name)
        if host.is_dir() or not host.exists():
            if not quiet:
                ctx.error(f"{name}: {'Is a directory' if host.is_dir() else 'No such file or directory'}")
            yield name, None
        else:
            yield name, host.read_bytes()


_GREP_LONGS = {
    "count": "c",
    "quiet": "q",
    "silent": "q",
    "ignore-case": "i",
    "invert-match": "v",
    "line-number": "n",
    "no-filename": "h",
    "with-filename": "H",
    "files-with-matches": "l",
    "fixed-strings": "F",
    "extended-regexp": "E",
    "word-regexp": "w",
    "line-regexp": "x",
    "only-matching": "o",
    "regexp": "e",
    "no-messages": "s",
}


@command("grep", "egrep", "fgrep", summary="search lines: -e -E -F -i -v -c -q -n -h -H -l -o -s -w -x")
def grep(ctx: Ctx) -> int:
    opts, operands = ctx.flags("qvicFEwxnhHlos", values="e", longs=_GREP_LONGS, argfail=2)
    if "e" in opts:
        pattern = str(opts["e"])
    elif operands:
        pattern = operands.pop(0)
    else:
        raise UsageError("Needs 1 argument", 2)
    if opts.get("F") or ctx.name == "fgrep":
        pattern = re.escape(pattern)
    if opts.get("w"):
        pattern = rf"\b(?:{pattern})\b"
    if opts.get("x"):
        pattern = rf"(?:{pattern})\Z"
    try:
        rx = re.compile(pattern, re.IGNORECASE if opts.get("i") else 0)
    except re.error as exc:
        raise CommandFailed(f"grep: bad regex '{pattern}': {exc}", 2) from None
    matched, failed = 0, False
    named = (len(operands) > 1 or opts.get("H")) and not opts.get("h")
    for name, data in _inputs(ctx, operands, quiet=bool(opts.get("s"))):
        if data is None:
            failed = True
            continue
        count = 0
        for num, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            found = rx.search(line)
            if bool(found) == bool(opts.get("v")):
                continue
            count += 1
            if opts.get("q"):
                return 0
            if opts.get("l"):
                break
            if not opts.get("c"):
                prefix = (f"{name}:" if named else "") + (f"{num}:" if opts.get("n") else "")
                shown = found.group(0) if opts.get("o") and found else line
                ctx.write(prefix + shown + "\n")
        if opts.get("l") and count:
            ctx.write(f"{name}\n")
        elif opts.get("c"):
            ctx.write((f"{name}:" if named else "") + f"{count}\n")
        matched += count
    return 2 if failed and not opts.get("q") else (0 if matched else 1)


def _count(value: object, flag: str) -> int:
    text = str(value)
    if not text.isdigit():
        raise UsageError(f"-{flag} not integer: {text}")
    return int(text)


def _head_tail(ctx: Ctx, tail: bool) -> int:
    args = [f"-n{a[1:]}" if re.fullmatch(r"-\d+", a) else a for a in ctx.args]
    longs = {"lines": "n", "bytes": "c"}
    opts, operands = ctx.flags("fFqv" if tail else "qv", values="nc", args=args, longs=longs)
    if opts.get("f") or opts.get("F"):
        return ctx.error("-f (follow) is not simulated by the fermbench phone")
    status = 0
    for _name, data in _inputs(ctx, operands):
        if data is None:
            status = 1
            continue
        if "c" in opts:
            n = _count(opts["c"], "c")
            ctx.out((data[-n:] if n else b"") if tail else data[:n])
        else:
            n = _count(opts.get("n", 10), "n")
            lines = data.splitlines(keepends=True)
            ctx.out(b"".join((lines[-n:] if n else []) if tail else lines[:n]))
    return status


@command("head", summary="first lines or bytes: -n N, -N, -c N")
def head(ctx: Ctx) -> int:
    return _head_tail(ctx, tail=False)


@command("tail", summary="last lines or bytes: -n N, -N, -c N (no -f)")
def tail(ctx: Ctx) -> int:
    return _head_tail(ctx, tail=True)
