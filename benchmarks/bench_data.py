"""Dataset loading: first load (read, validate, decode, write cache) vs a repeated, cached load.

Uses a fresh cache folder, so the first load really decodes. Also times the Kaggle CSV form of the
same data (written once to a temp folder from the decoded images) because its parse is the slow one.

    python benchmarks/bench_data.py --data ../shared/fer2013
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fermbench.data.fer2013 import SPLITS, load_split


def timed_load(path, split, repeats) -> tuple[float, float]:
    """(first load seconds, median of `repeats` cached loads)."""
    start = time.perf_counter()
    first = load_split(path, split)
    first_s = time.perf_counter() - start
    assert not first.from_cache, "the cache folder was not fresh"
    again = []
    for _ in range(repeats):
        start = time.perf_counter()
        data = load_split(path, split)
        again.append(time.perf_counter() - start)
        assert data.from_cache and data.digest == first.digest
    return first_s, statistics.median(again)


def write_kaggle_csv(src: Path, dst: Path) -> None:
    with open(dst, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["emotion", "pixels", "Usage"])
        for split in SPLITS:
            try:
                data = load_split(src, split)
            except Exception:
                continue
            for img, y in zip(data.images.numpy(), data.labels.tolist()):
                out.writerow([y, " ".join(map(str, img.ravel().tolist())), split])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/fer2013")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-csv", action="store_true", help="skip the CSV form")
    args = ap.parse_args()
    if not Path(args.data).exists():
        print(f"no dataset at {args.data}: nothing to measure")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FERMBENCH_CACHE"] = str(Path(tmp) / "cache")
        print(f"{'source':8} {'split':11} {'first load':>11} {'cached':>9} {'ratio':>7}")
        for split in ("Training", "PublicTest"):
            first, cached = timed_load(args.data, split, args.repeats)
            print(f"{'folder':8} {split:11} {first:10.2f}s {cached:8.3f}s {cached / first:7.1%}")
        if not args.no_csv:
            csv_path = Path(tmp) / "fer2013.csv"
            write_kaggle_csv(Path(args.data), csv_path)
            os.environ["FERMBENCH_CACHE"] = str(Path(tmp) / "cache-csv")
            first, cached = timed_load(csv_path, "Training", args.repeats)
            print(
                f"{'csv':8} {'Training':11} {first:10.2f}s {cached:8.3f}s {cached / first:7.1%}"
                f"  ({csv_path.stat().st_size / 1e6:.0f} MB; the first load parses every split)"
            )
    print("note: 'first load' reads files the OS may already hold in its page cache")
    return 0


if __name__ == "__main__":
    sys.exit(main())
