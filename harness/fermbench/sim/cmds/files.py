"""File tools over the phone's file system (a host folder): ls, cat, rm, mkdir, chmod, touch,
cp, mv, sha256sum, md5sum, stat, wc, df. Messages follow toybox (`name: path: reason`); an
option toybox has but the simulation does not carry out says so instead of pretending."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat as stat_mod
import time
from pathlib import Path

from ..process import CommandFailed, Ctx, UsageError
from .registry import command


def _owner(device_path: str) -> str:
    return "shell" if device_path.startswith(("/data/local/tmp", "/sdcard", "/storage")) else "root"


def _refused(ctx: Ctx, name: str, shown: str | None = None) -> bool:
    """Whether the shell user may not change `name` (the tool's error line is then written)."""
    try:
        ctx.writable(name, shown)
    except OSError as exc:
        ctx.error(f"{exc.filename}: {exc.strerror}")
        return True
    return False


def _long_line(ctx: Ctx, host: Path, shown: str, device_path: str, numeric: bool = False) -> str:
    st = os.lstat(host)
    owner = _owner(device_path)
    if numeric:
        owner = "2000" if owner == "shell" else "0"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
    line = f"{stat_mod.filemode(st.st_mode)} {st.st_nlink} {owner} {owner} {st.st_size:>8} {when} {shown}"
    if stat_mod.S_ISLNK(st.st_mode):
        line += f" -> {os.readlink(host)}"
    return line


@command("ls", summary="list files: -l -a -A -d -1 -r -t -S -n")
def ls(ctx: Ctx) -> int:
    opts, operands = ctx.flags("laAd1rtSn", real="ZgoACFHLNRSUXabcdfhiklmnpqrstuwx1")
    operands = operands or ["."]
    status = 0
    files, dirs = [], []
    for name in operands:
        host = ctx.host(name)
        if not os.path.lexists(host):
            status = ctx.error(f"{name}: No such file or directory")
        elif host.is_dir() and not opts.get("d"):
            dirs.append(name)
        else:
            files.append(name)
    out: list[str] = []
    long, numeric = bool(opts.get("l") or opts.get("n")), bool(opts.get("n"))

    def order(names: list[str], where: Path | None) -> list[str]:
        def stat_of(n: str) -> os.stat_result:
            return os.lstat(where / n if where is not None else ctx.host(n))

        names = sorted(names)
        if opts.get("t"):
            names.sort(key=lambda n: -stat_of(n).st_mtime)
        elif opts.get("S"):
            names.sort(key=lambda n: -stat_of(n).st_size)
        return names[::-1] if opts.get("r") else names

    for name in order(files, None):
        out.append(_long_line(ctx, ctx.host(name), name, ctx.abspath(name), numeric) if long else name)
    for k, name in enumerate(order(dirs, None)):
        try:
            host = ctx.listable(name)
        except OSError as exc:
            status = ctx.error(f"{name}: {exc.strerror}")
            continue
        entries = os.listdir(host)
        if not (opts.get("a") or opts.get("A")):
            entries = [e for e in entries if not e.startswith(".")]
        entries = order(entries, host)
        if opts.get("a"):
            entries = [".", ".."] + entries
        if len(operands) > 1:
            if out or k:
                out.append("")
            out.append(f"{name}:")
        if long:
            blocks = sum(os.lstat(host / e).st_blocks for e in entries if e not in (".", "..")) // 2
            out.append(f"total {blocks}")
            for e in entries:
                child = host if e == "." else host.parent if e == ".." else host / e
                out.append(_long_line(ctx, child, e, ctx.abspath(f"{name}/{e}"), numeric))
        else:
            out.extend(entries)
    ctx.write("".join(line + "\n" for line in out))
    return status


@command("cat", summary="print files or stdin")
def cat(ctx: Ctx) -> int:
    _, operands = ctx.flags("", real="uvte")
    if not operands:
        operands = ["-"]
    status = 0
    for name in operands:
        if name == "-":
            for chunk in ctx.read_stdin():
                ctx.out(chunk)
            continue
        host = ctx.host(name)
        if host.is_dir():
            status = ctx.error(f"{name}: Is a directory")
        elif not host.exists():
            status = ctx.error(f"{name}: No such file or directory")
        else:
            with open(host, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    ctx.out(chunk)
    return status


@command("rm", summary="remove files: -r -R -f -v")
def rm(ctx: Ctx) -> int:
    opts, operands = ctx.flags("rRfv", longs={"force": "f"}, real="fiRrv")
    recursive = opts.get("r") or opts.get("R")
    if not operands and not opts.get("f"):
        raise UsageError("Needs 1 argument")
    status = 0
    for name in operands:
        path = ctx.abspath(name)
        host = ctx.state.host_path(path)
        if host == ctx.state.root:
            status = ctx.error(f"{name}: Device or resource busy")
        elif not os.path.lexists(host):
            if not opts.get("f"):
                status = ctx.error(f"{name}: No such file or directory")
        elif host.is_dir() and not host.is_symlink() and not recursive:
            status = ctx.error(f"{name}: Is a directory")
        elif _refused(ctx, name):
            status = 1
        elif host.is_dir() and not host.is_symlink():
            shutil.rmtree(host)
        else:
            host.unlink()
    return status


def _parse_mode(spec: str, current: int, is_dir: bool) -> int:
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = current & 0o7777
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxX]*)", clause)
        if not m:
            raise CommandFailed(f"chmod: bad mode '{spec}'", 1)
        who, op, perms = m.groups()
        who = who or "a"
        bits = 0
        for p in perms:
            if p == "X" and not (is_dir or mode & 0o111):
                continue
            bit = {"r": 4, "w": 2, "x": 1, "X": 1}[p]
            for w in ("u", "g", "o") if "a" in who else who:
                bits |= bit << {"u": 6, "g": 3, "o": 0}[w]
        mask = 0
        for w in ("u", "g", "o") if "a" in who else who:
            mask |= 7 << {"u": 6, "g": 3, "o": 0}[w]
        mode = mode | bits if op == "+" else mode & ~bits if op == "-" else (mode & ~mask) | bits
    return mode


