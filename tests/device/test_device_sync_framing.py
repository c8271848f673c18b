"""The host side of the sync protocol, byte for byte, over a fake socket (no adb needed)."""

from __future__ import annotations

import io
import os
import struct

import pytest

from fermbench.device import transfer


class FakeConnection:
    """Records what is sent; answers from a script of replies."""

    def __init__(self, reply: bytes = b"OKAY\0\0\0\0"):
        self.sent = bytearray()
        self.conn = self
        self._reply = io.BytesIO(reply)

    def sendall(self, data) -> None:
        self.sent += bytes(data)

    def read_exact(self, n: int) -> bytes:
        data = self._reply.read(n)
        if len(data) < n:
            raise EOFError
        return data

    def makefile(self, mode: str, buffering: int = 0):
        return self._reply


def unframe(data: bytes) -> tuple[str, bytes, int]:
    cmd, n = struct.unpack_from("<4sI", data)
    assert cmd == b"SEND"
    spec = data[8 : 8 + n].decode()
    i, out, largest = 8 + n, bytearray(), 0
    while True:
        tag, length = struct.unpack_from("<4sI", data, i)
        i += 8
        if tag == b"DONE":
            assert i == len(data)
            return spec, bytes(out), largest
        assert tag == b"DATA"
        largest = max(largest, length)
        out += data[i : i + length]
        i += length


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 16 * 65536, 16 * 65536 + 5, 3_000_001])
def test_send_frames_any_size_in_legal_chunks(tmp_path, size):
    data = os.urandom(size)
    src = tmp_path / "f"
    src.write_bytes(data)
    c = FakeConnection()
    with open(src, "rb") as fh:
        assert transfer.send(c, fh, "/data/local/tmp/f", 0o644) == size
    spec, payload, largest = unframe(bytes(c.sent))
    assert spec == "/data/local/tmp/f,33188"  # S_IFREG | 0644
    assert payload == data and largest <= transfer.SYNC_DATA_MAX


def test_send_reports_the_phone_failure(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    reason = b"No space left on device"
    c = FakeConnection(b"FAIL" + struct.pack("<I", len(reason)) + reason)
    with open(tmp_path / "f", "rb") as fh, pytest.raises(transfer.SyncFailure, match="No space left"):
        transfer.send(c, fh, "/x", 0o644)


def test_recv_reassembles_and_hashes(tmp_path):
    import hashlib

    chunks = [os.urandom(65536), os.urandom(10), b""]
    reply = b"".join(b"DATA" + struct.pack("<I", len(ch)) + ch for ch in chunks) + b"DONE\0\0\0\0"
    out = io.BytesIO()
    size, sha = transfer.recv(FakeConnection(reply), "/x", out)
    assert size == 65546 and out.getvalue() == b"".join(chunks)
    assert sha == hashlib.sha256(out.getvalue()).hexdigest()
    with pytest.raises(EOFError):
        transfer.recv(FakeConnection(reply[:100]), "/x", io.BytesIO())
    fail = FakeConnection(b"FAIL" + struct.pack("<I", 25) + b"No such file or directory")
    with pytest.raises(transfer.SyncFailure, match="No such file"):
        transfer.recv(fail, "/x", io.BytesIO())
