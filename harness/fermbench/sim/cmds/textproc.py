"""Text and file-walking tools (toybox): cut, sed, sort, printf, find, xargs. The common options
of each; an option toybox has that the simulation lacks says so."""

from __future__ import annotations

import os
import re
import stat as stat_mod
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ..permissions import list_error
from ..process import CommandFailed, Ctx, UsageError
from .registry import command
from .text import _inputs


def _lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", "surrogateescape")
    return text.splitlines()


def _ranges(spec: str, ctx: Ctx) -> list[tuple[int, int]]:
    out = []
    for piece in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", piece)
        if not m or not (m.group(1) or m.group(3)):
            raise CommandFailed(f"cut: bad list '{spec}'", 1)
        lo = int(m.group(1) or 1)
        hi = int(m.group(3)) if m.group(3) else (lo if not m.group(2) else 1 << 30)
        out.append((lo, hi))
    return out


@command("cut", summary="cut fields or characters: -d DELIM -f LIST, -c LIST, -b LIST, -s")
def cut(ctx: Ctx) -> int:
    opts, operands = ctx.flags("s", values="dfcb", real="bcdfsCDFOn")
    kind = next((k for k in "fcb" if k in opts), None)
    if kind is None:
        raise UsageError("Needs -bcf")
    ranges = _ranges(str(opts[kind]), ctx)

    def wanted(i: int) -> bool:
        return any(lo <= i <= hi for lo, hi in ranges)

    delim = str(opts.get("d", "\t"))
    status = 0
    for _, data in _inputs(ctx, operands):
        if data is None:
            status = 1
            continue
        for line in _lines(data):
            if kind == "f":
                if delim not in line:
                    if not opts.get("s"):
                        ctx.write(line + "\n")
                    continue
                fields = line.split(delim)
                ctx.write(delim.join(f for i, f in enumerate(fields, 1) if wanted(i)) + "\n")
            else:
                ctx.write("".join(c for i, c in enumerate(line, 1) if wanted(i)) + "\n")
    return status


# -- sed -------------------------------------------------------------------------------------------


def _sed_regex(pattern: str, extended: bool) -> str:
    """A POSIX basic (or extended) regular expression as Python's re spells it."""
    if extended:
        return pattern
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out += nxt if nxt in "(){}|+?" else "\\" + nxt
            i += 2
            continue
        out += "\\" + c if c in "(){}|+?" else c
        i += 1
    return out


def _split_sed(script: str) -> list[str]:
    """Commands of a sed script, split at ';' and newlines outside s/// and y/// arguments."""
    cmds, cur, i = [], "", 0
    while i < len(script):
        c = script[i]
        if c in ";\n" and not _inside_s(cur):
            cmds.append(cur.strip())
            cur = ""
        else:
            cur += c
            if c == "\\" and i + 1 < len(script):
                cur += script[i + 1]
                i += 1
        i += 1
    cmds.append(cur.strip())
    return [c for c in cmds if c]


def _inside_s(cur: str) -> bool:
    m = re.match(r"^\s*(?:\d+|\$|/(?:[^/\\]|\\.)*/)?(?:,(?:\d+|\$|/(?:[^/\\]|\\.)*/))?\s*s(.)", cur)
    if not m:
        return False
    sep = m.group(1)
    rest = cur[m.end() :]
    count = len(re.findall(r"(?<!\\)" + re.escape(sep), rest))
    return count < 2


def _address(text: str) -> tuple[object | None, str]:
    m = re.match(r"(\d+|\$|/((?:[^/\\]|\\.)*)/)", text)
    if not m:
        return None, text
    token = m.group(1)
    value: object = int(token) if token.isdigit() else "$" if token == "$" else re.compile(m.group(2))
    return value, text[m.end() :]


