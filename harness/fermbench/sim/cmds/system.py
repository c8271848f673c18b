"""The system's small tools: properties (getprop, setprop), settings, identity (id, whoami),
time (date, uptime, sleep), getconf, which, and the device controls scripts send as a matter of
course (input keyevent, svc power stayon, wm size/density, reboot).

Output and errors follow the phone's own tools: toybox for id/date/uptime/sleep/getconf/which,
toolbox for getprop/setprop, the framework's shell commands for settings/input/svc/wm.
"""

from __future__ import annotations

import os
import re
import time

from ..process import CommandFailed, Ctx, UsageError
from ..state import DISPLAY_DENSITY, DISPLAY_SIZE, SHELL_WRITABLE_PROPS
from .registry import BUILTINS, command

PROP_VALUE_MAX = 92
_PROP_NAME = re.compile(r"[A-Za-z0-9_.@:-]+")

# The shell user, as `id` shows it on a phone (groups from adbd's capabilities).
_SHELL_GROUPS = (
    (2000, "shell"),
    (1004, "input"),
    (1007, "log"),
    (1011, "adb"),
    (1015, "sdcard_rw"),
    (1028, "sdcard_r"),
    (1078, "ext_data_rw"),
    (1079, "ext_obb_rw"),
    (3001, "net_bt_admin"),
    (3002, "net_bt"),
    (3003, "inet"),
    (3006, "net_bw_stats"),
    (3009, "readproc"),
    (3011, "uhid"),
    (3012, "readtracefs"),
)
_USERS = {"shell": (2000, _SHELL_GROUPS), "root": (0, ((0, "root"),)), "system": (1000, ((1000, "system"),))}


@command("getprop", summary="system properties: getprop [NAME [DEFAULT]] (no name: list all)")
def getprop(ctx: Ctx) -> int:
    names = []
    for a in ctx.args:
        if a.startswith("-") and len(a) > 1:
            for c in a[1:]:
                if c in "TZ":
                    return ctx.error(f"-{c} (property types and contexts) is not simulated by the fermbench phone")
                ctx.warn(f"getprop: unknown option -- {c}\n")
                return 255
        else:
            names.append(a)
    if not names:
        with ctx.state.lock:
            items = sorted(ctx.state.props.items())
        ctx.write("".join(f"[{k}]: [{v}]\n" for k, v in items))
        return 0
    value = ctx.state.getprop(names[0]) or (names[1] if len(names) > 1 else "")
    ctx.write(value + "\n")
    return 0


@command(
    "setprop",
    summary=f"setprop NAME VALUE: only {', '.join(p + '*' for p in SHELL_WRITABLE_PROPS)} "
    "(the shell user's rights on a user build)",
)
def setprop(ctx: Ctx) -> int:
    if len(ctx.args) != 2:
        ctx.write("usage: setprop NAME VALUE\n\nSets an Android system property.\n\n")
        return 1
    key, value = ctx.args
    if not _PROP_NAME.fullmatch(key) or ".." in key or key.startswith(".") or key.endswith("."):
        raise CommandFailed(f"Invalid property name '{key}'", 1)
    if len(value.encode()) >= PROP_VALUE_MAX and not key.startswith("ro."):
        raise CommandFailed(f"Value '{value}' is too long, {len(value.encode())} bytes vs a max of {PROP_VALUE_MAX}", 1)
    if not key.startswith(SHELL_WRITABLE_PROPS):
        raise CommandFailed(f"Failed to set property '{key}' to '{value}'.\nSee dmesg for error reason.", 1)
    ctx.state.setprop(key, value)
    return 0


@command("settings", summary="settings [--user N] get|put|delete|list system|secure|global [KEY [VALUE]]")
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


