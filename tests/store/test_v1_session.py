"""Results written by an earlier fermbench (schema version 1) still load and report the same.

The fixture (tests/fixtures/v1-session) was written by `fermbench run` at commit 846ec43 and its
report outputs were saved at that commit. A report change that is intended regenerates them
(see tests/fixtures/README.md); anything else that changes them is a regression.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.report.commands import report_cmd
from golden_report import assert_same_report  # tests/ is on pytest's pythonpath

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v1-session"


@pytest.mark.parametrize("fmt", ["markdown", "csv", "json", "table"])
def test_v1_session_reports_as_it_did(fmt):
    env = {"COLUMNS": "200"} if fmt == "table" else {}
    result = CliRunner().invoke(report_cmd, ["--results", str(FIXTURE), "session", "--format", fmt], env=env)
    assert result.exit_code == 0, result.output
    assert_same_report(fmt, result.stdout, (FIXTURE / f"report.{fmt}").read_text(encoding="utf-8"))


def test_v1_session_draws_the_same_charts(tmp_path):
    result = CliRunner().invoke(report_cmd, ["--results", str(FIXTURE), "session", "--charts", str(tmp_path)])
    assert result.exit_code == 0, result.output
    drawn = [
        line.replace(str(tmp_path) + os.sep, "")
        for line in result.stderr.splitlines()
        if line.startswith(("chart:", "not drawn:"))
    ]
    expected = (FIXTURE / "charts.txt").read_text(encoding="utf-8").splitlines()
    assert drawn == expected
    assert all((tmp_path / line.split(": ", 1)[1]).stat().st_size > 1000 for line in drawn if line.startswith("chart:"))
