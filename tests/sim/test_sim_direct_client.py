"""A client that connects to the simulated phone directly, without an adb server (the
`adb-shell` package's AdbDeviceTcp): the close handshake and the `sync:` services.

adb-shell closes each stream with CLSE and waits for the phone's CLSE before it goes on; a
phone that never answered made every push, pull, stat and list time out."""

from __future__ import annotations

import os
import socket
import stat
import time

import pytest

from fermbench.sim.phone import SimPhone
from fermbench.sim.transport import A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_VERSION, HEADER, MAX_PAYLOAD

adb_device = pytest.importorskip("adb_shell.adb_device", reason="the adb-shell package (test extra) is not installed")


@pytest.fixture
def phone():
    with SimPhone() as p:
        yield p


@pytest.fixture
def direct(phone):
    host, port = phone.serial.split(":")
    dev = adb_device.AdbDeviceTcp(host, int(port), default_transport_timeout_s=5.0)
    assert dev.connect(rsa_keys=None, auth_timeout_s=2)
    yield dev
    dev.close()


def _message(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = b""
    while len(head) < HEADER.size:
        head += sock.recv(HEADER.size - len(head))
    command, arg0, arg1, length, _, _ = HEADER.unpack(head)
    data = b""
    while len(data) < length:
        data += sock.recv(length - len(data))
    return command, arg0, arg1, data


def _send(sock: socket.socket, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
    sock.sendall(HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF) + data)


def test_a_close_from_the_client_is_answered_with_a_close(phone):
    # By hand, so the exact answer is checked: OPEN sync:, OKAY, then our CLSE gets CLSE(its id, ours).
    host, port = phone.serial.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        _send(sock, A_CNXN, A_VERSION, MAX_PAYLOAD, b"host::\0")
        assert _message(sock)[0] == A_CNXN
        _send(sock, A_OPEN, 7, 0, b"sync:\0")
        command, phone_id, our_id, _ = _message(sock)
        assert (command, our_id) == (A_OKAY, 7)
        _send(sock, A_CLSE, 7, phone_id)
        assert _message(sock)[:3] == (A_CLSE, phone_id, 7)


def test_shell_through_the_direct_client(direct):
    assert direct.shell("echo hi; getprop ro.build.version.sdk", read_timeout_s=5) == "hi\n34\n"


def test_sync_push_stat_list_pull(direct, tmp_path):
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(300_000))  # several DATA chunks
    started = time.monotonic()
    direct.push(str(src), "/data/local/tmp/model.bin", read_timeout_s=5)
    mode, size, mtime = direct.stat("/data/local/tmp/model.bin", read_timeout_s=5)
    assert stat.S_ISREG(mode) and size == 300_000 and mtime > 0
    names = {bytes(e.filename).decode(): e.size for e in direct.list("/data/local/tmp", read_timeout_s=5)}
    assert names["model.bin"] == 300_000
    back = tmp_path / "back.bin"
    direct.pull("/data/local/tmp/model.bin", str(back), read_timeout_s=5)
    assert back.read_bytes() == src.read_bytes()
    assert time.monotonic() - started < 4  # each stream's close was answered, none timed out


def test_sync_refusals_reach_the_direct_client(direct, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    with pytest.raises(Exception, match="Read-only file system"):
        direct.push(str(src), "/system/f", read_timeout_s=5)
    with pytest.raises(Exception, match="Permission denied"):
        direct.push(str(src), "/data/f", read_timeout_s=5)
    assert direct.list("/data", read_timeout_s=5) == []  # adbd lists an unreadable folder as empty
    assert direct.shell("echo still here", read_timeout_s=5) == "still here\n"