@command(
    "sed",
    summary="stream editor: -n -e SCRIPT -E/-r -i; commands s/RE/TEXT/[gpI N], d, p, q, = with "
    "line, $ and /RE/ addresses and ranges",
)
def sed(ctx: Ctx) -> int:
    opts, operands = ctx.flags(
        "nEri", values="e", longs={"quiet": "n", "in-place": "i", "regexp-extended": "E"}, real="EinrszfeS"
    )
    extended = bool(opts.get("E") or opts.get("r"))
    if "e" in opts:
        script = str(opts["e"])
    elif operands:
        script, operands = operands[0], operands[1:]
    else:
        raise UsageError("Needs 1 argument")
    program: list[tuple[object, object, str, Any]] = []
    for raw in _split_sed(script):
        a1, rest = _address(raw)
        a2 = None
        if a1 is not None and rest.startswith(","):
            a2, rest = _address(rest[1:])
        rest = rest.strip()
        if not rest:
            raise CommandFailed(f"sed: bad command '{raw}'", 1)
        op = rest[0]
        if op == "s":
            sep = rest[1]
            parts = re.split(r"(?<!\\)" + re.escape(sep), rest[2:])
            if len(parts) != 3:
                raise CommandFailed(f"sed: unmatched '{sep}'", 1)
            flags = parts[2]
            regex = re.compile(_sed_regex(parts[0].replace("\\" + sep, sep), extended), re.I if "I" in flags else 0)
            repl = re.sub(r"\\(\d)", r"\\g<\1>", parts[1].replace("\\" + sep, sep)).replace("&", r"\g<0>")
            repl = repl.replace(r"\\g<0>", "&")
            n = re.search(r"\d+", flags)
            program.append((a1, a2, "s", (regex, repl, "g" in flags, "p" in flags, int(n.group()) if n else 1)))
        elif op in "dpq=":
            program.append((a1, a2, op, None))
        else:
            raise CommandFailed(f"sed: unknown command '{op}'", 1)

    def run(lines: list[str]) -> list[str]:
        out: list[str] = []
        active: dict[int, bool] = {}
        for no, line in enumerate(lines, 1):
            last = no == len(lines)
            deleted = quit_ = False
            for k, (a1, a2, op, arg) in enumerate(program):
                if not _matches(a1, a2, no, line, last, active, k):
                    continue
                if op == "s":
                    regex, repl, every, show, nth = arg
                    count = [0]

                    def sub(m: re.Match[str]) -> str:  # used only by the regex.sub just below
                        count[0] += 1  # noqa: B023
                        return m.expand(repl) if every and count[0] >= nth or count[0] == nth else m.group(0)  # noqa: B023

                    new = regex.sub(sub, line)
                    if new != line or count[0] >= nth:
                        line = new
                        if show and count[0] >= nth:
                            out.append(line)
                elif op == "d":
                    deleted = True
                    break
                elif op == "p":
                    out.append(line)
                elif op == "=":
                    out.append(str(no))
                elif op == "q":
                    quit_ = True
                    break
            if not deleted and not opts.get("n"):
                out.append(line)
            if quit_:
                break
        return out

    status = 0
    if opts.get("i"):
        for name in operands:
            host = ctx.writable(name)
            if not host.is_file():
                status = ctx.error(f"{name}: No such file or directory")
                continue
            host.write_text("".join(x + "\n" for x in run(_lines(host.read_bytes()))), "utf-8", "surrogateescape")
        return status
    for _, data in _inputs(ctx, operands):
        if data is None:
            status = 1
            continue
        ctx.write("".join(x + "\n" for x in run(_lines(data))))
    return status


def _matches(a1: object, a2: object, no: int, line: str, last: bool, active: dict[int, bool], k: int) -> bool:
    def hit(a: object) -> bool:
        if a is None:
            return True
        if a == "$":
            return last
        if isinstance(a, int):
            return no == a
        return bool(a.search(line))  # type: ignore[attr-defined]

    if a2 is None:
        return hit(a1)
    if active.get(k):
        if (isinstance(a2, int) and no >= a2) or (not isinstance(a2, int) and hit(a2)):
            active[k] = False
        return True
    if hit(a1):
        active[k] = not (isinstance(a2, int) and a2 <= no)
        return True
    return False


# -- sort ------------------------------------------------------------------------------------------


