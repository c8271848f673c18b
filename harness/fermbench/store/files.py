"""Paths and JSON files of a session folder: names, ids, schema checks, typed reads and writes."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from .. import __version__
from ..errors import ResultsError
from ..fileio import atomic_write_json
from . import codec
from .records import SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS, Variant

T = TypeVar("T")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def slug(text: str) -> str:
    """A file-name-safe form of a serial or model name (`127.0.0.1:15555` -> `127.0.0.1_15555`)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return safe if safe.strip(".") else "_" + safe  # never "", "." or ".."


def variant_stem(variant: Variant) -> str:
    """The file-name stem of a variant's record, samples and predictions."""
    return ".".join(slug(part) for part in (variant.model, variant.runtime, variant.quant))


def new_session_id() -> str:
    """Sortable by creation time, unique across parallel runs: 20240101-120000-a1b2."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def git_revision() -> str | None:
    """The harness's git commit (with `-dirty` when the tree has changes), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except FileNotFoundError as exc:
        raise ResultsError(f"{path} is missing; is this a fermbench results folder?") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(
            f"{path} is not valid JSON ({exc}); the file is corrupt, delete the session or restore the file"
        ) from exc
    if not isinstance(obj, dict):
        raise ResultsError(f"{path} does not hold a JSON object; the file is corrupt")
    return obj


def check_schema(obj: dict[str, Any], where: Path) -> None:
    version = obj.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ResultsError(
            f"{where}: schema_version {version} was written by a newer fermbench than this one "
            f"({__version__}, schema {SCHEMA_VERSION}); upgrade fermbench to read it"
        )
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ResultsError(
            f"{where}: schema_version {version!r} is not one this fermbench {__version__} reads "
            f"({', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}); use the fermbench version that "
            f"wrote it (harness version in session.json) or re-run the session"
        )


def read_typed(cls: type[T], path: Path, migrate: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> T:
    """A schema-checked JSON file of the session as its dataclass; `migrate` turns an older
    schema's object into the current one first (store/migrate.py)."""
    obj = read_json(path)
    check_schema(obj, path)
    if obj.get("schema_version") != SCHEMA_VERSION and migrate is not None:
        obj = migrate(obj)
    return codec.from_json(cls, obj, str(path))


def write_typed(path: Path, obj: Any) -> Path:
    return atomic_write_json(path, codec.to_json(obj))
