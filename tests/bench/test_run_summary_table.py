"""`fermbench run`'s closing table and `fermbench report` show one median per variant: both come
from stats.variant_latency over the stored samples of every repeat (the saved schema-1 session has
two repeats per model, whose medians differ)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from fermbench.bench.commands import summary_table
from fermbench.report.results import build_report_data
from fermbench.store import load_session

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v1-session"


def test_run_table_and_report_give_the_same_median_and_interval():
    session = load_session(FIXTURE / "session")
    outcome = SimpleNamespace(
        store=SimpleNamespace(path=session.path, info=session.info, session_id=session.id),
        status="ok",
        records=session.records,
    )
    console = Console(width=250, record=True)
    console.print(summary_table(outcome))
    lines = console.export_text().splitlines()
    data = build_report_data([FIXTURE / "session"])
    timed = [r for r in data.results if r.latency is not None]
    assert timed and all(r.repeats == 2 for r in timed)
    for r in timed:
        low, high = r.latency.median_ci_ms
        cell = f"{r.latency.median_ms:.3f} [{low:.3f}-{high:.3f}]"
        row = next(line for line in lines if r.device.serial in line and f" {r.model} " in line)
        assert cell in row and f" {r.latency.n} " in row
