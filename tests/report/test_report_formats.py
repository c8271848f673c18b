"""Cell formats (fixed decimals, units) and the markdown/csv/json writers."""

from __future__ import annotations

import csv
import io
import json
import math

from fermbench.report.formats import (
    MISSING,
    Block,
    Section,
    fmt_int,
    fmt_mb,
    fmt_mib_from_kb,
    fmt_ms,
    fmt_pct,
    render_csv,
    render_json,
    render_markdown,
    render_rich,
)


def test_cells_have_fixed_decimals_and_units():
    assert fmt_ms(0.81234) == "0.812" and fmt_ms(12.5) == "12.500"
    assert fmt_pct(0.61234) == "61.2" and fmt_pct(1.0) == "100.0"
    assert fmt_mb(41_355_000) == "41.355"
    assert fmt_mib_from_kb(2048) == "2.0"
    assert fmt_int(10336711) == "10,336,711"
    assert fmt_ms(None) == fmt_pct(float("nan")) == fmt_int(None) == MISSING


def test_markdown_escapes_pipes_and_aligns_numbers():
    block = Block("dev", ["a line"], [Section("S", ["Model", "Value"], [["a|b", "1.0"]], notes=["n"], numeric={1})])
    text = render_markdown([block])
    assert "| a\\|b | 1.0 |" in text and "|---|---:|" in text and "- a line" in text and "- n" in text


def test_rich_text_has_no_trailing_spaces_and_keeps_long_cells():
    long = "x" * 150
    text = render_rich([Block("dev", [], [Section("S", ["Model"], [[long]])])])
    assert long in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_csv_and_json_writers():
    rows = [{"a": 1.5, "b": None, "c": ["x", "y"], "d": True}, {"a": float("nan"), "b": "t", "c": [], "d": False}]
    parsed = list(csv.DictReader(io.StringIO(render_csv(["a", "b", "c", "d"], rows))))
    assert parsed == [{"a": "1.5", "b": "", "c": "x;y", "d": "true"}, {"a": "", "b": "t", "c": "", "d": "false"}]
    doc = json.loads(render_json({"r": rows, "inf": math.inf}))
    assert doc["r"][1]["a"] is None and doc["inf"] is None and doc["r"][0]["c"] == ["x", "y"]
