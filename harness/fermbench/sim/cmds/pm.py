"""Package manager: `pm` and `cmd package` (list packages|instrumentation|features, path,
install from a file or -S from stdin, uninstall, clear, has-feature, dump), plus the `cmd`
dispatcher. Output, options and failure codes follow Android's PackageManagerShellCommand:
an error that returns -1 there exits 255 here, as `cmd` turns it into.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
import zlib
from collections.abc import Callable

from ...runner.protocol import RUNNER_CLASS, RUNNER_PACKAGES
from ..apk import ApkError, read_apk_info
from ..process import CommandFailed, Ctx
from ..state import Package
from .registry import command

# Options of `pm install` (with a value, and without) and of `pm uninstall`.
_INSTALL_VALUES = {
    "--user",
    "-i",
    "--abi",
    "--install-location",
    "-S",
    "--install-reason",
    "--pkg",
    "-p",
    "--originating-uri",
    "--referrer",
    "--force-uuid",
    "--apex",
}
_INSTALL_FLAGS = {
    "-r",
    "-t",
    "-g",
    "-d",
    "-f",
    "-l",
    "-s",
    "-R",
    "--dont-kill",
    "--instant",
    "--full",
    "--staged",
    "--fastdeploy",
    "--no-streaming",
    "--bypass-low-target-sdk-block",
    "--restrict-permissions",
    "--force-queryable",
    "--enable-rollback",
}
_UNINSTALL_VALUES = {"--user", "--versionCode"}
_UNINSTALL_FLAGS = {"-k"}
_LIST_VALUES = {"--user", "--uid"}
_LIST_FLAGS = {
    "-d",
    "-e",
    "-a",
    "-f",
    "-i",
    "-l",
    "-s",
    "-U",
    "-u",
    "-3",
    "--show-versioncode",
    "--apex-only",
    "--factory-only",
    "--match-libraries",
    "--show-stopped",
}

# What `pm list features` reports (a mid-range phone; reqGlEsVersion has no name and sorts first).
FEATURES = (
    "android.hardware.audio.output",
    "android.hardware.bluetooth",
    "android.hardware.camera",
    "android.hardware.camera.any",
    "android.hardware.faketouch",
    "android.hardware.location",
    "android.hardware.microphone",
    "android.hardware.ram.normal",
    "android.hardware.screen.landscape",
    "android.hardware.screen.portrait",
    "android.hardware.sensor.accelerometer",
    "android.hardware.touchscreen",
    "android.hardware.touchscreen.multitouch",
    "android.hardware.usb.accessory",
    "android.hardware.wifi",
    "android.software.app_widgets",
    "android.software.home_screen",
    "android.software.webview",
)


def _options(
    args: list[str], values: set[str], flags: set[str], unknown: str = "Error: Unknown option: {}"
) -> tuple[dict[str, str | bool], list[str]]:
    """Leading options as ShellCommand.getNextOption reads them; the rest are arguments."""
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in values:
            if i + 1 >= len(args):
                raise CommandFailed(f'Error: Argument expected after "{a}"', 255)
            opts[a] = args[i + 1]
            i += 2
            continue
        if a not in flags:
            raise CommandFailed(unknown.format(a), 255)
        opts[a] = True
        i += 1
    return opts, args[i:]


def package_uid(pkg: Package) -> int:
    """The app's uid: 1000 for the system's, else a stable one in the app range."""
    return 1000 if pkg.system else 10000 + zlib.crc32(pkg.name.encode()) % 9000


def _external_dir(package: str) -> str:
    """/sdcard/Android/data/PACKAGE: the app's external files, removed with the app."""
    return f"/sdcard/Android/data/{package}"


def _failure(ctx: Ctx, code: str, detail: str = "") -> int:
    ctx.write(f"Failure [{code}{': ' + detail if detail else ''}]\n")
    return 1


