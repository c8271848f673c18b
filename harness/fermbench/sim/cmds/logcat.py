"""`logcat`: read (-d, -t, -T, follow), clear (-c) and size (-g) the phone's log buffers.

Formats (-v) follow liblog's logprint: brief, process, tag, thread, raw, time, threadtime
(default), long, with the modifiers year, usec, nsec, epoch, monotonic, uid, zone, UTC, color.
Filters follow its filterspecs (`TAG[:PRIORITY]`, `*:S`, -s), then ANDROID_LOG_TAGS when the
command line has none. Errors are logcat's own (`logcat: Invalid -v 'x'.`, exit 1).
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field

from ..logbuf import BUFFERS, DEFAULT_BUFFERS, MAX_PAYLOAD, PRIORITIES, LogEntry
from ..process import CommandFailed, Ctx, Writer
from .registry import command

_FORMATS = ("brief", "process", "tag", "thread", "raw", "time", "threadtime", "long")
_MODIFIERS = (
    "color",
    "colour",
    "usec",
    "nsec",
    "printable",
    "year",
    "zone",
    "epoch",
    "monotonic",
    "uid",
    "descriptive",
    "UTC",
)
_COLORS = {"V": 231, "D": 75, "I": 40, "W": 166, "E": 196, "F": 196}
_LEVEL = {p: i for i, p in enumerate(PRIORITIES)} | {"S": len(PRIORITIES)}
_USER_NAMES = {0: "root", 1000: "system", 2000: "shell"}

_SHORT_ARG = set("tTGfrnvbPme")  # letters taking an argument (getopt's "x:")
_SHORT_FLAG = set("cdDhLgsQBSp")
_LONG = {
    "binary": ("B", False),
    "buffer": ("b", True),
    "buffer-size": ("g", None),
    "clear": ("c", False),
    "dividers": ("D", False),
    "file": ("f", True),
    "format": ("v", True),
    "grep": ("e", True),
    "head": ("m", True),
    "help": ("h", False),
    "last": ("L", False),
    "max-count": ("m", True),
    "pid": ("pid", True),
    "prune": ("p", None),
    "regex": ("e", True),
    "rotate-count": ("n", True),
    "rotate-kbytes": ("r", True),
    "statistics": ("S", False),
    "tail": ("t", True),
    "uid": ("uid", True),
    "wrap": ("wrap", None),
    "print": ("print", False),
    "proto": ("proto", False),
    "id": ("id", True),
    "debug": ("debug", False),
}
# Options a phone's logcat has that the simulated one does not carry out.
_NOT_SIMULATED = {"B", "L", "G", "p", "P", "S", "r", "n", "Q", "uid", "wrap", "print", "proto", "id", "debug"}


def _fail(message: str) -> CommandFailed:
    return CommandFailed(f"logcat: {message}", 1)


@dataclass
class _Options:
    dump: bool = False
    clear: bool = False
    get_size: bool = False
    dividers: bool = False
    silent: bool = False
    tail: int = 0
    since: float | None = None
    regex: re.Pattern[str] | None = None
    max_count: int = 0
    pid: int | None = None
    file: str | None = None
    buffers: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)


def _parse(args: list[str]) -> _Options:
    """getopt_long over logcat's options; non-options (anywhere) are filterspecs."""
    o = _Options()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            o.filters.extend(args[i:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name not in _LONG:
                raise _fail(f"Unknown option '{a}'.")
            key, takes = _LONG[name]
            if takes and not eq:
                if i >= len(args):
                    raise _fail(f"Option '{a}' needs an argument.")
                val, i = args[i], i + 1
            _apply(o, key, val if (takes or eq) else None, a)
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in _SHORT_ARG:
                    val = a[j + 1 :]
                    if not val:
                        if i >= len(args):
                            raise _fail(f"Option '{a}' needs an argument.")
                        val, i = args[i], i + 1
                    _apply(o, c, val, a)
                    break
                if c not in _SHORT_FLAG:
                    raise _fail(f"Unknown option '{a}'.")
                _apply(o, c, None, a)
                j += 1
        else:
            o.filters.append(a)
    return o


def _apply(o: _Options, key: str, val: str | None, word: str) -> None:
    if key in _NOT_SIMULATED:
        raise _fail(f"option '{word}' is not simulated by the fermbench phone")
    if key == "h":
        raise _Help()
    if key == "c":
        o.clear = True
    elif key == "d":
        o.dump = True
    elif key == "D":
        o.dividers = True
    elif key == "s":
        o.silent = True
    elif key == "g":
        if val is not None:
            raise _fail("option '-G' is not simulated by the fermbench phone")
        o.get_size = True
    elif key in ("t", "T"):
        o.dump = o.dump or key == "t"
        assert val is not None
        if val.isdigit():
            o.tail = max(int(val), 1)
        else:
            o.since = _parse_time(val, key)
    elif key == "e":
        try:
            o.regex = re.compile(val or "")
        except re.error as exc:
            raise _fail(f"bad regex '{val}': {exc}") from None
    elif key == "m":
        if not (val or "").isdigit() or int(val or "0") < 1:
            raise _fail(f"-m '{val}' isn't an integer greater than zero.")
        o.max_count = int(val or "0")
    elif key == "pid":
        if not (val or "").isdigit():
            raise _fail(f"pid '{val}' out of range.")
        o.pid = int(val or "0")
    elif key == "f":
        o.file = val
    elif key == "b":
        for name in re.split(r"[,:; \t\n\r\f]+", val or ""):
            if name == "default":
                o.buffers.extend(DEFAULT_BUFFERS)
            elif name == "all":
                o.buffers.extend(BUFFERS)
            elif name in BUFFERS:
                o.buffers.append(name)
            elif name:
                raise _fail(f"Unknown -b buffer '{name}'.")
    elif key == "v":
        for name in re.split(r"[,:; \t\n\r\f]+", val or ""):
            if name and name not in _FORMATS and name not in _MODIFIERS:
                raise _fail(f"Invalid -v '{name}'.")
            if name:
                o.formats.append(name)


class _Help(Exception):
    pass


def _parse_time(text: str, flag: str) -> float:
    """-t/-T TIME: 'MM-DD hh:mm:ss.mmm', 'YYYY-MM-DD hh:mm:ss.mmm' or 'sssss.mmm' (UTC)."""
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%m-%d %H:%M:%S.%f"):
        try:
            parsed = time.strptime(text, fmt)
        except ValueError:
            continue
        year = parsed.tm_year if "%Y" in fmt else time.gmtime().tm_year
        frac = float("0." + text.rsplit(".", 1)[1])
        return calendar.timegm((year, *parsed[1:6])) + frac  # the phone's clock is UTC
    try:
        return float(text)
    except ValueError:
        raise _fail(f"-{flag} '{text}' not in time format.") from None


def _filter_rules(specs: list[str], silent: bool) -> tuple[int, dict[str, int]]:
    """The default level and per-tag levels of filterspecs (`TAG[:P]`, `*:P`)."""
    default = _LEVEL["S"] if silent else 0
    tags: dict[str, int] = {}
    for spec in " ".join(specs).split():
        tag, colon, pri = spec.partition(":")
        if not colon:
            pri = "D" if tag == "*" else "V"
        level = _LEVEL.get(pri.upper()) if len(pri) == 1 else None
        if not tag or level is None:
            raise _fail(f"Invalid filter expression '{spec}'.")
        if tag == "*":
            default = level
        else:
            tags[tag] = level
    return default, tags


class _Printer:
    """One entry as text, in the chosen format and modifiers."""

    def __init__(self, names: list[str], boot_time: float):
        formats = [n for n in names if n in _FORMATS]
        self.format = formats[-1] if formats else "threadtime"
        self.mods = {n for n in names if n in _MODIFIERS}
        self.boot_time = boot_time

    def _time(self, t: float) -> str:
        if "monotonic" in self.mods:
            secs, text = t - self.boot_time, f"{int(t - self.boot_time):6d}"
        elif "epoch" in self.mods:
            secs, text = t, f"{int(t):19d}"
        else:
            secs = t
            text = time.strftime("%Y-%m-%d %H:%M:%S" if "year" in self.mods else "%m-%d %H:%M:%S", time.gmtime(t))
        frac = secs % 1
        text += (
            f".{int(frac * 1e9):09d}"
            if "nsec" in self.mods
            else f".{int(frac * 1e6):06d}"
            if "usec" in self.mods
            else f".{int(frac * 1e3):03d}"
        )
        if "zone" in self.mods and not {"epoch", "monotonic"} & self.mods:
            text += " +0000"
        return text

    def _uid(self, uid: int) -> str:
        if "uid" not in self.mods:
            return ""
        name = _USER_NAMES.get(uid, "")
        return f"{name:>5}:" if name and len(name) <= 5 else f"{uid:5d}:"

    def render(self, e: LogEntry) -> str:
        t, uid, pri, tag = self._time(e.time), self._uid(e.uid), e.priority, e.tag
        suffix = "\n"
        fmt = self.format
        if fmt == "tag":
            prefix = f"{pri}/{tag:<8}: "
        elif fmt == "process":
            prefix, suffix = f"{pri}({uid}{e.pid:5d}) ", f"  ({tag})\n"
        elif fmt == "thread":
            prefix = f"{pri}({uid}{e.pid:5d}:{e.tid:5d}) "
        elif fmt == "raw":
            prefix = ""
        elif fmt == "time":
            prefix = f"{t} {pri}/{tag:<8}({uid}{e.pid:5d}): "
        elif fmt == "threadtime":
            prefix = f"{t} {uid.replace(':', ' ')}{e.pid:5d} {e.tid:5d} {pri} {tag:<8}: "
        elif fmt == "long":
            return f"[ {t} {uid}{e.pid:5d}:{e.tid:5d} {pri}/{tag:<8} ]\n{e.message}\n\n"
        else:  # brief
            prefix = f"{pri}/{tag:<8}({uid}{e.pid:5d}): "
        if "color" in self.mods or "colour" in self.mods:
            prefix, suffix = f"\x1b[38;5;{_COLORS.get(pri, 231)}m" + prefix, "\x1b[0m" + suffix
        return "".join(prefix + line + suffix for line in e.message.split("\n"))


def _size(n: int) -> str:
    unit = ""
    for unit in ("", "Ki", "Mi", "Gi"):
        if n < 1024 or unit == "Gi":
            break
        n //= 1024
    return f"{n} {unit}B"


@command(
    "logcat",
    summary="log buffers: -d -c -g -s -t N|TIME -T -e REGEX -m N --pid -f FILE -D, "
    "-b BUFFER, -v FORMAT[,MODIFIER], filterspecs TAG[:V|D|I|W|E|F|S]",
)
def logcat(ctx: Ctx) -> int:
    try:
        o = _parse(ctx.args)
    except _Help:
        ctx.write(
            "Usage: logcat [OPTION]... [FILTERSPEC]...\n(the simulated phone's logcat: see "
            "`fermbench sim --help-commands`)\n"
        )
        return 0
    buffers = tuple(dict.fromkeys(o.buffers)) or DEFAULT_BUFFERS
    logs = ctx.state.logs
    if o.clear:
        logs.clear(buffers)
        return 0
    if o.get_size:
        for name in buffers:
            used = _size(logs.size_bytes(name))
            ctx.write(
                f"{name}: ring buffer is 256 KiB ({used} consumed, {used} readable), "
                f"max entry is 5120 B, max payload is {MAX_PAYLOAD} B\n"
            )
        return 0
    if not o.formats and ctx.env.get("ANDROID_PRINTF_LOG"):
        o.formats = [f for f in re.split(r"[,:; \t]+", ctx.env["ANDROID_PRINTF_LOG"]) if f in _FORMATS + _MODIFIERS]
    specs = o.filters or ([ctx.env["ANDROID_LOG_TAGS"]] if ctx.env.get("ANDROID_LOG_TAGS") else [])
    default, tags = _filter_rules(specs, o.silent)
    printer = _Printer(o.formats, ctx.state.boot_time)
    sink: Writer = ctx.out
    out_file = None
    if o.file is not None:
        out_file = open(ctx.writable(o.file), "ab")
        sink = out_file.write
    try:
        return _read(ctx, o, buffers, default, tags, printer, sink)
    finally:
        if out_file is not None:
            out_file.close()


def _read(
    ctx: Ctx, o: _Options, buffers: tuple[str, ...], default: int, tags: dict[str, int], printer: _Printer, sink: Writer
) -> int:
    logs = ctx.state.logs
    entries = logs.entries(buffers)
    if o.since is not None:
        entries = [e for e in entries if e.time >= o.since]
    if o.tail:
        entries = entries[-o.tail :]  # logd cuts the tail before logcat filters, as on a phone
    seen = logs.last_seq()
    started: set[str] = set()
    last_buffer, printed = "", 0

    def emit(batch: list[LogEntry]) -> bool:
        """Print what passes the filters; False once -m is reached."""
        nonlocal last_buffer, printed
        text = []
        for e in batch:
            if _LEVEL[e.priority] < tags.get(e.tag, default) or (o.pid is not None and e.pid != o.pid):
                continue
            if o.regex is not None and not o.regex.search(e.message):
                continue
            if e.buffer != last_buffer:
                if e.buffer not in started or o.dividers:
                    text.append(f"--------- {'switch to' if e.buffer in started else 'beginning of'} {e.buffer}\n")
                started.add(e.buffer)
                last_buffer = e.buffer
            text.append(printer.render(e))
            printed += 1
            if o.max_count and printed >= o.max_count:
                sink("".join(text).encode("utf-8"))
                return False
        if text:
            sink("".join(text).encode("utf-8"))
        return True

    if not emit(entries) or o.dump:
        return 0
    while not ctx.cancel.is_set():  # follow the log until the stream closes
        if logs.wait(seen, timeout=0.2):
            newest = logs.last_seq()
            batch = [e for e in logs.entries(buffers, after=seen) if e.seq <= newest]
            seen = newest
            if not emit(batch):
                return 0
    return 0