@command("id", summary="user and groups of the shell user: -u -g -G -n -r -Z, or of root/shell/system")
def id_(ctx: Ctx) -> int:
    opts, operands = ctx.flags("nGgruZ")
    if len(operands) > 1:
        raise UsageError("Max 1 argument")
    user = operands[0] if operands else "shell"
    if user not in _USERS:
        raise CommandFailed(f"id: bad user '{user}'", 1)
    uid, groups = _USERS[user]
    names = opts.get("n")
    if opts.get("Z"):
        ctx.write("u:r:shell:s0\n")
    elif opts.get("u") or opts.get("g"):
        ctx.write(f"{user if names else uid}\n")
    elif opts.get("G"):
        ctx.write(" ".join(name if names else str(gid) for gid, name in groups) + "\n")
    else:
        context = " context=u:r:shell:s0" if user == "shell" else ""
        ctx.write(
            f"uid={uid}({user}) gid={uid}({user}) groups="
            + ",".join(f"{gid}({name})" for gid, name in groups)
            + context
            + "\n"
        )
    return 0


@command("whoami", summary="the user name: shell")
def whoami(ctx: Ctx) -> int:
    ctx.flags("")
    ctx.write("shell\n")
    return 0


def _parse_seconds(text: str) -> float:
    """toybox's time syntax: a number with an optional fraction and s/m/h/d suffix."""
    if not text or not (text[0].isdigit() or text[0] == "."):
        raise CommandFailed(f"sleep: Not a number '{text}'", 1)
    m = re.fullmatch(r"(\d*(?:\.\d*)?)(.*)", text)
    assert m is not None  # the pattern matches any string
    number, suffix = m.groups()
    if suffix not in ("", "s", "m", "h", "d"):
        raise CommandFailed(f"sleep: Unknown suffix '{suffix}'", 1)
    return float(number if number not in (".", "") else 0) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[suffix]


@command("sleep", summary="wait: sleep SECONDS[smhd]... (ends early when the stream closes)")
def sleep(ctx: Ctx) -> int:
    _, operands = ctx.flags("")
    if not operands:
        raise UsageError("Needs 1 argument")
    total = sum(_parse_seconds(a) for a in operands)
    ctx.cancel.wait(total)
    return 0


@command(
    "date",
    summary="the time (UTC): +FORMAT (with %N, %3N: nanoseconds, their first digits), -u, -d @SECONDS, -r FILE, -I (ISO date); setting it is refused",
)
def date(ctx: Ctx) -> int:
    opts, operands = ctx.flags("uI", values="drs", longs={"utc": "u"}, real="dDIrsu")
    if len(operands) > 1:
        raise UsageError("Max 1 argument")
    if "s" in opts or (operands and not operands[0].startswith("+")):
        raise CommandFailed("date: cannot set date: Operation not permitted", 1)
    when = time.time()
    if "d" in opts:
        text = str(opts["d"])
        if not re.fullmatch(r"@-?\d+(\.\d+)?", text):
            raise CommandFailed(f"date: bad date '{text}'", 1)
        when = float(text[1:])
    elif "r" in opts:
        host = ctx.host(str(opts["r"]))
        if not host.exists():
            raise CommandFailed(f"date: {opts['r']}: No such file or directory", 1)
        when = host.stat().st_mtime
    if opts.get("I"):
        fmt = "%Y-%m-%d"
    else:
        fmt = operands[0][1:] if operands else "%a %b %e %H:%M:%S %Z %Y"
    nanos = f"{int(when % 1 * 1e9):09d}"

    def own(m: re.Match[str]) -> str:
        # toybox's own conversions: %N (nanoseconds; %3N the first 3 digits), %s, %Z; strftime does the rest
        conv = m.group(1)
        if conv.endswith("N"):
            return nanos[: int(conv[:-1] or 9)]
        return {"%": "%%", "Z": "UTC", "s": str(int(when))}[conv]

    fmt = re.sub(r"%(%|[1-9]?N|Z|s)", own, fmt)
    ctx.write(time.strftime(fmt, time.gmtime(when)) + "\n")
    return 0


@command("uptime", summary="time since boot and load: -s (boot time), -p (pretty)")
def uptime(ctx: Ctx) -> int:
    opts, operands = ctx.flags("ps")
    if operands:
        raise UsageError("Max 0 arguments")
    now = time.time()
    up = int(now - ctx.state.boot_time)
    if opts.get("s"):
        ctx.write(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ctx.state.boot_time)) + "\n")
        return 0
    minutes, hours, days = up // 60 % 60, up // 3600 % 24, up // 86400
    loads = ", ".join(f"{x:.2f}" for x in os.getloadavg())  # the host's CPUs are the phone's
    if opts.get("p"):
        weeks, days = days // 7, days % 7
        parts = [(weeks, "week"), (days, "day"), (hours, "hour"), (minutes, "minute")]
        ctx.write(
            "up " + ", ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts) + f",  load average: {loads}\n"
        )
        return 0
    text = time.strftime(" %H:%M:%S up ", time.gmtime(now))
    if days:
        text += f"{days} day{'' if days == 1 else 's'}, "
    text += f"{hours:2d}:{minutes:02d}, " if hours else f"{minutes} min, "
    ctx.write(text + f" 0 users,  load average: {loads}\n")
    return 0