def _install_bytes(ctx: Ctx, data: bytes, file_name: str | None, allow_downgrade: bool) -> int:
    state = ctx.state
    try:
        info = read_apk_info(data, file_name)
    except ApkError as exc:
        return _failure(ctx, exc.code, exc.detail)
    if len(data) > state.free_bytes():
        return _failure(ctx, "INSTALL_FAILED_INSUFFICIENT_STORAGE")
    old = state.package(info.package)
    if old is not None and old.system:
        return _failure(ctx, "INSTALL_FAILED_UPDATE_INCOMPATIBLE", f"{info.package} is a system package")
    if old is not None and info.version_code < old.version_code and not allow_downgrade:
        return _failure(
            ctx,
            "INSTALL_FAILED_VERSION_DOWNGRADE",
            f"Downgrade detected: Update version code {info.version_code} is older than current {old.version_code}",
        )
    code_dir = f"/data/app/~~{secrets.token_hex(8)}==/{info.package}-{secrets.token_hex(8)}=="
    apk_path = f"{code_dir}/base.apk"
    host = state.host_path(apk_path)
    host.parent.mkdir(parents=True)
    host.write_bytes(data)
    if old is not None:
        shutil.rmtree(state.host_path(old.apk_path).parent, ignore_errors=True)
    state.install_package(Package(info.package, info.version_code, info.version_name, apk_path, len(data)))
    ctx.write("Success\n")
    return 0


