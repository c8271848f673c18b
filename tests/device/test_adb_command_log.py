"""Every adb command fermbench sends is logged at DEBUG with the serial it went to (the
`fermbench.device` logger); `fermbench -v` prints them on stderr, and without it nothing extra prints.
Run through the real adb server against the simulated phone."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.device import Device

pytestmark = pytest.mark.adb


def fermbench(adb_server, *args: str):
    return CliRunner().invoke(main, list(args), env={"ANDROID_ADB_SERVER_PORT": str(adb_server.port)})


def test_each_kind_of_command_is_logged_with_the_serial_of_its_phone(adb_server, sim_phone, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="fermbench.device")
    dev = Device(sim_phone.serial, adb_port=adb_server.port)
    local = tmp_path / "model.ptl"
    local.write_bytes(b"weights" * 100)
    dev.shell(["echo", "hello from the log test"])
    dev.push(local, "/data/local/tmp/fermbench/model.ptl")
    dev.pull("/data/local/tmp/fermbench/model.ptl", tmp_path / "back.ptl")
    dev.state()

    mine = [
        r for r in caplog.records if r.name == "fermbench.device" and getattr(r, "serial", None) == sim_phone.serial
    ]
    lines = [r.getMessage() for r in mine]
    assert all(line.startswith(f"[{sim_phone.serial}] ") for line in lines)
    assert all(r.levelno == logging.DEBUG for r in mine)
    text = "\n".join(lines)
    assert "shell,v2,raw:echo 'hello from the log test'" in text  # the command as sent, quoted
    assert "exit 0 in " in text and ": echo 'hello from the log test'" in text  # and how it ended
    assert f"push {local} -> /data/local/tmp/fermbench/model.ptl" in text
    assert f"pull /data/local/tmp/fermbench/model.ptl -> {tmp_path / 'back.ptl'}" in text
    assert "host:devices-l" in text


def test_fermbench_v_prints_the_adb_commands_with_the_serial_and_without_v_nothing_extra_prints(adb_server, sim_phone):
    verbose = fermbench(adb_server, "-v", "runner", "status", "--device", sim_phone.serial)
    quiet = fermbench(adb_server, "runner", "status", "--device", sim_phone.serial)
    assert verbose.stdout == quiet.stdout and verbose.exit_code == quiet.exit_code, verbose.output
    logged = [line for line in verbose.stderr.splitlines() if f"fermbench.device: [{sim_phone.serial}] " in line]
    assert any("shell,v2,raw:" in line for line in logged), verbose.stderr
    assert any("dumpsys package" in line for line in logged), verbose.stderr  # what `runner status` asks
    assert "fermbench.device" not in quiet.stderr and sim_phone.serial not in quiet.stderr, quiet.stderr


def test_fermbench_v_devices_logs_the_question_to_the_adb_server(adb_server, sim_phone):
    verbose = fermbench(adb_server, "-v", "devices")
    assert verbose.exit_code == 0, verbose.output
    assert f"[adb server 127.0.0.1:{adb_server.port}] host:devices-l" in verbose.stderr
    assert sim_phone.serial in verbose.stdout
    quiet = fermbench(adb_server, "devices")
    assert quiet.exit_code == 0 and "host:devices-l" not in quiet.stderr


def test_a_later_command_without_v_in_the_same_process_logs_nothing():
    # -v reconfigures per command: the handler of an earlier `-v` call does not stay behind
    root = logging.getLogger("fermbench")
    assert CliRunner().invoke(main, ["-v", "devices", "--help"]).exit_code == 0
    assert root.level == logging.DEBUG and [h for h in root.handlers if type(h).__name__ == "_Verbose"]
    assert CliRunner().invoke(main, ["devices", "--help"]).exit_code == 0
    assert root.level == logging.NOTSET and not [h for h in root.handlers if type(h).__name__ == "_Verbose"]
