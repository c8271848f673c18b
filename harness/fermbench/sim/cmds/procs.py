"""Processes and the system as toybox shows them: ps, pidof, kill, uname, log, screencap.

The process table is the phone's fixed system processes, the shell itself and the app processes
the phone runs (`PhoneState.processes`). The shell user may signal only its own processes: the
kernel refuses the rest (EPERM), as on a phone."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ..logbuf import SYSTEM_SERVER
from ..process import SHELL_PID, CommandFailed, Ctx, ExitShell, UsageError
from ..state import DISPLAY_SIZE
from .registry import command


@dataclass(frozen=True)
class Proc:
    user: str
    pid: int
    ppid: int
    name: str
    vsz: int = 0  # KiB
    rss: int = 0  # KiB
    state: str = "S"
    wchan: str = "0"


def processes(ctx: Ctx) -> list[Proc]:
    """Every process, by pid: the system's, adbd and its shell, and the running apps."""
    procs = [
        Proc("root", 1, 0, "init", 10874692, 12428, wchan="do_epoll_wait"),
        Proc("root", 2, 0, "[kthreadd]", 0, 0, wchan="kthreadd"),
        Proc("logd", 380, 1, "logd", 10917420, 8108, wchan="__do_sys_rt_sigsuspend"),
        Proc("root", 570, 1, "zygote64", 15532384, 151260, wchan="do_sys_poll"),
        Proc("system", SYSTEM_SERVER[0], 570, "system_server", 22637456, 312004, wchan="do_epoll_wait"),
        Proc("shell", 2481, 1, "adbd", 10970236, 9772, wchan="do_epoll_wait"),
        Proc("shell", SHELL_PID, 2481, "sh", 10825780, 3992, wchan="do_wait"),
    ]
    with ctx.state.lock:
        apps = sorted(ctx.state.processes.items(), key=lambda kv: kv[1])
    for k, (package, pid) in enumerate(apps):
        procs.append(Proc(f"u0_a{201 + k}", pid, 570, package, 16895872, 121440, wchan="do_epoll_wait"))
    procs.append(Proc("shell", SHELL_PID + 1, SHELL_PID, ctx.name, 10836104, 3720, state="R"))
    return procs


# toybox ps fields: header, width (negative: left aligned), value
_FIELDS: dict[str, tuple[int, Callable[[Proc], str]]] = {
    "USER": (-12, lambda p: p.user),
    "PID": (5, lambda p: str(p.pid)),
    "PPID": (5, lambda p: str(p.ppid)),
    "VSZ": (7, lambda p: str(p.vsz)),
    "RSS": (6, lambda p: str(p.rss)),
    "WCHAN": (-16, lambda p: p.wchan),
    "ADDR": (4, lambda p: "0"),
    "S": (1, lambda p: p.state),
    "NAME": (-27, lambda p: p.name),
    "CMD": (-27, lambda p: p.name),
    "ARGS": (-27, lambda p: p.name),
    "CMDLINE": (-27, lambda p: p.name),
    "COMM": (-15, lambda p: p.name),
    "UID": (5, lambda p: str(_uid(p.user))),
}
_DEFAULT = ("USER", "PID", "PPID", "VSZ", "RSS", "WCHAN", "ADDR", "S", "NAME")


def _uid(user: str) -> int:
    m = re.fullmatch(r"u0_a(\d+)", user)
    return 10000 + int(m.group(1)) if m else {"root": 0, "system": 1000, "shell": 2000, "logd": 1036}[user]


@command(
    "ps",
    summary="processes: -A/-e (all; default: this shell's), -p PID[,PID], -o FIELD[,FIELD] "
    "(USER PID PPID VSZ RSS WCHAN ADDR S NAME CMD ARGS COMM UID)",
)
def ps(ctx: Ctx) -> int:
    opts, operands = ctx.flags("Ae", values="po", real="AaedtZMkopgusTw")
    procs = processes(ctx)
    if "p" in opts:
        wanted = set()
        for pid in re.split(r"[ ,]", str(opts["p"])):
            if not pid.isdigit():
                raise CommandFailed(f"ps: bad -p '{pid}'", 1)
            wanted.add(int(pid))
        procs = [p for p in procs if p.pid in wanted]
    elif not (opts.get("A") or opts.get("e")):
        procs = [p for p in procs if p.pid >= SHELL_PID]  # what this terminal session runs
    if operands:  # toybox matches NAME operands against the process name
        procs = [p for p in procs if p.name in operands]
    fields = tuple(f.upper() for f in re.split(r"[ ,]", str(opts["o"])) if f) if "o" in opts else _DEFAULT
    for f in fields:
        if f not in _FIELDS:
            raise CommandFailed(f"ps: bad -o {f.lower()}", 1)
    rows = [list(fields)] + [[_FIELDS[f][1](p) for f in fields] for p in procs]
    out = []
    for row in rows:
        cells = []
        for k, (f, value) in enumerate(zip(fields, row)):
            width = _FIELDS[f][0]
            last = k == len(fields) - 1
            cells.append(value if last and width < 0 else f"{value:<{-width}}" if width < 0 else f"{value:>{width}}")
        out.append(" ".join(cells).rstrip() + "\n")
    ctx.write("".join(out))
    return 0 if procs else 1


