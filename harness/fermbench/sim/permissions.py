"""What the `shell` user (uid 2000) may do on a phone, as the kernel answers it.

The simulation runs as whoever runs fermbench (often root), so the host's own file modes say
nothing: the rules a phone applies to the shell user live here, and the shell's tools and the
sync service ask before they change or list anything. What the phone itself does (installing
packages, an app writing its results) does not go through these checks.

Facts (a Pixel on Android 14): /, /system, /vendor, /product, /odm and /apex are read-only
mounts (EROFS, "Read-only file system"); /data is `drwxrwx--x system system` and its first
level folders (/data/local, /data/app, /data/data...) are not readable by others either, so the
shell may pass through them but not list them (EACCES, "Permission denied");
/data/local/tmp belongs to the shell; /sdcard and /storage are writable through FUSE.
"""

from __future__ import annotations

import errno
import os
from posixpath import normpath

# Writable by the shell user, with everything below them.
WRITABLE = ("/data/local/tmp", "/sdcard", "/storage")
# Writes elsewhere under these fail with EACCES; everywhere else the mount is read-only.
DENIED = ("/data", "/proc", "/sys", "/dev", "/mnt", "/cache", "/metadata")


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def clean(device_path: str) -> str:
    """An absolute device path with `.`, `..` and doubled slashes resolved."""
    path = normpath("/" + device_path.lstrip("/"))
    return "/" + path.lstrip("/")


def write_error(device_path: str) -> int | None:
    """The errno a write (create, remove, chmod, rename) at this path gets; None if allowed."""
    path = clean(device_path)
    if path == "/dev/null" or _under(path, WRITABLE):
        return None
    if _under(path, DENIED):
        return errno.EACCES
    return errno.EROFS


def list_error(device_path: str) -> int | None:
    """The errno that opening this folder for reading gets; None if it may be listed."""
    path = clean(device_path)
    if _under(path, WRITABLE):
        return None
    if path == "/data" or os.path.dirname(path) == "/data":
        return errno.EACCES
    return None


def check_write(device_path: str, shown: str | None = None) -> None:
    """Raise the OSError the kernel gives the shell user for a write at this path."""
    code = write_error(device_path)
    if code is not None:
        raise OSError(code, os.strerror(code), shown if shown is not None else device_path)


def check_list(device_path: str, shown: str | None = None) -> None:
    """Raise the OSError for listing this folder as the shell user."""
    code = list_error(device_path)
    if code is not None:
        raise OSError(code, os.strerror(code), shown if shown is not None else device_path)
