"""FER-2013 as the Kaggle CSV: columns `emotion,pixels,Usage`, one 48x48 image per row.

`pixels` holds 2304 space-separated values 0-255, row-major; `emotion` is the label in the
dataset's own order; `Usage` is the split. Header names are matched without surrounding spaces
and in any order (the ICML copy writes `emotion, Usage, pixels`). A row's name is `row<i>`,
its 0-based index among the data rows (file line i + 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

import numpy as np

from ..labels import NUM_CLASSES
from .problems import Problems

SPLITS = ("Training", "PublicTest", "PrivateTest")
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv")
PIXELS = 48 * 48
COLUMNS = ("emotion", "pixels", "Usage")


def find_csv(path: Path) -> Path | None:
    """`path` itself when it is a .csv file, or the known CSV inside the folder `path`."""
    if path.is_file() and path.suffix.lower() == ".csv":
        return path
    if path.is_dir():
        for name in CSV_NAMES:
            if (path / name).is_file():
                return path / name
    return None


def fingerprint(path: Path) -> str:
    st = os.stat(path)
    ident = f"{path.resolve()}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()


def read(path: Path, tag: str) -> dict[str, tuple[np.ndarray, np.ndarray, list[str], str]]:
    """Parse every row; return split -> (images, labels, names, content key). Bad rows raise DataError."""
    raw = path.read_bytes()
    file_hash = hashlib.sha256(raw).hexdigest()
    problems = Problems(str(path))
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig", errors="replace"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        problems.add("header", f"missing column(s) {', '.join(missing)} (found {', '.join(header) or 'nothing'})")
        problems.raise_if_any("pass the Kaggle fer2013.csv (columns emotion,pixels,Usage)")
    col = {c: header.index(c) for c in COLUMNS}

    rows: dict[str, list[tuple[int, np.ndarray, int]]] = {s: [] for s in SPLITS}
    for i, row in enumerate(reader):
        where = f"line {reader.line_num}"
        if not row:
            problems.add(where, "empty row")
            continue
        if len(row) != len(header):
            problems.add(where, f"{len(row)} fields, expected {len(header)}")
            continue
        emotion, pixels, usage = (row[col[c]].strip() for c in COLUMNS)
        if not emotion.isdigit() or int(emotion) >= NUM_CLASSES:
            problems.add(where, f"emotion {emotion!r} is not a class index 0-{NUM_CLASSES - 1}")
            continue
        if usage not in rows:
            problems.add(where, f"Usage {usage!r} is not one of {', '.join(SPLITS)}")
            continue
        try:
            values = np.fromstring(pixels, dtype=np.int32, sep=" ")
        except ValueError:
            problems.add(where, "pixels are not space-separated integers")
            continue
        if values.size != PIXELS:
            problems.add(where, f"{values.size} pixels, expected {PIXELS} (48x48)")
            continue
        if values.min() < 0 or values.max() > 255:
            problems.add(where, "pixel values outside 0-255")
            continue
        rows[usage].append((i, values.astype(np.uint8), int(emotion)))
    problems.raise_if_any("fix or remove these rows")

    out = {}
    for split, items in rows.items():
        images = np.stack([v for _, v, _ in items]).reshape(-1, 48, 48) if items else np.empty((0, 48, 48), np.uint8)
        labels = np.array([y for _, _, y in items], dtype=np.int64)
        key = hashlib.sha256(f"{tag}:csv:{split}:{file_hash}".encode()).hexdigest()
        out[split] = (images, labels, [f"row{i}" for i, _, _ in items], key)
    return out