def _confs(ctx: Ctx) -> dict[str, int]:
    cores = ctx.state.identity.cpu_cores
    page = ctx.state.identity.page_size
    return {
        "PAGE_SIZE": page,
        "PAGESIZE": page,
        "_NPROCESSORS_CONF": cores,
        "_NPROCESSORS_ONLN": cores,
        "CLK_TCK": 100,
        "LONG_BIT": 64,
        "ARG_MAX": 131072,
        "OPEN_MAX": 32768,
        "CHILD_MAX": 27527,
    }


@command("getconf", summary="system limits: PAGE_SIZE, _NPROCESSORS_ONLN, CLK_TCK, LONG_BIT, ...; -a lists them")
def getconf(ctx: Ctx) -> int:
    opts, operands = ctx.flags("al")
    confs = _confs(ctx)
    if opts.get("a") or opts.get("l"):
        ctx.write("".join(f"{k}\n" if opts.get("l") else f"{k:<34} {v}\n" for k, v in sorted(confs.items())))
        return 0
    if not operands:
        raise UsageError("Needs 1 argument")
    if len(operands) > 2:
        raise UsageError("Max 2 arguments")
    if operands[0] not in confs:
        raise CommandFailed(f"getconf: bad '{operands[0]}'", 1)
    ctx.write(f"{confs[operands[0]]}\n")
    return 0


@command("which", summary="where a tool is: /system/bin/NAME (shell builtins are not files); -a")
def which(ctx: Ctx) -> int:
    _, operands = ctx.flags("a")
    if not operands:
        raise UsageError("Needs 1 argument")
    status = 0
    for name in operands:
        base = name.rsplit("/", 1)[-1]
        tool = base in ctx.shell.commands and base not in BUILTINS
        if tool and (name == base or name == f"/system/bin/{base}"):
            ctx.write(f"/system/bin/{base}\n")
        else:
            status = 1
    return status


# Key codes scripts send by name (KeyEvent.KEYCODE_*); any number is accepted as well.
_KEYCODES = {
    "HOME": 3,
    "BACK": 4,
    "CALL": 5,
    "ENDCALL": 6,
    "DPAD_UP": 19,
    "DPAD_DOWN": 20,
    "DPAD_LEFT": 21,
    "DPAD_RIGHT": 22,
    "DPAD_CENTER": 23,
    "VOLUME_UP": 24,
    "VOLUME_DOWN": 25,
    "POWER": 26,
    "CAMERA": 27,
    "TAB": 61,
    "SPACE": 62,
    "ENTER": 66,
    "DEL": 67,
    "MENU": 82,
    "SEARCH": 84,
    "ESCAPE": 111,
    "VOLUME_MUTE": 164,
    "APP_SWITCH": 187,
    "SLEEP": 223,
    "WAKEUP": 224,
}


