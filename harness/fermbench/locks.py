"""Locks between fermbench processes: one writer per session, one session at a time on the host CPU.

A lock is an `fcntl.flock` on a file that also names its owner (pid, host, what, since). The
kernel releases a flock when its process dies, so a lock left by a killed process is never in
the way: the next owner takes it over and says whose it was. The owner record is for messages
only; the flock decides.

A lock file is opened without following links (`O_NOFOLLOW`), must be a regular file of this
user with one name, and is rewritten only when it is empty or an owner record fermbench wrote:
a file planted under a lock's name is refused, never truncated. The host-wide lock lies in a
private per-user runtime folder (mode 0700, checked for owner and mode at every use).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import LockError
from .fileio import storage_error


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LockError(
                    f"lock file {self.path} is a symbolic link; fermbench never follows one: remove it"
                ) from None
            raise _cannot(self.path, exc) from None
        try:
            self._check_file(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        last = self.owner()
        self.previous = last if last is not None and last.pid != os.getpid() else None
        mine = Owner(os.getpid(), socket.gethostname(), self.what, time.strftime("%Y-%m-%d %H:%M:%S"))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(asdict(mine)).encode(), 0)
        except OSError as exc:  # a full or read-only disk: one line, and the lock is not kept
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise _cannot(self.path, exc) from None
        self._fd = fd
        return True

    def _check_file(self, fd: int) -> None:
        """Refuse anything but this user's own lock file: never rewrite a file fermbench did not make."""
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.getuid():
            raise LockError(
                f"lock file {self.path} is not a regular file of this user with one name (owner uid "
                f"{st.st_uid}, {st.st_nlink} links); fermbench will not write it: remove it"
            )
        if st.st_size and self.owner() is None:
            raise LockError(
                f"{self.path} exists and is not a fermbench lock file ({st.st_size} bytes); "
                "fermbench will not overwrite it: move it away"
            )

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


def runtime_dir() -> Path:
    """This user's private folder for host-wide locks: <tmp>/fermbench-<uid>, mode 0700, created
    here; an existing one must be a real folder (not a link) of this user, and is made 0700."""
    folder = Path(tempfile.gettempdir()) / f"fermbench-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _cannot(folder, exc) from None
    st = os.lstat(folder)
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(folder, 0o700)  # this user's own folder from an older fermbench: made private
        st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        what = (
            "not a folder (a link or a file)"
            if not stat.S_ISDIR(st.st_mode)
            else f"owned by uid {st.st_uid}"
            if st.st_uid != os.getuid()
            else f"mode {stat.S_IMODE(st.st_mode):o}"
        )
        raise LockError(
            f"fermbench's runtime folder {folder} is {what}, not a private folder of this user "
            f"(uid {os.getuid()}, mode 700); remove it, or point TMPDIR at a folder only you can write"
        )
    return folder


def host_cpu_lock(what: str) -> ProcessLock:
    """The lock that keeps two sessions from measuring on this machine's CPU at the same time
    (the host runner and simulated phones run their models here)."""
    return ProcessLock(runtime_dir() / "host-cpu.lock", what)


def _cannot(path: Path, exc: OSError) -> LockError:
    """One line for a lock that cannot be written (full or read-only disk, no permission)."""
    return LockError(str(storage_error(path, exc)))