@command("chmod", summary="change modes, octal or symbolic: -R -f -v")
def chmod(ctx: Ctx) -> int:
    opts, operands = ctx.flags("Rfv", real="cvfR")
    if len(operands) < 2:
        raise UsageError("Need 2 arguments")
    spec, names = operands[0], operands[1:]
    status = 0
    for name in names:
        host = ctx.host(name)
        if not host.exists():
            status = ctx.error(f"{name}: No such file or directory")
            continue
        if _refused(ctx, name):
            status = 1
            continue
        targets = [host]
        if opts.get("R") and host.is_dir():
            targets += [Path(d) / f for d, ds, fs in os.walk(host) for f in ds + fs]
        for t in targets:
            new = _parse_mode(spec, os.stat(t).st_mode, t.is_dir())
            # The host folder must stay readable to the simulation itself, whatever the phone says.
            os.chmod(t, new | (0o700 if t.is_dir() else 0o600))
    return status


@command("mkdir", summary="make folders: -p -m MODE -v")
def mkdir(ctx: Ctx) -> int:
    opts, operands = ctx.flags("pv", values="m", longs={"parents": "p"}, real="vpmZ")
    if not operands:
        raise UsageError("Needs 1 argument")
    mode = int(str(opts["m"]), 8) if "m" in opts else 0o771
    status = 0
    for name in operands:
        host = ctx.host(name)
        if host.exists():
            if not opts.get("p") or not host.is_dir():
                status = ctx.error(f"{name}: File exists")
            continue
        if not host.parent.is_dir() and not opts.get("p"):
            status = ctx.error(f"{name}: No such file or directory")
            continue
        if _refused(ctx, name, f"'{name}'"):
            status = 1
            continue
        host.mkdir(parents=True, exist_ok=True)
        os.chmod(host, mode | 0o700)
    return status


@command("touch", summary="create files or set their times to now: -c (no create) -a -m")
def touch(ctx: Ctx) -> int:
    opts, operands = ctx.flags("cam", real="acdfmrth")
    if not operands:
        raise UsageError("Needs 1 argument")
    status = 0
    for name in operands:
        host = ctx.host(name)
        if opts.get("c") and not host.exists():
            continue
        if not host.parent.is_dir():
            status = ctx.error(f"'{name}': No such file or directory")
            continue
        if _refused(ctx, name, f"'{name}'"):
            status = 1
            continue
        host.touch()
    return status


