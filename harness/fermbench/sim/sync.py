"""The `sync:` service: file transfer requests, parsed as a byte stream.

Facts from AOSP `SYNC.TXT` and `file_sync_protocol.h`: every request and answer starts with a
4-byte id and a little-endian uint32. Requests: STAT/LST2/STA2/LIST/LIS2/RECV (a path follows),
SEND ("path,mode" follows, then DATA chunks of at most 64 KiB and DONE whose number is the
mtime), QUIT. The adb server forwards whatever its client wrote, so one WRTE may hold several
sync messages and one DATA chunk may be split over several WRTEs: we never assume alignment.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time

from .permissions import check_list, check_write
from .state import PhoneState
from .transport import Stream, StreamClosed

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024
MIB = 1024 * 1024

HEAD = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")  # id, mode, size, mtime
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")  # id, error, dev, ino, mode, nlink, uid, gid, size, a/m/ctime
DENT_V1 = struct.Struct("<4sIIII")  # id, mode, size, mtime, namelen
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")  # stat v2 fields + namelen

SHELL_UID = 2000  # files adb pushes belong to the `shell` user


class SyncFailed(Exception):
    """A request failed: the message goes to the host as FAIL and the session ends."""


class SyncReader:
    """Exact reads over the stream's WRTE payloads, whatever their boundaries."""

    def __init__(self, stream: Stream):
        self.stream = stream
        self.buf = bytearray()
        self.pos = 0

    def read_exact(self, n: int) -> bytes | None:
        while len(self.buf) - self.pos < n:
            data = self.stream.read()
            if not data:
                return None
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
            self.buf += data
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out


class SyncWriter:
    """Gathers answers into payload-sized WRTEs; `flush()` after each complete answer."""

    def __init__(self, stream: Stream):
        self.stream = stream
        self.buf = bytearray()

    def write(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) >= self.stream.conn.max_payload:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            data, self.buf = self.buf, bytearray()
            self.stream.write(data)