def _keycode(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _KEYCODES.get(word.upper().removeprefix("KEYCODE_"))


@command(
    "input",
    summary="input keyevent [--longpress|--doubletap] KEY... (POWER/SLEEP/WAKEUP switch the "
    "screen; others have no effect), tap X Y, swipe X1 Y1 X2 Y2 [MS], text TEXT",
)
def input_(ctx: Ctx) -> int:
    args = list(ctx.args)
    if args and args[0] in ("touchscreen", "touchpad", "keyboard", "dpad", "mouse", "trackball", "stylus"):
        args.pop(0)  # the input source
    if not args:
        ctx.write("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n")
        return 1
    verb, rest = args[0], args[1:]
    if verb == "keyevent":
        keys = [a for a in rest if a not in ("--longpress", "--doubletap")]
        if not keys:
            ctx.write("Usage: input [<source>] keyevent [--longpress|--doubletap] <key code number or name> ...\n")
            return 1
        for key in keys:
            code = _keycode(key)
            if code in (26, 223, 224):  # POWER toggles, SLEEP and WAKEUP set
                ctx.state.screen_on = {26: not ctx.state.screen_on, 223: False, 224: True}[code]
        return 0
    arity = {"tap": (2, 2), "swipe": (4, 5), "text": (1, 1), "draganddrop": (4, 5), "press": (0, 0)}
    if verb not in arity:
        raise CommandFailed(f"Error: Unknown command: {verb}", 255)
    low, high = arity[verb]
    numeric = verb != "text"
    if not low <= len(rest) <= high or (numeric and not all(re.fullmatch(r"-?\d+(\.\d+)?", a) for a in rest)):
        raise CommandFailed(f"Error: Invalid arguments for command: {verb}", 255)
    return 0  # a phone without a screen to touch: the event goes nowhere


_STAYON = {"true": 7, "false": 0, "ac": 1, "usb": 2, "wireless": 4, "dock": 8}


@command("svc", summary="svc power stayon true|false|ac|usb|wireless|dock (sets stay_on_while_plugged_in)")
def svc(ctx: Ctx) -> int:
    args = ctx.args
    if not args:
        ctx.write("Available commands:\n    power    Control the power manager\n")
        return 0
    if args[0] != "power":
        return ctx.error(f"service '{args[0]}' is not simulated by the fermbench phone (only `svc power`)")
    if len(args) == 3 and args[1] == "stayon" and args[2] in _STAYON:
        with ctx.state.lock:
            ctx.state.settings["global"]["stay_on_while_plugged_in"] = str(_STAYON[args[2]])
        return 0
    ctx.warn("usage: svc power stayon [true|false|usb|ac|wireless|dock]\n")
    return 1


@command("wm", summary="wm size [WxH|reset], wm density [DPI|reset]")
def wm(ctx: Ctx) -> int:
    if not ctx.args or ctx.args[0] not in ("size", "density"):
        ctx.write(
            f"Unknown command: {ctx.args[0]}\n"
            if ctx.args
            else "Window manager (window) commands:\n  size [reset|WxH|WdpxHdp]\n  density [reset|DENSITY]\n"
        )
        return 255 if ctx.args else 0
    verb, rest = ctx.args[0], ctx.args[1:]
    state = ctx.state
    if verb == "size":
        if not rest:
            w, h = DISPLAY_SIZE
            ctx.write(f"Physical size: {w}x{h}\n")
            if state.display_size_override:
                ctx.write("Override size: {}x{}\n".format(*state.display_size_override))
        elif rest == ["reset"]:
            state.display_size_override = None
        elif len(rest) == 1 and re.fullmatch(r"\d+x\d+", rest[0]):
            w, h = map(int, rest[0].split("x"))
            state.display_size_override = (w, h)
        else:
            raise CommandFailed(f"Error: bad size {' '.join(rest)}", 255)
        return 0
    if not rest:
        ctx.write(f"Physical density: {DISPLAY_DENSITY}\n")
        if state.density_override:
            ctx.write(f"Override density: {state.density_override}\n")
    elif rest == ["reset"]:
        state.density_override = None
    elif len(rest) == 1 and rest[0].isdigit() and int(rest[0]) >= 72:
        state.density_override = int(rest[0])
    else:
        raise CommandFailed(f"Error: bad density {' '.join(rest)}", 255)
    return 0


@command(
    "reboot",
    summary="reboot [REASON]: the phone drops off adb and boots again with its files "
    "(no bootloader, recovery or power-off)",
)
def reboot(ctx: Ctx) -> int:
    opts, operands = ctx.flags("np")
    reason = operands[0] if operands else ""
    if opts.get("p") or reason in ("bootloader", "recovery", "fastboot", "sideload", "sideload-auto-reboot"):
        return ctx.error(f"the fermbench phone has no {'power-off' if opts.get('p') else reason} mode")
    ctx.state.request_reboot(reason)
    if ctx.state.reboot_handler is not None:
        ctx.cancel.wait()  # like the real tool, it never returns: the connection goes down
    return 0
