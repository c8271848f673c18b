"""Assertions shared by the tests of commands (tests/ is on pytest's pythonpath, setup.cfg)."""

from __future__ import annotations

from click.testing import Result


def one_line_error(result: Result, *words: str) -> str:
    """A user mistake's answer: exit code 1 and one line `Error: ...` holding every word given."""
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert out.startswith("Error: ") and "\n" not in out and "Traceback" not in out, out
    for w in words:
        assert w in out, out
    return out
