"""How a stored report output is compared with today's: the text formats byte for byte; CSV and
JSON in every column the stored output has, in its order, with only rows of the metric table
(measures/metrics.py) and the report's columns for any model (report/tables.py ANY_MODEL_COLUMNS)
appended after them (report/tables.py COLUMNS: new columns are appended, existing ones never
change meaning)."""

from __future__ import annotations

import csv
import io
import json

from fermbench.measures.metrics import BY_NAME
from fermbench.report.tables import ANY_MODEL_COLUMNS


def _appended(old: list[str], new: list[str]) -> list[str]:
    assert new[: len(old)] == old, "a column of the stored report moved or vanished"
    added = new[len(old) :]
    outside = [name for name in added if name not in BY_NAME and name not in ANY_MODEL_COLUMNS]
    assert not outside, f"columns added outside the metric table and the any-model columns: {outside}"
    return added


def assert_same_report(fmt: str, today: str, stored: str) -> None:
    if fmt == "csv":
        old, new = list(csv.reader(io.StringIO(stored))), list(csv.reader(io.StringIO(today)))
        width = len(old[0])
        _appended(old[0], new[0])
        assert len(old) == len(new) and [row[:width] for row in new] == old
    elif fmt == "json":
        old_doc, new_doc = json.loads(stored), json.loads(today)
        added = _appended(old_doc["columns"], new_doc["columns"])
        new_doc["columns"] = new_doc["columns"][: len(old_doc["columns"])]
        new_doc["results"] = [{k: v for k, v in r.items() if k not in added} for r in new_doc["results"]]
        assert new_doc == old_doc
    else:
        assert today == stored
