"""Transport-level faults, as the real adb server sees them (device-layer errors are tested by
the device layer's own tests). Each runs once per adb binary found."""

from __future__ import annotations

import os
import time

import pytest

from fermbench.device.adb_server import adb_binaries
from fermbench.sim.state import Faults

pytestmark = pytest.mark.adb

ADBS = adb_binaries()
MIB = 1024 * 1024


@pytest.fixture(params=sorted(ADBS) or ["none"])
def adb_path(request) -> str:
    if request.param not in ADBS:
        pytest.skip("no adb binary: install adbutils (it ships adb) or set FERMBENCH_ADB")
    return ADBS[request.param]


@pytest.fixture
def file_4mib(tmp_path):
    path = tmp_path / "four.bin"
    path.write_bytes(os.urandom(4 * MIB))
    return path


def push(server, phone, src, dst="/data/local/tmp/four.bin"):
    return server.adb("-s", phone.serial, "push", str(src), dst, check=False)


def test_offline_mid_transfer_drops_the_link_then_adb_reconnects(sim_phone, adb_server, file_4mib):
    sim_phone.faults.offline_after_bytes = MIB
    out = push(adb_server, sim_phone, file_4mib)
    assert out.returncode != 0
    assert "error" in (out.stdout + out.stderr).lower()
    assert not sim_phone.state.host_path("/data/local/tmp/four.bin").exists()  # no half file
    sim_phone.faults.offline_after_bytes = None
    # adb reconnects to a TCP device by itself: "briefly offline"
    adb_server.wait_for_state(sim_phone.serial, ("device",), timeout=20)
    assert push(adb_server, sim_phone, file_4mib).returncode == 0
    assert sim_phone.state.host_path("/data/local/tmp/four.bin").stat().st_size == 4 * MIB


def test_offline_during_pull(sim_phone, adb_server, tmp_path):
    sim_phone.state.host_path("/data/local/tmp/p.bin").write_bytes(os.urandom(3 * MIB))
    sim_phone.faults.offline_after_bytes = MIB
    out = adb_server.adb("-s", sim_phone.serial, "pull", "/data/local/tmp/p.bin", str(tmp_path / "p"), check=False)
    assert out.returncode != 0


def test_unauthorized_from_the_start(make_sim_phone, adb_server):
    phone = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    out = adb_server.adb("-s", phone.serial, "shell", "true", check=False)
    assert out.returncode != 0
    assert "unauthorized" in out.stderr
    # pressing "Allow" on the phone: the waiting connection comes up
    phone.faults.unauthorized = False
    adb_server.wait_for_state(phone.serial, ("device",), timeout=20)


def test_becoming_unauthorized_at_runtime(sim_phone, adb_server):
    sim_phone.set_faults(unauthorized=True)  # the user revoked USB debugging authorizations
    adb_server.wait_for_state(sim_phone.serial, ("unauthorized",), timeout=20)
    assert adb_server.adb("-s", sim_phone.serial, "shell", "true", check=False).returncode != 0


def test_unauthorized_flag_alone_drops_on_next_open(sim_phone, adb_server):
    sim_phone.faults.unauthorized = True  # flipped directly, no set_faults(): next OPEN drops
    out = adb_server.adb("-s", sim_phone.serial, "shell", "true", check=False)
    assert out.returncode != 0
    adb_server.wait_for_state(sim_phone.serial, ("unauthorized",), timeout=20)


def test_disk_full_on_push(sim_phone, adb_server, file_4mib, tmp_path):
    sim_phone.faults.disk_free_bytes = MIB
    out = push(adb_server, sim_phone, file_4mib)
    assert out.returncode != 0
    assert "No space left on device" in out.stdout + out.stderr
    assert not sim_phone.state.host_path("/data/local/tmp/four.bin").exists()
    small = tmp_path / "small.bin"
    small.write_bytes(b"s" * 1000)
    assert push(adb_server, sim_phone, small, "/data/local/tmp/small.bin").returncode == 0
    assert adb_server.state_of(sim_phone.serial) == "device"


def test_slow_transfers(sim_phone, adb_server, file_4mib):
    sim_phone.faults.transfer_delay_s_per_mib = 0.25
    start = time.monotonic()
    assert push(adb_server, sim_phone, file_4mib).returncode == 0
    assert time.monotonic() - start >= 4 * 0.25 * 0.9  # a lower bound: a busy machine only adds to it
