"""A schema-2 session written by fermbench at commit aa6f998 still loads and reports the same.

tests/store/golden/v2-session holds the session (host runner, shallow_cnn for Lite and ExecuTorch,
2 repeats, FER-2013 and photos) and the report outputs of that commit, made by
tests/store/golden/make_golden.py. Only an intended report change may regenerate them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.report.commands import report_cmd
from golden_report import assert_same_report  # tests/ is on pytest's pythonpath

GOLDEN = Path(__file__).resolve().parent / "golden" / "v2-session"


@pytest.mark.parametrize("fmt", ["markdown", "csv", "json", "table"])
def test_v2_session_reports_as_it_did(fmt):
    env = {"COLUMNS": "200"} if fmt == "table" else {}
    result = CliRunner().invoke(report_cmd, ["--results", str(GOLDEN), "session", "--format", fmt], env=env)
    assert result.exit_code == 0, result.output
    assert_same_report(fmt, result.stdout, (GOLDEN / f"report.{fmt}").read_text(encoding="utf-8"))


def test_v2_session_draws_the_same_charts(tmp_path):
    result = CliRunner().invoke(report_cmd, ["--results", str(GOLDEN), "session", "--charts", str(tmp_path)])
    assert result.exit_code == 0, result.output
    drawn = [
        line.replace(str(tmp_path) + os.sep, "")
        for line in result.stderr.splitlines()
        if line.startswith(("chart:", "not drawn:"))
    ]
    assert drawn == (GOLDEN / "charts.txt").read_text(encoding="utf-8").splitlines()
