"""The results schema as Markdown, generated from the record dataclasses (their fields, types and
the comment beside each field), for results/README.md. A test keeps the README's copy current;
`python -m fermbench.store.docs results/README.md` rewrites it."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

from ..measures.metrics import MEASURED
from ..measures.readings import EnvReading, Foreground, MemoryReading
from ..stats import LatencySummary
from . import records as r
from .codec import INLINE

BEGIN, END = "<!-- schema: generated from fermbench/store/records.py -->", "<!-- schema: end -->"

# In the order a reader meets them: session.json, then a record and its phases.
TYPES: tuple[type, ...] = (
    r.SessionInfo,
    r.Harness,
    r.SessionDevice,
    r.RunnerInfo,
    r.Record,
    r.Phase,
    r.LatencyRepeat,
    r.LatencySettings,
    r.TimingInput,
    LatencySummary,
    r.Memory,
    MemoryReading,
    r.Thermal,
    EnvReading,
    Foreground,
    r.RuntimeUsed,
    r.AccuracyPhase,
    r.RealworldPhase,
    r.PhotoCounts,
    r.AppSizePhase,
)


def _type_name(tp: Any) -> str:
    text = str(tp) if not isinstance(tp, type) else tp.__name__
    text = re.sub(r"\b(?:typing|fermbench\.[\w.]+)\.", "", text)
    return text.replace("NoneType", "null")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _comments(cls: type) -> dict[str, str]:
    """The `# ...` comment on each field's line in the class's source."""
    out = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+): [^#]+#\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def _rows(f: dataclasses.Field[Any], hints: dict[str, Any], comments: dict[str, str]) -> str:
    """A field's row; an inline field (the metric table's values) has one row per key it holds."""
    if INLINE in f.metadata:
        return "\n".join(
            f"| `{m.name}` | `{m.kind.__name__} \\| None` | {_cell(m.doc)} ({m.unit}; the metric "
            f"table's row, measures/metrics.py) |"
            for m in MEASURED
        )
    return f"| `{f.name}` | `{_cell(_type_name(hints[f.name]))}` | {_cell(comments.get(f.name, ''))} |"


def schema_markdown() -> str:
    parts = []
    for cls in TYPES:
        hints = typing.get_type_hints(cls)
        comments = _comments(cls)
        base = next((b.__name__ for b in cls.__mro__[1:] if dataclasses.is_dataclass(b)), None)
        doc = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        own = [
            f
            for f in dataclasses.fields(cls)
            if base is None or f.name not in {g.name for g in dataclasses.fields(getattr(r, base))}
        ]
        parts.append(f"### {cls.__name__}\n\n{doc}" + (f" Also has every field of `{base}`." if base else "") + "\n")
        parts.append("| field | type | meaning |\n| --- | --- | --- |")
        parts.append("\n".join(_rows(f, hints, comments) for f in own) + "\n")
    return "\n".join(parts)


def replace_block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n\n" + schema_markdown() + "\n" + text[end:]


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    path = Path(sys.argv[1])
    path.write_text(replace_block(path.read_text(encoding="utf-8")), encoding="utf-8")
