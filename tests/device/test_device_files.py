"""Push and pull through the real adb server: verification, skip-if-identical, permissions,
digest fallbacks, and the transfer faults (offline mid-transfer, slow link, disk full)."""

from __future__ import annotations

import hashlib
import os
import stat
import time

import pytest

import fermbench.sim.cmds as sim_cmds
from fermbench.device import DeviceDisconnected, DeviceOffline, DiskFull, TransferError
from fermbench.errors import ConfigError
from fermbench.sim.state import Faults

pytestmark = pytest.mark.adb
MB = 1_000_000


def blob(tmp_path, size: int, name: str = "blob.bin"):
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def test_50mb_push_and_pull_round_trip(device, sim_phone, tmp_path):
    src = blob(tmp_path, 50 * MB)
    remote = "/data/local/tmp/fermbench/big/blob.bin"  # parents do not exist yet
    pushed = device.push(src, remote)
    want = hashlib.sha256(src.read_bytes()).hexdigest()
    assert (pushed.size, pushed.digest, pushed.algorithm, pushed.verified, pushed.skipped) == (
        50 * MB,
        want,
        "sha256",
        True,
        False,
    )
    host = sim_phone.state.host_path(remote)
    assert hashlib.sha256(host.read_bytes()).hexdigest() == want
    assert stat.S_IMODE(host.stat().st_mode) == 0o644  # an app can read it ...
    for folder in (host.parent, host.parent.parent):  # ... and reach it
        assert stat.S_IMODE(folder.stat().st_mode) & 0o005 == 0o005
    back = device.pull(remote, tmp_path / "out" / "back.bin")
    assert (back.size, back.sha256, back.verified_with) == (50 * MB, want, "sha256")
    assert hashlib.sha256((tmp_path / "out" / "back.bin").read_bytes()).hexdigest() == want
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "back.bin"]  # no temp left


def test_repeat_push_is_skipped_and_a_change_is_pushed(device, sim_phone, tmp_path):
    src = blob(tmp_path, 300_000)
    remote = "/data/local/tmp/fermbench/m.ptl"
    assert not device.push(src, remote).skipped
    mtime = sim_phone.state.host_path(remote).stat().st_mtime_ns
    again = device.push(src, remote)
    assert again.skipped and again.verified
    assert sim_phone.state.host_path(remote).stat().st_mtime_ns == mtime  # not rewritten
    data = bytearray(src.read_bytes())
    data[1000] ^= 0xFF  # same size, different content
    src.write_bytes(bytes(data))
    third = device.push(src, remote)
    assert not third.skipped
    assert sim_phone.state.host_path(remote).read_bytes() == bytes(data)


def test_push_refuses_missing_local_and_folder_target(device, tmp_path):
    with pytest.raises(ConfigError):
        device.push(tmp_path / "nope.ptl", "/data/local/tmp/x")
    with pytest.raises(TransferError) as e:
        device.push(blob(tmp_path, 10), "/data/local/tmp")
    assert "folder" in str(e.value) and device.serial in str(e.value)


def test_pull_of_a_missing_file_names_it(device, tmp_path):
    with pytest.raises(TransferError) as e:
        device.pull("/data/local/tmp/absent.json", tmp_path / "a.json")
    assert "/data/local/tmp/absent.json" in str(e.value) and device.serial in str(e.value)
    assert not (tmp_path / "a.json").exists()


def test_digest_falls_back_to_md5_then_size(device, sim_phone, tmp_path, monkeypatch):
    src = blob(tmp_path, 100_000)
    monkeypatch.delitem(sim_cmds.COMMANDS, "sha256sum")  # an old phone without sha256sum
    r = device.push(src, "/data/local/tmp/a.bin")
    assert (r.algorithm, r.digest) == ("md5", hashlib.md5(src.read_bytes()).hexdigest())
    assert device.push(src, "/data/local/tmp/a.bin").skipped
    monkeypatch.delitem(sim_cmds.COMMANDS, "md5sum")
    device._digest_tool = None  # a new phone: probe again
    r = device.push(src, "/data/local/tmp/b.bin")
    assert (r.algorithm, r.digest, r.verified) == ("size", "100000", True)


