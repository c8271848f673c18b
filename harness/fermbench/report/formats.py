"""Cell formatting and the four output formats (rich table, markdown, csv, json).

A `Section` is one titled table of already formatted cells; the machine formats (csv, json)
never see formatted cells, only the raw values under stable column names.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..display import markup_safe, plain

# The metric table's formatters are the report's: one definition of how a millisecond prints.
from ..measures.metrics import MISSING as MISSING
from ..measures.metrics import fmt_int as fmt_int
from ..measures.metrics import fmt_mib_from_kb as fmt_mib_from_kb
from ..measures.metrics import fmt_ms as fmt_ms

FORMATS = ("table", "markdown", "csv", "json")
MARK = "⚠"  # beside a number that has a warning listed under its table


# --- cells ---------------------------------------------------------------------------------
# Fixed decimals so that golden-text checks and papers see the same text for the same value.


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_pct(v: float | None) -> str:
    """A fraction 0..1 as a percentage with one decimal (0.6123 -> 61.2)."""
    return MISSING if v is None or _missing(v) else f"{100 * v:.1f}"


def fmt_mb(v: int | float | None) -> str:
    """Bytes in MB (10^6 bytes), three decimals."""
    return MISSING if v is None or _missing(v) else f"{v / 1e6:.3f}"


def fmt_loss(v: float | None) -> str:
    return MISSING if _missing(v) else f"{v:.4f}"


def fmt_text(v: Any) -> str:
    return MISSING if _missing(v) or v == "" else str(v)


# --- sections --------------------------------------------------------------------------------


@dataclass
class Section:
    """A titled table: headers, rows of formatted cells, and notes printed under it."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # column indexes aligned right


@dataclass
class Block:
    """A heading (one device in one session) with its lines and sections."""

    heading: str
    lines: list[str]
    sections: list[Section]


def render_rich(blocks: Sequence[Block], width: int | None = None) -> str:
    """Rich tables as text (colour only when the output is a terminal)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    # Wide enough that no cell is ever cut; a narrow terminal wraps lines instead of hiding digits.
    console = Console(
        file=buf, width=width or 400, force_terminal=False, color_system=None, highlight=False, soft_wrap=True
    )
    for bi, block in enumerate(blocks):
        if bi:
            console.print()
        console.print(plain(block.heading), markup=False)  # serials in results came from an adb server
        for line in block.lines:
            console.print(f"  {plain(line)}", markup=False)
        for section in block.sections:
            table = Table(title=markup_safe(section.title), box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
            for i, header in enumerate(section.headers):
                table.add_column(header, justify="right" if i in section.numeric else "left", no_wrap=True)
            for row in section.rows:
                table.add_row(*(markup_safe(cell) for cell in row))
            console.print(table)
            for note in section.notes:
                console.print(f"  {plain(note)}", markup=False)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        out.append(f"## {block.heading}")
        out.append("")
        out.extend(f"- {line}" for line in block.lines)
        if block.lines:
            out.append("")
        for section in block.sections:
            out.append(f"### {section.title}")
            out.append("")
            out.append("| " + " | ".join(_md_cell(h) for h in section.headers) + " |")
            out.append(
                "|" + "|".join("---:" if i in section.numeric else "---" for i in range(len(section.headers))) + "|"
            )
            for row in section.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            out.append("")
            for note in section.notes:
                out.append(f"- {note}")
            if section.notes:
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def _csv_value(v: Any) -> Any:
    if _missing(v):
        return ""
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def render_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return buf.getvalue()


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def render_json(payload: dict[str, Any]) -> str:
    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [clean(v) for v in obj]
        return _json_value(obj)

    return json.dumps(clean(payload), indent=2, sort_keys=False) + "\n"