@command("sort", summary="sort lines: -n -r -u -f -k N[,M] -t SEP -h")
def sort(ctx: Ctx) -> int:
    opts, operands = ctx.flags("nrufh", values="kt", real="CMSTVbcdfghikmnorstuxz")
    lines: list[str] = []
    status = 0
    for _, data in _inputs(ctx, operands):
        if data is None:
            status = 2
            continue
        lines.extend(_lines(data))
    sep = str(opts["t"]) if "t" in opts else None

    def field(line: str) -> str:
        if "k" not in opts:
            return line
        m = re.fullmatch(r"(\d+)(?:,(\d+))?", str(opts["k"]))
        if not m:
            raise CommandFailed(f"sort: bad -k '{opts['k']}'", 2)
        lo, hi = int(m.group(1)), int(m.group(2) or 0)
        parts = line.split(sep) if sep is not None else line.split()
        chosen = parts[lo - 1 : hi if hi else None]
        return (sep or " ").join(chosen)

    def number(text: str) -> float:
        m = re.match(r"\s*(-?\d+(?:\.\d+)?)([KMGTPE]?)", text)
        if not m:
            return 0.0
        scale = 1024 ** " KMGTPE".index(m.group(2) or " ") if opts.get("h") else 1
        return float(m.group(1)) * scale

    def key(line: str) -> tuple[float, str]:
        f = field(line)
        text = f.lower() if opts.get("f") else f
        return (number(f), line) if opts.get("n") or opts.get("h") else (0.0, text)

    lines.sort(key=key, reverse=bool(opts.get("r")))
    if opts.get("u"):
        seen, unique = set(), []
        for line in lines:
            k = key(line)[0] if opts.get("n") else field(line)
            if k not in seen:
                seen.add(k)
                unique.append(line)
        lines = unique
    ctx.write("".join(x + "\n" for x in lines))
    return status


# -- printf ----------------------------------------------------------------------------------------


@command(
    "printf",
    summary="formatted output: %s %d %i %x %X %o %c %f %e %g %b %%, widths, \\n \\t escapes; "
    "the format is reused for the rest of the arguments",
)
def printf(ctx: Ctx) -> int:
    if not ctx.args:
        raise UsageError("Needs 1 argument")
    fmt, args = ctx.args[0], list(ctx.args[1:])
    spec = re.compile(r"%([-+ #0]*)(\d*|\*)(?:\.(\d*))?([sdiouxXcfeEgGb%])")
    status = 0

    def escapes(text: str) -> str:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape")

    def one(m: re.Match[str]) -> str:
        nonlocal status
        flags, width, prec, conv = m.groups()
        if conv == "%":
            return "%"
        value = args.pop(0) if args else ""
        if conv in "sb":
            text = escapes(value) if conv == "b" else value
            return ("%" + flags + width + ("." + prec if prec is not None else "") + "s") % text
        if conv == "c":
            return value[:1]
        try:
            number = float(value or 0) if conv in "feEgG" else int(value or "0", 0)
        except ValueError:
            ctx.error(f"invalid number '{value}'")
            status = 1
            number = 0
        pyconv = "d" if conv in "iu" else conv
        return ("%" + flags + width + ("." + prec if prec is not None else "") + pyconv) % number

    out = ""
    while True:
        out += spec.sub(one, escapes(fmt))
        if not args or not spec.search(fmt):
            break
    ctx.write(out)
    return status


# -- find and xargs --------------------------------------------------------------------------------