def _read_up_to(ctx: Ctx, size: int) -> bytes:
    """At most `size` bytes of stdin (what `-S SIZE` announces): fewer if the stream ends first."""
    chunks, got = [], 0
    while got < size and not ctx.cancel.is_set():
        chunk = ctx.stdin.read(min(1 << 20, size - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _session(ctx: Ctx, verb: str, text: str) -> int | None:
    """The id of an open install session, or None after the framework's error."""
    if text.isdigit() and int(text) in ctx.state.install_sessions:
        return int(text)
    ctx.warn(
        f"\nException occurred while executing '{verb}':\njava.lang.SecurityException: "
        f"Caller has no access to session {text}\n"
    )
    return None


def _install_create(ctx: Ctx, args: list[str]) -> int:
    _options(
        args,
        _INSTALL_VALUES,
        _INSTALL_FLAGS,
        "\nException occurred while executing 'install-create':\njava.lang.IllegalArgumentException: Unknown option {}",
    )
    with ctx.state.lock:
        session_id = 1_000_000_000 + secrets.randbelow(1_000_000_000)
        ctx.state.install_sessions[session_id] = {}
    ctx.write(f"Success: created install session [{session_id}]\n")
    return 0


def _install_write(ctx: Ctx, args: list[str]) -> int:
    # install-write [-S SIZE] SESSION SPLIT_NAME [PATH|-]
    size: int | None = None
    if args[:1] == ["-S"] and len(args) > 1:
        if not args[1].isdigit():
            ctx.warn(f"Error: bad size {args[1]}\n")
            return 255
        size, args = int(args[1]), args[2:]
    if len(args) < 2:
        ctx.warn("Error: install-write needs a session id and a split name\n")
        return 255
    session_id = _session(ctx, "install-write", args[0])
    if session_id is None:
        return 255
    name, source = args[1], args[2] if len(args) > 2 else "-"
    if source == "-":
        if size is None:
            ctx.warn("Error: must specify an APK size (-S) when streaming from stdin\n")
            return 255
        data = _read_up_to(ctx, size)
        if len(data) < size:
            ctx.warn(f"Error: stream ended before {size} bytes for {name}\n")
            return 255
    else:
        host = ctx.host(source)
        if not host.is_file():
            ctx.warn(f"Error: Can't open file: {ctx.abspath(source)}\n")
            return 255
        data = host.read_bytes()
    with ctx.state.lock:
        ctx.state.install_sessions[session_id][name] = data
    ctx.write(f"Success: streamed {len(data)} bytes\n")
    return 0


def _install_commit(ctx: Ctx, args: list[str]) -> int:
    session_id = _session(ctx, "install-commit", args[0] if args else "")
    if session_id is None:
        return 255
    with ctx.state.lock:
        splits = ctx.state.install_sessions.pop(session_id)
    if not splits:
        return _failure(ctx, "INSTALL_FAILED_INVALID_APK", "No APK files in session")
    # The base APK is the one that names no split; the others are kept beside it as split_*.apk.
    base_name = next((n for n in splits if "base" in n), next(iter(splits)))
    status = _install_bytes(ctx, splits[base_name], base_name, allow_downgrade=False)
    if status == 0:
        pkg = _installed_from(ctx, splits[base_name], base_name)
        if pkg is not None:
            folder = ctx.state.host_path(pkg.apk_path).parent
            for name, data in splits.items():
                if name != base_name:
                    (folder / _split_file(name)).write_bytes(data)
    return status


def _split_file(name: str) -> str:
    """Where a split lands: adb names it `N_FILE.apk`; the phone keeps `split_NAME.apk`."""
    name = re.sub(r"^\d+_", "", name)
    name = name if name.endswith(".apk") else name + ".apk"
    return name if name.startswith("split_") else "split_" + name


def _installed_from(ctx: Ctx, data: bytes, name: str) -> Package | None:
    try:
        return ctx.state.package(read_apk_info(data, name).package)
    except ApkError:
        return None


def _install_abandon(ctx: Ctx, args: list[str]) -> int:
    session_id = _session(ctx, "install-abandon", args[0] if args else "")
    if session_id is None:
        return 255
    with ctx.state.lock:
        ctx.state.install_sessions.pop(session_id, None)
    ctx.write("Success\n")
    return 0


def _install(ctx: Ctx, args: list[str]) -> int:
    # makeInstallParams throws on an unknown option; `cmd` reports the exception, exit 255
    opts, rest = _options(
        args,
        _INSTALL_VALUES,
        _INSTALL_FLAGS,
        "\nException occurred while executing 'install':\n"
        "java.lang.IllegalArgumentException: Unknown option {}\n"
        "\tat com.android.server.pm.PackageManagerShellCommand.makeInstallParams"
        "(PackageManagerShellCommand.java:3308)",
    )
    allow_downgrade = bool(opts.get("-d"))
    if "-S" in opts:
        try:
            size = int(str(opts["-S"]))
        except ValueError:
            ctx.warn(f"Error: bad size {opts['-S']}\n")
            return 1
        data = _read_up_to(ctx, size)
        if len(data) < size:
            return _failure(ctx, "INSTALL_FAILED_INVALID_APK", f"stream ended after {len(data)} of {size} bytes")
        return _install_bytes(ctx, data, None, allow_downgrade)
    if len(rest) != 1:
        ctx.warn("Error: APK content must be streamed (-S) or given as one path\n")
        return 1
    path = ctx.abspath(rest[0])
    host = ctx.state.host_path(path)
    if not host.is_file():
        ctx.warn(f"Error: Can't open file: {path}\n")
        return 1
    return _install_bytes(ctx, host.read_bytes(), path, allow_downgrade)


def _uninstall(ctx: Ctx, args: list[str]) -> int:
    try:
        opts, rest = _options(args, _UNINSTALL_VALUES, _UNINSTALL_FLAGS)
    except CommandFailed as exc:  # runUninstall prints to stdout and returns 1
        ctx.write(f"{exc}\n")
        return 1
    if len(rest) != 1:
        ctx.warn("Error: package name not specified\n")
        return 1
    name = rest[0]
    try:
        pkg = ctx.state.uninstall_package(name)
    except PermissionError:
        pkg = None
    if pkg is None:
        return _failure(ctx, "DELETE_FAILED_INTERNAL_ERROR")
    if not opts.get("-k"):
        shutil.rmtree(ctx.state.host_path(_external_dir(name)), ignore_errors=True)
    ctx.write("Success\n")
    return 0


def _list(ctx: Ctx, args: list[str]) -> int:
    kinds = {
        "packages": _list_packages,
        "package": _list_packages,
        "instrumentation": _list_instrumentation,
        "features": _list_features,
    }
    if not args:
        raise CommandFailed("Error: didn't specify type of data to list", 255)
    if args[0] not in kinds:
        known = ("permission-groups", "permissions", "libraries", "users", "sdks", "staged-sessions")
        if args[0] in known:
            raise CommandFailed(f"Error: 'pm list {args[0]}' is not simulated by the fermbench phone", 255)
        ctx.write(f"Error: unknown list type '{args[0]}'\n")
        return 255
    try:
        return kinds[args[0]](ctx, args[1:])
    except CommandFailed as exc:  # the list commands print their errors on stdout
        ctx.write(f"{exc}\n")
        return exc.status


def _list_packages(ctx: Ctx, args: list[str]) -> int:
    opts, rest = _options(args, _LIST_VALUES, _LIST_FLAGS)
    needle = rest[0] if rest else ""
    with ctx.state.lock:
        pkgs = sorted(ctx.state.packages.values(), key=lambda p: p.name)
    lines = []
    for p in pkgs:
        uid = package_uid(p)
        if needle not in p.name or (opts.get("-3") and p.system) or (opts.get("-s") and not p.system):
            continue
        if opts.get("-d") or ("--uid" in opts and str(uid) != opts["--uid"]) or opts.get("--apex-only"):
            continue  # nothing is disabled and nothing is an APEX on the simulated phone
        line = f"package:{p.apk_path}={p.name}" if opts.get("-f") else f"package:{p.name}"
        if opts.get("--show-versioncode"):
            line += f" versionCode:{p.version_code}"
        if opts.get("-i"):
            line += "  installer=null"
        if opts.get("-U") or "--uid" in opts:
            line += f" uid:{uid}"
        lines.append(line)
    ctx.write("".join(line + "\n" for line in lines))
    return 0


def _list_instrumentation(ctx: Ctx, args: list[str]) -> int:
    opts, rest = _options(args, set(), {"-f"})
    target = rest[0] if rest else None
    for package in sorted(RUNNER_PACKAGES.values()):  # the runner flavors: the only instrumentations there are
        runner = ctx.state.package(package)
        if runner is None or target not in (None, package):
            continue
        short = RUNNER_CLASS.removeprefix(package) if RUNNER_CLASS.startswith(package + ".") else RUNNER_CLASS
        source = f"{runner.apk_path}=" if opts.get("-f") else ""
        ctx.write(f"instrumentation:{source}{package}/{short} (target={package})\n")
    return 0


def _list_features(ctx: Ctx, args: list[str]) -> int:
    if args:
        raise (
            CommandFailed(f"Error: Unknown option: {args[0]}", 255)
            if args[0].startswith("-")
            else CommandFailed(f"Error: unexpected argument '{args[0]}'", 255)
        )
    ctx.write("feature:reqGlEsVersion=0x30002\n" + "".join(f"feature:{f}\n" for f in FEATURES))
    return 0


def _has_feature(ctx: Ctx, args: list[str]) -> int:
    if not args:
        raise CommandFailed("Error: no feature specified", 255)
    found = args[0] in FEATURES
    ctx.write(f"{'true' if found else 'false'}\n")
    return 0 if found else 1


def _clear(ctx: Ctx, args: list[str]) -> int:
    opts, rest = _options(args, {"--user"}, set())
    if len(rest) != 1:
        raise CommandFailed("Error: no package specified", 255)
    if ctx.state.package(rest[0]) is None:
        ctx.write("Failed\n")
        return 1
    ctx.state.end_process(rest[0], "clear data")
    shutil.rmtree(ctx.state.host_path(_external_dir(rest[0])), ignore_errors=True)
    ctx.write("Success\n")
    return 0


def _path(ctx: Ctx, args: list[str]) -> int:
    opts, rest = _options(args, {"--user"}, set())
    if len(rest) != 1:
        raise CommandFailed("Error: no package specified", 1)
    pkg = ctx.state.package(rest[0])
    if pkg is None:
        return 1
    ctx.write(f"package:{pkg.apk_path}\n")
    folder = ctx.state.host_path(pkg.apk_path).parent
    for split in sorted(folder.glob("split_*.apk")) if not pkg.system else []:
        ctx.write(f"package:{pkg.apk_path.rsplit('/', 1)[0]}/{split.name}\n")
    return 0


def dump_package(ctx: Ctx, name: str) -> int:
    pkg = ctx.state.package(name)
    if pkg is None:
        ctx.write(f"Unable to find package: {name}\n")
        return 0
    first = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(pkg.installed_at))
    ctx.write(
        "Packages:\n"
        f"  Package [{pkg.name}] ({zlib.crc32(pkg.name.encode()):08x}):\n"
        f"    userId={package_uid(pkg)}\n"
        f"    codePath={pkg.apk_path.rsplit('/', 1)[0]}\n"
        f"    versionCode={pkg.version_code} minSdk=21 targetSdk=34\n"
        f"    versionName={pkg.version_name}\n"
        f"    flags=[ {'SYSTEM ' if pkg.system else ''}HAS_CODE ALLOW_CLEAR_USER_DATA ]\n"
        f"    firstInstallTime={first}\n"
        f"    lastUpdateTime={first}\n"
    )
    return 0


_VERBS: dict[str, Callable[[Ctx, list[str]], int]] = {
    "install": _install,
    "install-create": _install_create,
    "install-write": _install_write,
    "install-commit": _install_commit,
    "install-abandon": _install_abandon,
    "uninstall": _uninstall,
    "list": _list,
    "path": _path,
    "clear": _clear,
    "has-feature": _has_feature,
    "dump": lambda ctx, args: dump_package(ctx, args[0]) if args else 1,
}
# Verbs a phone's pm has that the simulated one does not carry out.
_NOT_SIMULATED = (
    "grant",
    "revoke",
    "enable",
    "disable",
    "disable-user",
    "hide",
    "unhide",
    "suspend",
    "unsuspend",
    "compile",
    "resolve-activity",
    "query-activities",
    "install-existing",
    "trim-caches",
    "reset-permissions",
    "set-install-location",
    "get-install-location",
    "create-user",
    "remove-user",
)


@command(
    "pm",
    summary="package manager: list packages [-f -3 -s -e -d -i -U -u --show-versioncode --uid N] "
    "[FILTER], list instrumentation [-f], list features, path, install [-r -t -d -g ...] "
    "FILE|-S SIZE, install-create, install-write -S SIZE SESSION NAME [-|PATH], install-commit, "
    "install-abandon (adb install-multiple), uninstall [-k], clear, has-feature, dump",
)
def pm(ctx: Ctx) -> int:
    if not ctx.args or ctx.args[0] in ("help", "-h"):
        ctx.write(
            "Package manager (package) commands: list, path, install, install-create, install-write, "
            "install-commit, install-abandon, uninstall, clear, has-feature, "
            "dump (what the simulated phone implements)\n"
        )
        return 255  # as handleDefaultCommands returns
    name = ctx.args[0]
    if name in _NOT_SIMULATED:
        raise CommandFailed(f"Error: 'pm {name}' is not simulated by the fermbench phone", 255)
    verb = _VERBS.get(name)
    if verb is None:
        ctx.write(f"Unknown command: {name}\n")
        return 255
    return verb(ctx, ctx.args[1:])


# `cmd SERVICE ...`: the services whose shell commands the simulated phone has, and its tool.
_SERVICES = {"package": "pm", "activity": "am", "settings": "settings", "window": "wm", "input": "input"}


@command(
    "cmd", summary=f"cmd SERVICE ARGS: {', '.join(sorted(_SERVICES))} (as pm, am, settings, wm, input); -l lists them"
)
def cmd(ctx: Ctx) -> int:
    if not ctx.args:
        ctx.warn(
            "cmd: No service specified; use -l to list all running services. Use -w to start and wait for a service.\n"
        )
        return 20
    service, rest = ctx.args[0], ctx.args[1:]
    if service == "-l":
        ctx.write("Currently running services:\n" + "".join(f"  {s}\n" for s in sorted(_SERVICES)))
        return 0
    target = _SERVICES.get(service)
    if target is None:
        ctx.warn(f"cmd: Can't find service: {service}\n")
        return 20
    return ctx.derive(target, rest).run(ctx.shell.commands[target])