def _copy_into(ctx: Ctx, move: bool) -> int:
    """cp and mv: SOURCE... DEST, where DEST is a folder when there are several sources."""
    if move:
        opts, operands = ctx.flags("fnvT", longs={"verbose": "v"}, real="xvnFfitT")
    else:
        opts, operands = ctx.flags("rRfpanvT", longs={"verbose": "v"}, real="DRHLPprudaslvnFfitT")
    if not operands:
        raise UsageError("Needs 1 argument")
    if len(operands) == 1:
        raise CommandFailed(f"{ctx.name}: Needs 2 arguments", 1)
    *sources, dest = operands
    dest_host = ctx.host(dest)
    into = dest_host.is_dir() and not opts.get("T")
    if len(sources) > 1 and not into:
        raise CommandFailed(f"{ctx.name}: '{dest}' not directory", 1)
    status = 0
    for src in sources:
        src_host = ctx.host(src)
        target = dest_host / src_host.name if into else dest_host
        if not os.path.lexists(src_host):
            status = ctx.error(f"bad '{src}': No such file or directory")
            continue
        if target.exists() and opts.get("n"):
            continue
        if src_host.is_dir() and not (move or opts.get("r") or opts.get("R") or opts.get("a")):
            status = ctx.error(f"Skipped dir '{src}'")
            continue
        if src_host.is_dir() and target.resolve().is_relative_to(src_host.resolve()):
            status = ctx.error(f"'{ctx.state.device_path(target)}' is '{src}'")  # a folder into itself
            continue
        shown = ctx.state.device_path(target)
        if _refused(ctx, shown, f"'{shown}'") or (move and _refused(ctx, src, f"'{src}'")):
            status = 1
            continue
        if opts.get("v"):
            ctx.write(f"{ctx.name} '{src}' -> '{ctx.state.device_path(target)}'\n")
        if move:
            os.replace(src_host, target) if not (target.is_dir() and src_host.is_dir()) else shutil.move(
                str(src_host), str(target / src_host.name)
            )
        elif src_host.is_dir():
            shutil.copytree(
                src_host,
                target,
                dirs_exist_ok=True,
                copy_function=shutil.copy2 if opts.get("p") or opts.get("a") else shutil.copy,
            )
        else:
            (shutil.copy2 if opts.get("p") or opts.get("a") else shutil.copyfile)(src_host, target)
    return status


@command("cp", summary="copy files: -r -R -a -p -f -n -v -T")
def cp(ctx: Ctx) -> int:
    return _copy_into(ctx, move=False)


@command("mv", summary="move or rename files: -f -n -v -T")
def mv(ctx: Ctx) -> int:
    return _copy_into(ctx, move=True)