@command("pidof", summary="pids of the named processes, newest first; -s (one only); exit 1 if none")
def pidof(ctx: Ctx) -> int:
    opts, operands = ctx.flags("s", real="sox")
    pids = [p.pid for p in processes(ctx) for name in operands if p.name == name]
    pids.sort(reverse=True)
    if opts.get("s"):
        pids = pids[:1]
    if pids:
        ctx.write(" ".join(map(str, pids)) + "\n")
    return 0 if pids else 1


_SIGNALS = (
    "HUP",
    "INT",
    "QUIT",
    "ILL",
    "TRAP",
    "ABRT",
    "BUS",
    "FPE",
    "KILL",
    "USR1",
    "SEGV",
    "USR2",
    "PIPE",
    "ALRM",
    "TERM",
    "STKFLT",
    "CHLD",
    "CONT",
    "STOP",
    "TSTP",
    "TTIN",
    "TTOU",
    "URG",
    "XCPU",
    "XFSZ",
    "VTALRM",
    "PROF",
    "WINCH",
    "IO",
    "PWR",
    "SYS",
)


@command(
    "kill",
    summary="send a signal: kill [-s SIG|-SIG|-N] PID...; -l lists signals; only the shell's own "
    "processes may be signalled (others: Operation not permitted)",
)
def kill(ctx: Ctx) -> int:
    args = list(ctx.args)
    if args[:1] == ["-l"]:
        ctx.write("".join(f"{k:2}) SIG{name}\n" for k, name in enumerate(_SIGNALS, 1)))
        return 0
    signal = "TERM"
    if args and args[0] == "-s":
        if len(args) < 2:
            raise UsageError("Missing argument to -s")
        signal, args = args[1], args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        signal, args = args[0][1:], args[1:]
    name = signal.upper().removeprefix("SIG")
    if not (name in _SIGNALS or (name.isdigit() and 0 <= int(name) <= 64)):
        raise CommandFailed(f"kill: Unknown signal '{signal}'", 1)
    number = int(name) if name.isdigit() else _SIGNALS.index(name) + 1
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise UsageError("Needs 1 argument")
    owners = {p.pid: p for p in processes(ctx)}
    status = 0
    for target in args:
        if not re.fullmatch(r"-?\d+", target):
            status = ctx.error(f"bad pid '{target}'")
            continue
        proc = owners.get(int(target))
        if proc is None:
            status = ctx.error(f"pid {target}: No such process")
        elif proc.user != "shell":
            status = ctx.error(f"pid {target}: Operation not permitted")
        elif proc.pid == SHELL_PID and number not in (0, 17, 18, 23, 28):  # all but CHLD CONT URG WINCH end it
            raise ExitShell(128 + number)
    return status


def machine(ctx: Ctx) -> str:
    abi = ctx.state.identity.abis[0] if ctx.state.identity.abis else "arm64-v8a"
    return {"arm64-v8a": "aarch64", "armeabi-v7a": "armv8l", "x86_64": "x86_64", "x86": "i686"}.get(abi, abi)


KERNEL_RELEASE = "5.10.198-android13-4-00050-g12f3388846c3-ab11920634"
KERNEL_VERSION = "#1 SMP PREEMPT Mon Jun 3 20:36:51 UTC 2024"


@command("uname", summary="system name: -a -s -n -r -v -m -o")
def uname(ctx: Ctx) -> int:
    opts, _ = ctx.flags("asnrvmpo", real="asnrvmpo")
    parts = {"s": "Linux", "n": "localhost", "r": KERNEL_RELEASE, "v": KERNEL_VERSION, "m": machine(ctx), "o": "Toybox"}
    chosen = "snrvmo" if opts.get("a") else "".join(k for k in "snrvmo" if opts.get(k)) or "s"
    if opts.get("p") and not opts.get("a"):
        chosen += "m"
    ctx.write(" ".join(parts[k] for k in chosen) + "\n")
    return 0


@command("log", summary="write to the log: log [-p v|d|i|w|e|f] [-t TAG] MESSAGE...")
def log(ctx: Ctx) -> int:
    opts, operands = ctx.flags("", values="pt", real="pt")
    priority = str(opts.get("p", "i")).upper()[:1]
    if priority not in "VDIWEF" or not priority:
        raise CommandFailed(f"log: bad -p '{opts.get('p')}'", 1)
    if not operands:
        raise UsageError("Needs 1 argument")
    ctx.state.log(priority, str(opts.get("t", "log")), " ".join(operands), pid=SHELL_PID + 1, uid=2000)
    return 0


def _png(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG of one colour (what the simulated screen shows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" + rgb * width
    raw = zlib.compress(row * height, 6)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


SCREEN_RGB = b"\x20\x21\x24"  # a dark home screen


@command(
    "screencap",
    summary="the screen: -p (PNG), FILE (PNG if it ends in .png, else raw); without -p to "
    "stdout: width, height, format, dataspace (uint32 each) and RGBA pixels",
)
def screencap(ctx: Ctx) -> int:
    opts, operands = ctx.flags("p", values="d", real="pdj")
    width, height = ctx.state.display_size_override or DISPLAY_SIZE
    as_png = bool(opts.get("p")) or (operands and operands[0].endswith(".png"))
    if as_png:
        data = _png(width, height, SCREEN_RGB)
    else:  # RGBA_8888 (format 1), sRGB dataspace (142671872)
        data = struct.pack("<4I", width, height, 1, 142671872) + (SCREEN_RGB + b"\xff") * (width * height)
    if operands:
        with open(ctx.writable(operands[0]), "wb") as fh:
            fh.write(data)
    else:
        ctx.out(data)
    return 0
