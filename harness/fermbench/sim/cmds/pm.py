"""Package manager: `pm` and `cmd package` (list, path, install from a file or -S from stdin,
uninstall, dump), plus the `cmd` dispatcher. Output and failure codes follow Android's pm."""

from __future__ import annotations

import secrets
import shutil
import time
import zlib

from ...runner.protocol import EXTERNAL_FILES_DIR, RUNNER_PACKAGE
from ..apk import ApkError, read_apk_info
from ..state import Package
from .base import COMMANDS, Ctx, command

_VALUE_OPTS = {"--user", "-i", "--abi", "--install-location", "-S", "--install-reason", "--pkg", "-p"}
_BOOL_OPTS = {"-r", "-t", "-g", "-d", "-f", "-l", "-s", "-3", "-e", "-u", "-k", "-a", "--show-versionCode",
              "--dont-kill", "--instant", "--full", "--staged", "--fastdeploy", "--no-streaming",
              "--bypass-low-target-sdk-block"}


def _options(ctx: Ctx, args: list[str]) -> tuple[dict[str, str | bool], list[str]] | None:
    opts: dict[str, str | bool] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in _VALUE_OPTS:
            if i + 1 >= len(args):
                ctx.warn(f"Error: option {a} needs a value\n")
                return None
            opts[a] = args[i + 1]
            i += 2
            continue
        if a in _BOOL_OPTS:
            opts[a] = True
        elif a.startswith("-") and a != "-":
            ctx.warn(f"Error: Unknown option: {a}\n")
            return None
        else:
            rest.append(a)
        i += 1
    return opts, rest


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
        return _failure(ctx, "INSTALL_FAILED_VERSION_DOWNGRADE",
                        f"Downgrade detected: Update version code {info.version_code} is older than current "
                        f"{old.version_code}")
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


def _install(ctx: Ctx, args: list[str]) -> int:
    parsed = _options(ctx, args)
    if parsed is None:
        return 1
    opts, rest = parsed
    allow_downgrade = bool(opts.get("-d"))
    if "-S" in opts:
        try:
            size = int(str(opts["-S"]))
        except ValueError:
            ctx.warn(f"Error: bad size {opts['-S']}\n")
            return 1
        chunks, got = [], 0
        while got < size and not ctx.cancel.is_set():
            chunk = ctx.stdin.read(min(1 << 20, size - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got < size:
            return _failure(ctx, "INSTALL_FAILED_INVALID_APK", f"stream ended after {got} of {size} bytes")
        return _install_bytes(ctx, b"".join(chunks), None, allow_downgrade)
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
    parsed = _options(ctx, args)
    if parsed is None:
        return 1
    opts, rest = parsed
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
        external = EXTERNAL_FILES_DIR.replace(RUNNER_PACKAGE, name).rsplit("/files", 1)[0]
        shutil.rmtree(ctx.state.host_path(external), ignore_errors=True)
    ctx.write("Success\n")
    return 0


def _list(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0] != "packages":
        ctx.warn(f"Error: unknown list type '{args[0] if args else ''}' (the simulated pm lists packages)\n")
        return 1
    parsed = _options(ctx, args[1:])
    if parsed is None:
        return 1
    opts, rest = parsed
    needle = rest[0] if rest else ""
    with ctx.state.lock:
        pkgs = sorted(ctx.state.packages.values(), key=lambda p: p.name)
    lines = []
    for p in pkgs:
        if needle not in p.name or (opts.get("-3") and p.system) or (opts.get("-s") and not p.system):
            continue
        line = f"package:{p.apk_path}={p.name}" if opts.get("-f") else f"package:{p.name}"
        if opts.get("--show-versionCode"):
            line += f" versionCode:{p.version_code}"
        lines.append(line)
    ctx.write("".join(line + "\n" for line in lines))
    return 0


def _path(ctx: Ctx, args: list[str]) -> int:
    parsed = _options(ctx, args)
    if parsed is None or len(parsed[1]) != 1:
        return 1
    pkg = ctx.state.package(parsed[1][0])
    if pkg is None:
        return 1
    ctx.write(f"package:{pkg.apk_path}\n")
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
        f"    userId={1000 if pkg.system else 10201}\n"
        f"    codePath={pkg.apk_path.rsplit('/', 1)[0]}\n"
        f"    versionCode={pkg.version_code} minSdk=21 targetSdk=34\n"
        f"    versionName={pkg.version_name}\n"
        f"    flags=[ {'SYSTEM ' if pkg.system else ''}HAS_CODE ALLOW_CLEAR_USER_DATA ]\n"
        f"    firstInstallTime={first}\n"
        f"    lastUpdateTime={first}\n"
    )
    return 0


_VERBS = {
    "install": _install,
    "uninstall": _uninstall,
    "list": _list,
    "path": _path,
    "dump": lambda ctx, args: dump_package(ctx, args[0]) if args else 1,
}


@command("pm")
def pm(ctx: Ctx) -> int:
    if not ctx.args:
        ctx.warn("usage: pm list|path|install|uninstall|dump ... (what the simulated phone implements)\n")
        return 1
    verb = _VERBS.get(ctx.args[0])
    if verb is None:
        ctx.warn(f"Unknown command: {ctx.args[0]}\n")
        return 255
    return verb(ctx, ctx.args[1:])


@command("cmd")
def cmd(ctx: Ctx) -> int:
    """`cmd SERVICE ...`: package goes to pm; activity and settings to their tools."""
    if not ctx.args:
        ctx.warn("cmd: No service specified; use -l to list all running services\n")
        return 20
    service, rest = ctx.args[0], ctx.args[1:]
    target = {"package": "pm", "activity": "am", "settings": "settings"}.get(service)
    if target is None:
        ctx.warn(f"cmd: Can't find service: {service}\n")
        return 20
    ctx.args, ctx.name = rest, target
    return COMMANDS[target](ctx)
