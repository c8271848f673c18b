"""Locks between fermbench processes: one writer per session, one session at a time on the host CPU.

A lock is an `fcntl.flock` on a file that also names its owner (pid, host, what, since). The
kernel releases a flock when its process dies, so a lock left by a killed process is never in
the way: the next owner takes it over and says whose it was. The owner record is for messages
only; the flock decides.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    what: str  # e.g. "fermbench run session 20240101-120000-a1b2"
    since: str  # local time it was taken

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.what}, since {self.since})"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class ProcessLock:
    """An exclusive lock held by this process until release() (or its death)."""

    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None
        self.previous: Owner | None = None  # the owner it took over from, when that one had died

    def owner(self) -> Owner | None:
        """Who the file says holds (or last held) the lock."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Owner(int(data["pid"]), str(data["host"]), str(data["what"]), str(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False (and nothing changed) if somebody does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        last = self.owner()
        self.previous = last if last is not None and last.pid != os.getpid() else None
        mine = Owner(os.getpid(), socket.gethostname(), self.what, time.strftime("%Y-%m-%d %H:%M:%S"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(mine)).encode(), 0)
        self._fd = fd
        return True

    def acquire(self, on_wait: Callable[[Owner | None], None], poll_s: float = 0.5) -> None:
        """Take the lock, waiting for its holder; `on_wait(holder)` is called once before waiting."""
        told = False
        while not self.try_acquire():
            if not told:
                on_wait(self.owner())
                told = True
            time.sleep(poll_s)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def host_cpu_lock(what: str) -> ProcessLock:
    """The lock that keeps two sessions from measuring on this machine's CPU at the same time
    (the host runner and simulated phones run their models here)."""
    folder = Path(tempfile.gettempdir()) / f"fermbench-{os.getuid()}"
    return ProcessLock(folder / "host-cpu.lock", what)