def _digest(ctx: Ctx, algo: str) -> int:
    opts, operands = ctx.flags("b", real="bcs")
    status = 0
    for name in operands or ["-"]:
        h = hashlib.new(algo)
        if name == "-":
            for chunk in ctx.read_stdin():
                h.update(chunk)
        else:
            host = ctx.host(name)
            if host.is_dir():
                status = ctx.error(f"{name}: Is a directory")
                continue
            if not host.exists():
                status = ctx.error(f"{name}: No such file or directory")
                continue
            with open(host, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        ctx.write(h.hexdigest() + ("\n" if opts.get("b") else f"  {name}\n"))
    return status


@command("sha256sum", summary="SHA-256 of files or stdin: -b (digest only)")
def sha256sum(ctx: Ctx) -> int:
    return _digest(ctx, "sha256")


@command("md5sum", summary="MD5 of files or stdin: -b (digest only)")
def md5sum(ctx: Ctx) -> int:
    return _digest(ctx, "md5")


def _file_type(st: os.stat_result) -> str:
    if stat_mod.S_ISDIR(st.st_mode):
        return "directory"
    if stat_mod.S_ISLNK(st.st_mode):
        return "symbolic link"
    if stat_mod.S_ISREG(st.st_mode):
        return "regular file" if st.st_size else "regular empty file"
    return "special file"


@command("stat", summary="file status: -L, -c FORMAT with %s %n %N %a %A %F %Y %b %U %G %%")
def stat(ctx: Ctx) -> int:
    opts, operands = ctx.flags("L", values="c", longs={"format": "c"}, real="cfLt")
    if not operands:
        raise UsageError("Needs 1 argument")
    fmt = str(opts.get("c", "  File: %N\n  Size: %s\t Blocks: %b\t IO Blocks: 4096\t%F\nAccess: (%a/%A)\n"))
    if "c" in opts:
        fmt += "\n"
    status = 0
    for name in operands:
        host = ctx.host(name)
        if not os.path.lexists(host):
            status = ctx.error(f"'{name}': No such file or directory")
            continue
        st = os.stat(host) if opts.get("L") else os.lstat(host)
        owner = _owner(ctx.abspath(name))
        fields = {
            "s": str(st.st_size),
            "n": name,
            "N": f"'{name}'",
            "a": f"{st.st_mode & 0o7777:o}",
            "A": stat_mod.filemode(st.st_mode),
            "F": _file_type(st),
            "Y": str(int(st.st_mtime)),
            "b": str(st.st_blocks),
            "U": owner,
            "G": owner,
            "%": "%",
        }

        def sub(m: re.Match[str], fields: dict[str, str] = fields) -> str:  # this file's fields
            if m.group(1) not in fields:
                raise CommandFailed(f"stat: bad -c '%{m.group(1)}'", 1)
            return fields[m.group(1)]

        ctx.write(re.sub(r"%(.)", sub, fmt))
    return status


@command("wc", summary="count lines, words, bytes: -l -w -c")
def wc(ctx: Ctx) -> int:
    opts, operands = ctx.flags("clw", real="Lcmwl")
    show = [k for k in "lwc" if opts.get(k)] or ["l", "w", "c"]
    status = 0
    for name in operands or ["-"]:
        if name == "-":
            data = b"".join(ctx.read_stdin())
        else:
            host = ctx.host(name)
            if not host.is_file():
                status = ctx.error(f"{name}: No such file or directory")
                continue
            data = host.read_bytes()
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
        text = " ".join(str(counts[k]) for k in show) if len(show) == 1 else "".join(f"{counts[k]:>8}" for k in show)
        ctx.write(text + ("" if name == "-" else f" {name}") + "\n")
    return status


# Mount points the phone reports; /data and the emulated sdcard share the same free space.
_MOUNTS = (
    ("/data", "/dev/block/dm-46"),
    ("/storage/emulated", "/dev/fuse"),
    ("/sdcard", "/dev/fuse"),
    ("/", "/dev/root"),
)


def _human(n: int) -> str:
    for unit in "KMGT":
        n_units = n / 1024
        if n_units < 1024 or unit == "T":
            return f"{n_units:.1f}{unit}" if n_units < 10 else f"{n_units:.0f}{unit}"
        n = int(n_units)
    return str(n)


@command("df", summary="free space of /data, /storage/emulated, /: -k -h -a -P")
def df(ctx: Ctx) -> int:
    opts, operands = ctx.flags("khaP", real="HPkhita")
    rows = []
    status = 0
    for name in operands or ["/data", "/storage/emulated", "/"]:
        path = ctx.abspath(name)
        if not operands or os.path.exists(ctx.state.host_path(path)):
            mount, dev = next((m, d) for m, d in _MOUNTS if path == m or path.startswith(m.rstrip("/") + "/"))
            mount = "/storage/emulated" if mount == "/sdcard" else mount
            if mount == "/":
                total, free = 3_221_225_472, 0  # the read-only system image
            else:
                total, free = ctx.state.total_bytes(), ctx.state.free_bytes()
            rows.append((dev, total, total - free, free, mount))
        else:
            status = ctx.error(f"{name}: No such file or directory")
    if opts.get("h"):
        lines = [f"{'Filesystem':<18}{'Size':>6}{'Used':>6}{'Avail':>6} Use% Mounted on"]
        fmt = _human
    else:
        lines = [f"{'Filesystem':<18}{'1K-blocks':>12}{'Used':>12}{'Available':>12} Use% Mounted on"]
        fmt = None
    for dev, total, used, free, mount in rows:
        pct = f"{(used * 100 + total - 1) // total if total else 0}%"
        if fmt:
            lines.append(f"{dev:<18}{fmt(total):>6}{fmt(used):>6}{fmt(free):>6} {pct:>4} {mount}")
        else:
            lines.append(f"{dev:<18}{total // 1024:>12}{used // 1024:>12}{free // 1024:>12} {pct:>4} {mount}")
    ctx.write("".join(line + "\n" for line in lines))
    return status