@command(
    "find",
    summary="walk folders: -name -iname -type f|d|l -maxdepth N -mindepth N -newer FILE -size "
    "N[ck] -print -print0 (unlistable folders: Permission denied)",
)
def find(ctx: Ctx) -> int:
    args = list(ctx.args)
    roots = []
    while args and not args[0].startswith("-") and args[0] not in ("(", "!"):
        roots.append(args.pop(0))
    roots = roots or ["."]
    tests: list[tuple[str, str]] = []
    maxdepth, mindepth, null = 1 << 30, 0, False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-print", "-print0"):
            null = null or a == "-print0"
            i += 1
            continue
        if a not in ("-name", "-iname", "-type", "-maxdepth", "-mindepth", "-newer", "-size", "-path"):
            if a in ("-exec", "-o", "-a", "!", "(", "-delete", "-perm", "-user", "-mtime", "-prune"):
                raise CommandFailed(f"find: {a} is not simulated by the fermbench phone", 1)
            raise CommandFailed(f"find: Unknown option '{a}'", 1)
        if i + 1 >= len(args):
            raise CommandFailed(f"find: '{a}' needs 1 arg", 1)
        value = args[i + 1]
        if a == "-maxdepth":
            maxdepth = int(value)
        elif a == "-mindepth":
            mindepth = int(value)
        else:
            tests.append((a, value))
        i += 2
    status = 0

    def passes(host: Path, shown: str) -> bool:
        st = os.lstat(host)
        for test, value in tests:
            name = os.path.basename(shown.rstrip("/")) or shown
            if test == "-name" and not fnmatchcase(name, value):
                return False
            if test == "-iname" and not fnmatchcase(name.lower(), value.lower()):
                return False
            if test == "-path" and not fnmatchcase(shown, value):
                return False
            if test == "-type":
                kind = "d" if stat_mod.S_ISDIR(st.st_mode) else "l" if stat_mod.S_ISLNK(st.st_mode) else "f"
                if kind != value:
                    return False
            if test == "-newer" and not st.st_mtime > os.stat(ctx.host(value)).st_mtime:
                return False
            if test == "-size":
                m = re.fullmatch(r"([-+]?)(\d+)([ck]?)", value)
                if not m:
                    raise CommandFailed(f"find: bad -size '{value}'", 1)
                unit = {"c": 1, "k": 1024, "": 512}[m.group(3)]
                size = -(-st.st_size // unit)
                n = int(m.group(2))
                if not (size > n if m.group(1) == "+" else size < n if m.group(1) == "-" else size == n):
                    return False
        return True

    end = "\0" if null else "\n"

    def walk(host: Path, shown: str, device: str, depth: int) -> None:
        nonlocal status
        if depth >= mindepth and passes(host, shown):
            ctx.write(shown + end)
        if not host.is_dir() or host.is_symlink() or depth >= maxdepth or ctx.cancel.is_set():
            return
        if list_error(device) is not None:
            status = ctx.error(f"{shown}: Permission denied")
            return
        for name in sorted(os.listdir(host)):
            walk(
                host / name,
                f"{shown.rstrip('/')}/{name}" if shown != "/" else f"/{name}",
                f"{device.rstrip('/')}/{name}",
                depth + 1,
            )

    for root in roots:
        host = ctx.host(root)
        if not os.path.lexists(host):
            status = ctx.error(f"{root}: No such file or directory")
            continue
        walk(host, root, ctx.abspath(root), 0)
    return status


@command("xargs", summary="run a command with arguments from stdin: -0 -n N -I STR -t -r; default echo")
def xargs(ctx: Ctx) -> int:
    opts, _ = ctx.flags("0tr", values="nI", args=_leading_options(ctx.args), real="0EILPadenprstxo")
    command_words = ctx.args[len(_leading_options(ctx.args)) :] or ["echo"]
    data = b"".join(ctx.read_stdin()).decode("utf-8", "surrogateescape")
    items = list(data.split("\0")) if opts.get("0") else data.split() if "I" not in opts else data.splitlines()
    items = [x for x in items if x != ""]
    if not items and opts.get("r"):
        return 0
    if "I" in opts:
        batches = [[w.replace(str(opts["I"]), item) for w in command_words] for item in items]
    else:
        n = int(str(opts["n"])) if "n" in opts else max(1, len(items))
        batches = [command_words + items[k : k + n] for k in range(0, max(1, len(items)), n)]
    status = 0
    for argv in batches:
        if opts.get("t"):
            ctx.warn(" ".join(argv) + "\n")
        rc = ctx.shell.run_argv(ctx, argv)
        if rc == 127:
            return 127
        if rc:
            status = 123
    return status


def _leading_options(args: list[str]) -> list[str]:
    """xargs' own options end at the first word that is not one (the command starts there)."""
    out, i = [], 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        out.append(args[i])
        if args[i] in ("-n", "-I") and i + 1 < len(args):
            out.append(args[i + 1])
            i += 1
        i += 1
    return out