def test_verification_catches_a_corrupted_copy(device, sim_phone, tmp_path, monkeypatch):
    src = blob(tmp_path, 50_000)

    def lying_sha256sum(ctx):  # the phone's copy "differs"
        ctx.write("0" * 64 + "  " + ctx.args[-1] + "\n")
        return 0

    monkeypatch.setitem(sim_cmds.COMMANDS, "sha256sum", lying_sha256sum)
    with pytest.raises(TransferError) as e:
        device.push(src, "/data/local/tmp/c.bin")
    assert "differs" in str(e.value) and device.serial in str(e.value)
    assert not sim_phone.state.host_path("/data/local/tmp/c.bin").exists()  # removed, not left half-trusted


def test_disk_full_is_refused_before_sending(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(disk_free_bytes=1 * MB))
    dev = make_device(phone)
    with pytest.raises(DiskFull) as e:
        dev.push(blob(tmp_path, 3 * MB), "/data/local/tmp/big.bin")
    assert phone.serial in str(e.value) and "free" in str(e.value)
    assert not phone.state.host_path("/data/local/tmp/big.bin").exists()


def test_disk_full_during_the_transfer(make_sim_phone, make_device, tmp_path, monkeypatch):
    phone = make_sim_phone()
    dev = make_device(phone)
    src = blob(tmp_path, 3 * MB)
    # df still says there is room (another app fills the disk while we send)
    monkeypatch.setattr("fermbench.device.device.parse_df_available", lambda text: 10**12)
    phone.state.faults.disk_free_bytes = 1 * MB
    with pytest.raises(DiskFull) as e:
        dev.push(src, "/data/local/tmp/big.bin")
    assert phone.serial in str(e.value) and "No space left" in str(e.value)
    assert not phone.state.host_path("/data/local/tmp/big.bin").exists()


def test_offline_mid_transfer_is_a_clear_error_after_bounded_retries(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(offline_after_bytes=1 * MB))
    dev = make_device(phone, retries=1)
    t0 = time.monotonic()
    with pytest.raises(DeviceOffline) as e:
        dev.push(blob(tmp_path, 4 * MB), "/data/local/tmp/cut.bin")
    assert time.monotonic() - t0 < 30
    assert isinstance(e.value, DeviceDisconnected) and e.value.started
    assert phone.serial in str(e.value) and "push" in str(e.value)
    assert not phone.state.host_path("/data/local/tmp/cut.bin").exists()
    # the fault cleared, the same Device carries on
    phone.state.faults.offline_after_bytes = None
    dev.wait_ready(10)
    assert dev.push(tmp_path / "blob.bin", "/data/local/tmp/cut.bin").verified


def test_push_retries_through_a_single_drop(make_sim_phone, make_device, tmp_path, monkeypatch):
    phone = make_sim_phone(faults=Faults(offline_after_bytes=1 * MB))
    dev = make_device(phone, retries=2)
    sends = []
    import fermbench.device.transfer as transfer

    real_send = transfer.send

    def send_once_faulty(*args, **kwargs):
        sends.append(1)
        if len(sends) == 2:
            phone.state.faults.offline_after_bytes = None  # the blip is over
        return real_send(*args, **kwargs)

    monkeypatch.setattr(transfer, "send", send_once_faulty)
    r = dev.push(blob(tmp_path, 3 * MB), "/data/local/tmp/retry.bin")
    assert r.verified and len(sends) == 2


def test_slow_transfer_is_slow_but_correct(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(transfer_delay_s_per_mib=1.0))
    dev = make_device(phone)
    src = blob(tmp_path, 1024 * 1024)
    t0 = time.monotonic()
    r = dev.push(src, "/data/local/tmp/slow.bin")
    assert time.monotonic() - t0 >= 0.9 and r.verified
