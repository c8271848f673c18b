"""Writing files so that nothing is ever half-written: temp file in the same folder, fsync, rename."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import StorageError


def storage_error(path: Path, exc: OSError) -> StorageError:
    """One line naming the file, why it could not be written and, for a full disk, the free space."""
    where = path if path.parent.exists() else path.parent
    free = ""
    try:
        free = f" ({shutil.disk_usage(_existing(where)).free / 1e6:.1f} MB free there)"
    except OSError:
        pass
    if exc.errno == errno.ENOSPC:
        return StorageError(
            f"cannot write {path}: no space left on the device{free}; "
            f"free some space or write elsewhere (--out / FERMBENCH_RESULTS)"
        )
    return StorageError(f"cannot write {path}: {exc.strerror or exc}{free}; choose a writable folder")


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically; a crash leaves the old file or none, never a partial one.

    Any OSError (disk full, read-only folder) becomes a StorageError naming the file; the
    temporary file is removed and the old file, if any, is left as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise storage_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise storage_error(path, exc) from None
        raise
    return path


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask is process-wide, not thread-safe to poke


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def append_line(path: str | os.PathLike[str], line: str) -> None:
    """Append one line and fsync, for logs and CSVs written as events happen."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line.rstrip("\n") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise storage_error(path, exc) from None


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
