"""fermbench's own temporary folders: marked with their owner, removed on exit, swept after a kill.

Every temporary folder fermbench makes holds a marker file naming the process that made it.
A process killed with `kill -9` cannot clean up, so the next `fermbench run`, `sim` or `doctor`
sweeps the system temp folder: it removes folders whose marker names a process that is no
longer running, and nothing else (no marker, another prefix, a live owner: left alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .locks import pid_alive

MARKER = ".fermbench-owner"
PREFIX = "fermbench-"


def make_temp_dir(purpose: str, parent: Path | None = None) -> Path:
    """A new folder `fermbench-<purpose>-XXXX` with its owner marker; remove_temp_dir() it after."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-", dir=parent))
    (path / MARKER).write_text(json.dumps({"pid": os.getpid(), "created": time.time()}), encoding="utf-8")
    return path


def remove_temp_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def temp_dir(purpose: str, parent: Path | None = None) -> Iterator[Path]:
    path = make_temp_dir(purpose, parent)
    try:
        yield path
    finally:
        remove_temp_dir(path)


def _owner(path: Path) -> int | None:
    try:
        pid = json.loads((path / MARKER).read_text(encoding="utf-8"))["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if isinstance(pid, int) else None


def sweep(root: Path | None = None) -> list[Path]:
    """Remove fermbench temp folders left by processes that died; returns what was removed."""
    root = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return removed
    for path in candidates:
        pid = _owner(path)
        if pid is not None and pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
