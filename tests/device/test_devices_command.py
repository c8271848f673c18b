"""`fermbench devices`, the first command a phone owner runs: the serial is printed whole (it is
copied into every later command), in a pipe and in a narrow terminal, and --json serves scripts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.sim.state import SimIdentity

pytestmark = pytest.mark.adb


def devices(adb_server, *args: str, columns: int = 80):
    env = {"ANDROID_ADB_SERVER_PORT": str(adb_server.port), "COLUMNS": str(columns)}
    return CliRunner().invoke(main, ["devices", *args], env=env)


@pytest.mark.parametrize("columns", [80, 50])
def test_the_serial_is_never_cut_short(adb_server, make_sim_phone, columns):
    phone = make_sim_phone(SimIdentity(model="A phone model whose name is long enough to crowd a table"))
    result = devices(adb_server, columns=columns)  # CliRunner's output is a pipe, not a terminal
    assert result.exit_code == 0, result.output
    assert "…" not in "".join(line for line in result.output.splitlines() if "127.0.0.1" in line)
    assert any(phone.serial in line for line in result.output.splitlines()), result.output


def test_json_for_scripts(adb_server, make_sim_phone):
    phone = make_sim_phone()
    result = devices(adb_server, "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed["unreachable"] == []
    (entry,) = listed["devices"]
    assert entry["serial"] == phone.serial and entry["state"] == "device" and entry["ready"] is True
    assert entry["server"] == f"127.0.0.1:{adb_server.port}" and entry["fix"] is None and entry["model"]