class SyncSession:
    """One `sync:` stream: answers requests until QUIT or the host closes it."""

    def __init__(self, state: PhoneState, stream: Stream):
        self.state = state
        self.stream = stream
        self.reader = SyncReader(stream)
        self.writer = SyncWriter(stream)

    def serve(self) -> None:
        try:
            while True:
                head = self.reader.read_exact(HEAD.size)
                if head is None:
                    return
                ident, length = HEAD.unpack(head)
                if ident == b"QUIT":
                    return
                if ident not in _REQUESTS:
                    raise SyncFailed(f"unknown sync request {ident!r}")
                if length > MAX_PATH:
                    raise SyncFailed(f"path too long: {length} bytes")
                raw = self.reader.read_exact(length)
                if raw is None:
                    return
                getattr(self, _REQUESTS[ident])(ident, raw.decode("utf-8", "surrogateescape"))
                self.writer.flush()
        except SyncFailed as exc:
            self._fail(str(exc))
        except StreamClosed:
            pass

    # -- requests ------------------------------------------------------------------------------

    def do_stat_v1(self, ident: bytes, path: str) -> None:
        st = self._lstat(path)
        if st is None:
            self.writer.write(STAT_V1.pack(b"STAT", 0, 0, 0))
        else:
            self.writer.write(STAT_V1.pack(b"STAT", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime) & 0xFFFFFFFF))

    def do_stat_v2(self, ident: bytes, path: str) -> None:
        # STA2 follows links like stat(2), LST2 does not, like lstat(2).
        try:
            host = self.state.host_path(path)
            st = host.stat() if ident == b"STA2" else host.lstat()
        except OSError as exc:
            code = exc.errno if exc.errno else errno.EACCES
            self.writer.write(STAT_V2.pack(ident, code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            return
        self.writer.write(STAT_V2.pack(ident, 0, *_v2_fields(st)))

    def do_list_v1(self, ident: bytes, path: str) -> None:
        for name, st in self._entries(path):
            encoded = name.encode("utf-8", "surrogateescape")
            self.writer.write(
                DENT_V1.pack(b"DENT", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime) & 0xFFFFFFFF, len(encoded))
                + encoded
            )
        self.writer.write(DENT_V1.pack(b"DONE", 0, 0, 0, 0))  # a full-size entry, all zero

    def do_list_v2(self, ident: bytes, path: str) -> None:
        for name, st in self._entries(path):
            encoded = name.encode("utf-8", "surrogateescape")
            self.writer.write(DENT_V2.pack(b"DNT2", 0, *_v2_fields(st), len(encoded)) + encoded)
        self.writer.write(DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    def do_recv(self, ident: bytes, path: str) -> None:
        try:
            host = self.state.host_path(path)
            f = open(host, "rb")
        except OSError as exc:
            raise SyncFailed(f"open failed: {_strerror(exc)}") from exc
        with f:
            if stat.S_ISDIR(os.fstat(f.fileno()).st_mode):
                raise SyncFailed(f"open failed: {os.strerror(errno.EISDIR)}")
            moved = 0
            while True:
                chunk = f.read(SYNC_DATA_MAX)
                if not chunk:
                    break
                moved += len(chunk)
                self._transfer_faults(moved, len(chunk))
                self.writer.write(HEAD.pack(b"DATA", len(chunk)) + chunk)
        self.writer.write(HEAD.pack(b"DONE", 0))

    def do_send(self, ident: bytes, spec: str) -> None:
        path, _, mode_text = spec.rpartition(",")
        if not path:
            path, mode_text = spec, "33188"  # 0100644 when the client sends no mode
        try:
            mode = int(mode_text)
        except ValueError:
            mode = stat.S_IFREG | 0o644
        try:
            host = self.state.host_path(path)
            check_write(path)
            if host.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            host.parent.mkdir(parents=True, exist_ok=True)  # we advertise fixed_push_mkdir
            room = self.state.free_bytes() + (host.stat().st_size if host.is_file() else 0)
            # Write beside and rename at the end, so a failed push never leaves half a file.
            part = host.with_name(f".{host.name}.fermsim-partial")
            f = open(part, "wb")
        except OSError as exc:
            self._discard_data()
            raise SyncFailed(f"couldn't create file: {_strerror(exc)}") from exc
        failure: str | None = None
        moved = 0
        try:
            with f:
                while True:
                    head = self.reader.read_exact(HEAD.size)
                    if head is None:
                        raise StreamClosed("host closed the stream during SEND")
                    kind, length = HEAD.unpack(head)
                    if kind == b"DONE":
                        mtime = length
                        break
                    if kind != b"DATA" or length > SYNC_DATA_MAX:
                        raise SyncFailed(f"invalid data message {kind!r}")
                    chunk = self.reader.read_exact(length)
                    if chunk is None:
                        raise StreamClosed("host closed the stream during SEND")
                    moved += length
                    if failure is not None:
                        continue  # like adbd: swallow the rest until DONE, then report
                    if moved > room:
                        failure = os.strerror(errno.ENOSPC)
                        continue
                    self._transfer_faults(moved, length)
                    f.write(chunk)
            if failure is not None:
                raise SyncFailed(failure)
            os.chmod(part, stat.S_IMODE(mode) or 0o644)
            os.utime(part, (time.time(), mtime or time.time()))
            os.replace(part, host)
        finally:
            if part.exists():
                part.unlink()
        self.writer.write(HEAD.pack(b"OKAY", 0))

    # -- helpers -------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        data = message.encode()
        try:
            self.writer.write(HEAD.pack(b"FAIL", len(data)) + data)
            self.writer.flush()
        except StreamClosed:
            pass

    def _discard_data(self) -> None:
        """Read DATA until DONE, so that the host sees our FAIL (adbd does the same)."""
        while True:
            head = self.reader.read_exact(HEAD.size)
            if head is None:
                return
            kind, length = HEAD.unpack(head)
            if kind != b"DATA":
                return
            if self.reader.read_exact(length) is None:
                return

    def _transfer_faults(self, moved: int, chunk: int) -> None:
        faults = self.state.faults
        if faults.transfer_delay_s_per_mib > 0:
            if self.stream.cancel.wait(faults.transfer_delay_s_per_mib * chunk / MIB):
                raise StreamClosed("stream closed during a slow transfer")
        limit = faults.offline_after_bytes
        if limit is not None and moved > limit:
            self.stream.conn.drop()  # the phone vanishes mid-transfer
            raise StreamClosed(f"offline fault after {limit} bytes")

    def _lstat(self, path: str) -> os.stat_result | None:
        try:
            return self.state.host_path(path).lstat()
        except OSError:
            return None

    def _entries(self, path: str) -> list[tuple[str, os.stat_result]]:
        try:
            check_list(path)
            host = self.state.host_path(path)
            names = sorted(os.listdir(host))
        except OSError:
            return []  # adbd answers an unreadable folder with an empty listing
        out = []
        for name in names:
            if name.endswith(".fermsim-partial"):
                continue
            try:
                out.append((name, (host / name).lstat()))
            except OSError:
                continue
        return out


_REQUESTS = {
    b"STAT": "do_stat_v1",
    b"STA2": "do_stat_v2",
    b"LST2": "do_stat_v2",
    b"LIST": "do_list_v1",
    b"LIS2": "do_list_v2",
    b"RECV": "do_recv",
    b"SEND": "do_send",
}


def _v2_fields(st: os.stat_result) -> tuple[int, ...]:
    """dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime."""
    return (
        st.st_dev,
        st.st_ino,
        st.st_mode,
        st.st_nlink,
        SHELL_UID,
        SHELL_UID,
        st.st_size,
        int(st.st_atime),
        int(st.st_mtime),
        int(st.st_ctime),
    )


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def serve_sync(state: PhoneState, stream: Stream) -> None:
    SyncSession(state, stream).serve()
