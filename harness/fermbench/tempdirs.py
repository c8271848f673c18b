"""fermbench's temporary folders: marked with their owner, removed on exit, swept after a kill.

Every temporary folder fermbench makes (its adb servers' HOME, simulated phones' file systems,
the host runner's work folder, export staging beside models/) holds a marker naming the process
that made it: its pid and that process's start time, so a pid reused by another program does not
pass for the owner. A process killed with `kill -9` cannot clean up, so the next `fermbench run`,
`sim`, `devices`, `doctor` or export sweeps: a folder whose owner is dead is removed, after the
processes that were started to live in it (an adb server whose HOME it is) are stopped. Nothing
else is touched (no marker, another prefix, a live owner: left alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .locks import pid_alive

MARKER = ".fermbench-owner"
PREFIX = "fermbench-"


def process_start(pid: int) -> int | None:
    """When a process started (clock ticks since boot, Linux /proc); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return None


def owner_alive(pid: int, start: int | None) -> bool:
    """Is the process that wrote a marker still running (the same process, not a reused pid)?"""
    if pid == os.getpid():
        return True
    if not pid_alive(pid):
        return False
    now = process_start(pid)
    return start is None or now is None or now == start


def mark(path: Path) -> Path:
    """Write the owner marker (this process) into a folder fermbench just made."""
    (path / MARKER).write_text(
        json.dumps({"pid": os.getpid(), "start": process_start(os.getpid()), "created": time.time()}), encoding="utf-8"
    )
    return path


def make_temp_dir(purpose: str, parent: Path | None = None, prefix: str = PREFIX) -> Path:
    """A new folder `fermbench-<purpose>-XXXX` with its owner marker; remove_temp_dir() it after."""
    return mark(Path(tempfile.mkdtemp(prefix=f"{prefix}{purpose}-", dir=parent)))


def remove_temp_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def temp_dir(purpose: str, parent: Path | None = None) -> Iterator[Path]:
    path = make_temp_dir(purpose, parent)
    try:
        yield path
    finally:
        remove_temp_dir(path)


def _owner(path: Path) -> tuple[int, int | None] | None:
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
        pid, start = data["pid"], data.get("start")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(pid, int) or isinstance(pid, bool) or not (start is None or isinstance(start, int)):
        return None
    return pid, start


def orphaned(path: Path) -> bool:
    """A marked folder whose owner is no longer running."""
    owner = _owner(path)
    return owner is not None and not owner_alive(*owner)


def processes_homed_in(folder: Path) -> list[int]:
    """Processes started with HOME set to `folder` (fermbench starts its adb servers so): attributed
    by that exact path, never by name."""
    found: list[int] = []
    want = b"HOME=" + os.fsencode(str(folder))
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if want in env:
            found.append(int(entry.name))
    return found


def stop_processes(pids: list[int], grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL what is still there after `grace_s`."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(pid_alive(p) and not _zombie(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if pid_alive(pid) and not _zombie(pid):
                os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def sweep(root: Path | None = None, prefix: str = PREFIX) -> list[Path]:
    """Remove fermbench folders left by processes that died (stopping what still runs in them);
    returns what was removed."""
    root = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()]
    except OSError:
        return removed
    for path in candidates:
        if orphaned(path):
            stop_processes(processes_homed_in(path))
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
