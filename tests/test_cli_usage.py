"""Mistyped options and values are user mistakes like any other: one line naming the option and
where its help is, exit code 1 (click alone prints three lines and exits 2)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.cli import main


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "--device", "host", "--iterations", "1e23"], ("'--iterations'", "'1e23'", "fermbench run --help")),
        (["run", "--bogus"], ("'--bogus'", "fermbench run --help")),
        (["--bogus"], ("'--bogus'", "fermbench --help")),
        (["report", "--format", "xml"], ("'xml'", "fermbench report --help")),
        (["runner", "instal"], ("'instal'", "fermbench runner --help")),
    ],
)
def test_a_usage_error_is_one_line_and_exit_1(argv, words):
    one_line_error(CliRunner().invoke(main, argv, prog_name="fermbench"), *words)


def test_help_and_a_bare_group_still_print_the_help():
    assert CliRunner().invoke(main, ["run", "--help"]).exit_code == 0
    bare = CliRunner().invoke(main, ["runner"], prog_name="fermbench")
    assert "Usage: fermbench runner" in bare.output and "Error" not in bare.output
