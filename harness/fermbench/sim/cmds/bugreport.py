"""`bugreportz` (what `adb bugreport` drives) and the deprecated flat `bugreport`.

The zip is small: the main text (properties, the log, battery, packages), `main_entry.txt`
naming it and `version.txt`, written where dumpstate writes (the shell app's bugreports
folder). `-p` prints BEGIN/PROGRESS/OK lines, which adb reads to pull the file; `-s` streams
the zip; `-v` prints the version (1.2) on stderr, as adb expects.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable

from ..process import Ctx
from .registry import command

VERSION = "1.2"
BUGREPORT_DIR = "/data/user_de/0/com.android.shell/files/bugreports"
_SECTIONS = (
    ("SYSTEM PROPERTIES", "getprop"),
    ("SYSTEM LOG", "logcat -v threadtime -v printable -v uid -d *:v"),
    ("DUMPSYS battery", "dumpsys battery"),
    ("PACKAGES", "pm list packages -f --show-versioncode"),
)


def _section(ctx: Ctx, title: str, cmdline: str) -> str:
    out: list[bytes] = []
    ctx.shell.run(cmdline, None, out.append, out.append, threading.Event())
    return f"------ {title} ({cmdline}) ------\n" + b"".join(out).decode("utf-8", "replace") + "\n"


def _report(ctx: Ctx, name: str, progress: Callable[[int], None]) -> bytes:
    """The zip of report `name`; `progress(percent)` is told as the sections are done."""
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    text = [
        f"========================================================\n== dumpstate: {now}\n"
        f"========================================================\n\n"
        f"Build fingerprint: '{ctx.state.getprop('ro.build.fingerprint')}'\n"
        "Note: a fermbench simulated phone; only the sections below are simulated.\n\n"
    ]
    for k, (title, cmdline) in enumerate(_SECTIONS, 1):
        text.append(_section(ctx, title, cmdline))
        progress(100 * k // (len(_SECTIONS) + 1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.txt", "".join(text))
        z.writestr("main_entry.txt", f"{name}.txt")
        z.writestr("version.txt", "2.0")
    return buf.getvalue()


@command("bugreportz", summary="zipped bug report: -p (progress, then OK:PATH), -s (stream the zip), -v (version)")
def bugreportz(ctx: Ctx) -> int:
    letters = set()
    for a in ctx.args:
        if not a.startswith("-") or len(a) < 2:
            continue  # getopt leaves operands alone; bugreportz takes none and ignores them
        for c in a[1:]:
            if c not in "hpsv":
                ctx.warn(f"bugreportz: unknown option -- {c}\n")
                ctx.write(_USAGE)
                return 1
            letters.add(c)
    if "h" in letters:
        ctx.write(_USAGE)
        return 0
    if "v" in letters:
        ctx.warn(VERSION + "\n")
        return 0
    show = "p" in letters and "s" not in letters
    folder = ctx.state.host_path(BUGREPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)

    def progress(percent: int) -> None:
        if show:
            ctx.write(f"PROGRESS:{percent}/100\n")

    identity = ctx.state.identity
    name = f"bugreport-{identity.product}-{identity.build_id}-{time.strftime('%Y-%m-%d-%H-%M-%S', time.gmtime())}"
    path = f"{BUGREPORT_DIR}/{name}.zip"
    if show:
        ctx.write(f"BEGIN:{path}\n")
    data = _report(ctx, name, progress)
    if "s" in letters:
        ctx.out(data)
        return 0
    (folder / f"{name}.zip").write_bytes(data)
    progress(100)
    ctx.write(f"OK:{path}\n")
    return 0


_USAGE = (
    "usage: bugreportz [-hpsv]\n"
    "  -h: to display this help message\n"
    "  -p: display progress\n"
    "  -s: stream content to standard output\n"
    "  -v: to display the version\n"
    "  or no arguments to generate a zipped bugreport\n"
)


@command("bugreport", summary="the deprecated flat report: prints the warning a phone prints (use bugreportz)")
def bugreport(ctx: Ctx) -> int:
    rule = "=" * 77 + "\n"
    ctx.warn(
        rule + "WARNING: Flat (text file, non-zipped) bugreports are deprecated.\n"
        "WARNING: Please generate zipped bugreports instead.\n"
        "WARNING: On the host use: adb bugreport filename.zip\n"
        "WARNING: On the device use: bugreportz\n"
        "WARNING: bugreportz will output the filename to use with adb pull.\n" + rule + "\n\n"
    )
    return 0
