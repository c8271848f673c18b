"""`fermbench sim` runs a phone by hand: prints its serial and the adb connect line, stops on
Ctrl-C, and leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.adb


def test_sim_command_serves_until_interrupted(adb_server):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fermbench.cli", "sim", "--port", "0", "--model", "HandPhone"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
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
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sim_command_refuses_an_adb_scanned_port():
    out = subprocess.run([sys.executable, "-m", "fermbench.cli", "sim", "--port", "5555"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert out.stderr.startswith("Error: port 5555 is in adb's emulator scan range")
