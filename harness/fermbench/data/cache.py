"""Decoded splits cached on disk, keyed by the source's content.

Two small maps, both under `paths.cache_dir()/fer2013/`:
- `<content key>.npz`: the decoded arrays; the key hashes the source bytes, so changed data
  can never be served from an old entry.
- `stat/<fingerprint>`: the content key last computed for a given set of file metadata
  (path, inode, size, mtime, ctime), so a repeated load need not re-read every file to hash it.
  This is how git's index avoids re-hashing unchanged files.
Entries are written atomically; a damaged entry is ignored and rebuilt.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .. import paths


def root() -> Path:
    return paths.cache_dir() / "fer2013"


def key_for(fingerprint: str) -> str | None:
    try:
        return (root() / "stat" / fingerprint).read_text().strip() or None
    except OSError:
        return None


def remember(fingerprint: str, key: str) -> None:
    def write(fh: BinaryIO) -> None:
        fh.write(key.encode())

    _atomic(root() / "stat" / fingerprint, write)


def load(key: str) -> dict[str, np.ndarray] | None:
    path = root() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None  # damaged: the caller decodes again and overwrites it


def store(key: str, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    _atomic(root() / f"{key}.npz", lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]  # numpy's stub


def _atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Best effort: a cache that cannot be written only costs time, never the load."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
