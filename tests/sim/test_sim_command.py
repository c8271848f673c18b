"""`fermbench sim` runs phones by hand: prints each serial and the adb connect line, says that
it accepts adb without authentication, listens on loopback only, stops on Ctrl-C or SIGTERM,
refuses bad ports in one line, and leaves nothing running."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from child_signals import sigint_default  # tests/ is on pytest's pythonpath
from fermbench.cli import main
from ports import free_block

NO_AUTH = "accepts any adb connection without authentication"


def start_sim(*args: str) -> subprocess.Popen:
    # a test stops it with Ctrl-C: it must be able to receive one however the suite was started
    return subprocess.Popen(
        [sys.executable, "-m", "fermbench.cli", "sim", *args],
        preexec_fn=sigint_default,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.adb
def test_sim_command_serves_until_interrupted(adb_server):
    proc = start_sim("--port", "0", "--model", "HandPhone")
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        serial = first.strip().split()[-1]
        assert serial.startswith("127.0.0.1:")
        assert second.split() == ["connect", "with:", "adb", "connect", serial]
        adb_server.connect(serial)
        models = {d.serial: d.info.get("model") for d in adb_server.devices()}
        assert models[serial] == "HandPhone"
        adb_server.disconnect(serial)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        err = proc.stderr.read()
        assert "stopped" in err and NO_AUTH in err and "127.0.0.1 only" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.adb
def test_sim_count_runs_phones_on_consecutive_ports_until_sigterm(adb_server, listening_address):
    base = free_block(3)
    proc = start_sim("--port", str(base), "--count", "3")
    try:
        lines = [proc.stdout.readline() for _ in range(6)]
        serials = [ln.strip().split()[-1] for ln in lines[0::2]]
        assert serials == [f"127.0.0.1:{base + k}" for k in range(3)]
        for serial in serials:
            adb_server.connect(serial)
        ready = {d.serial for d in adb_server.devices() if d.state == "device"}
        assert set(serials) <= ready
        serialnos = {adb_server.adb("-s", s, "shell", "getprop ro.serialno").stdout for s in serials}
        assert serialnos == {"FERMSIM0001\n", "FERMSIM0002\n", "FERMSIM0003\n"}
        # each phone has a file system of its own
        adb_server.adb("-s", serials[0], "shell", "echo mine > /data/local/tmp/f")
        assert adb_server.adb("-s", serials[1], "shell", "ls /data/local/tmp").stdout == ""
        assert [listening_address(base + k) for k in range(3)] == ["127.0.0.1"] * 3
        for serial in serials:
            adb_server.disconnect(serial)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "simulated phones stopped" in proc.stderr.read()
        for port in range(base, base + 3):  # every port is free again
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "99999"], "Error: port 99999 is not a TCP port; choose --port in 1-65535"),
        (["--port", "-1"], "Error: port -1 is not a TCP port; choose --port in 1-65535"),
        (["--port", "65535", "--count", "2"], "Error: port 65535-65536 is not a TCP port"),
        (["--port", "5555"], "Error: port 5555 is in adb's emulator scan range 5554-5585"),
        (["--port", "5540", "--count", "20"], "Error: ports 5540-5559 overlap adb's emulator scan range 5554-5585"),
        (["--port", "5586", "--count", "0"], "Error: --count 0: give at least 1 phone"),
        (["--port", "0", "--reboot-delay", "-1"], "Error: --reboot-delay -1.0: give 0 seconds or more"),
    ],
)
def test_bad_ports_are_one_line_errors(args, message):
    result = CliRunner().invoke(main, ["sim", *args])
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing started


def test_a_port_in_use_is_a_one_line_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["sim", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: simulated phone cannot listen on port {port}: ")
    assert result.stderr.count("\n") == 1


def test_help_says_there_is_no_authentication_and_loopback_only():
    text = " ".join(CliRunner().invoke(main, ["sim", "--help"]).stdout.split())
    assert "accepts any adb connection WITHOUT authentication" in text
    assert "listens on 127.0.0.1 only" in text
    assert "--help-commands" in text and "--count" in text
