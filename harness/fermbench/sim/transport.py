"""Device side of the adb transport: message framing, the CNXN handshake and OPEN/WRTE streams.

Facts from AOSP `protocol.txt`: every message is a 24-byte header of six little-endian uint32
(command, arg0, arg1, payload length, payload byte-sum, command ^ 0xffffffff) and a payload.
The host opens a stream with OPEN(its id, 0, "service\\0"); we accept with OKAY(our id, its id)
or refuse with CLSE(0, its id). Either side closes with CLSE, and the other answers with its
own CLSE (adbd does; clients that connect directly wait for it). Without `delayed_ack`, each WRTE must be answered by an OKAY
before the sender may send the next WRTE on that stream: this is the only flow control.

A fault hook lets the phone drop the connection (offline), and the `unauthorized` fault answers
CNXN with AUTH challenges that never succeed, which is how adb shows "unauthorized".
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import struct
import threading
from collections.abc import Callable

import numpy as np

from .state import Faults, SimIdentity

log = logging.getLogger(__name__)

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
A_STLS = 0x534C5453

A_VERSION = 0x01000001  # the version from which hosts skip the payload checksum
MAX_PAYLOAD = 1024 * 1024
MAX_BANNER = 4096
# Bytes a stream may hold unread before we stop acknowledging the host's WRTEs: enough to keep
# the host sending while a service works, small enough that a slow service (a slow-transfer
# fault, a command that ignores stdin) never buffers a whole file.
INBOUND_WINDOW = 2 * MAX_PAYLOAD

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3

HEADER = struct.Struct("<6I")

NAMES = {
    A_SYNC: "SYNC",
    A_CNXN: "CNXN",
    A_OPEN: "OPEN",
    A_OKAY: "OKAY",
    A_CLSE: "CLSE",
    A_WRTE: "WRTE",
    A_AUTH: "AUTH",
    A_STLS: "STLS",
}


def features(faults: Faults) -> list[str]:
    """What the banner advertises. Each feature switches adb to a code path we implement;
    never `delayed_ack`, `abb`, `abb_exec` or `sendrecv_v2` (not implemented here)."""
    names = ["shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir"]
    if not faults.advertise_cmd:
        names.remove("cmd")  # adb then installs by push + `pm install`
    return names


def banner(identity: SimIdentity, faults: Faults) -> bytes:
    """`device::ro.product.name=..;ro.product.model=..;ro.product.device=..;features=..`."""

    def clean(value: str) -> str:
        # ':' and ';' separate the banner's fields, so they may not appear inside a value.
        return value.replace(":", "_").replace(";", "_")

    props = [
        f"ro.product.name={clean(identity.product)}",
        f"ro.product.model={clean(identity.model)}",
        f"ro.product.device={clean(identity.device)}",
        "features=" + ",".join(features(faults)),
    ]
    text = "device::" + ";".join(props)
    data = text.encode()
    if len(data) >= MAX_BANNER:
        raise ValueError(f"adb banner is {len(data)} bytes; it must stay under {MAX_BANNER}")
    return data


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The byte sum of a payload (hosts at A_VERSION ignore it, older ones check it)."""
    if not data:
        return 0
    return int(np.frombuffer(data, dtype=np.uint8).sum(dtype=np.uint64)) & 0xFFFFFFFF


class StreamClosed(Exception):
    """The stream (or its whole connection) was closed while a service used it."""


class Stream:
    """One OPENed service stream. `read()` returns one WRTE payload (b"" once closed);
    `write()` splits into WRTEs of at most the negotiated payload and waits for each OKAY."""

    def __init__(self, conn: Connection, local_id: int, remote_id: int, service: str):
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.cancel = threading.Event()  # set once the host closes the stream or the link drops
        self._inbound: queue.Queue[bytes | None] = queue.Queue()
        self._ack_lock = threading.Lock()
        self._queued = 0  # bytes received and not yet taken by the service
        self._owe_okay = False  # the last WRTE waits for its OKAY until the queue drains
        self._can_send = threading.Event()
        self._can_send.set()  # after our OKAY to OPEN we may write at once
        self._write_lock = threading.Lock()
        self._closed_by_us = False
        self._eof = False
        self.opened = threading.Event()  # the host accepted it (set at once for host-opened streams)
        self.opened.set()

    # -- called by the connection's reader thread ----------------------------------------------

    def _on_write(self, data: bytes) -> None:
        # Acknowledge at once while little is queued (the host may then send the next packet
        # while a service works); past the window, the OKAY waits until a service takes data.
        with self._ack_lock:
            self._queued += len(data)
            ack_now = self._queued <= INBOUND_WINDOW
            self._owe_okay = not ack_now
        self._inbound.put(data)
        if ack_now:
            self.conn.send(A_OKAY, self.local_id, self.remote_id)

    def _on_okay(self, remote_id: int) -> None:
        if not self.opened.is_set():  # the host's answer to our OPEN names its end
            self.remote_id = remote_id
            self.opened.set()
        self._can_send.set()

    def _on_close(self) -> None:
        self.cancel.set()
        self._inbound.put(None)
        self._can_send.set()  # wake a writer so it sees the close
        self.opened.set()  # wake an opener: a CLSE is the host's refusal

    # -- used by services ----------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> bytes:
        """The next WRTE payload from the host, or b"" once the stream is closed."""
        if self._eof:
            return b""
        data = self._inbound.get(timeout=timeout)
        if data is None:
            self._eof = True
            return b""
        with self._ack_lock:
            self._queued -= len(data)
            owed = self._owe_okay and self._queued <= INBOUND_WINDOW
            if owed:
                self._owe_okay = False
        if owed and not self.cancel.is_set():
            self.conn.send(A_OKAY, self.local_id, self.remote_id)
        return data

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        with self._write_lock:
            for start in range(0, len(view), self.conn.max_payload):
                self._can_send.wait()
                if self.cancel.is_set():
                    raise StreamClosed(f"stream {self.service!r} closed by the host")
                self._can_send.clear()
                self.conn.send(A_WRTE, self.local_id, self.remote_id, view[start : start + self.conn.max_payload])

    def close(self) -> None:
        """Send our CLSE once (harmless if the host closed first: it ignores a late CLSE)."""
        if self._closed_by_us:
            return
        self._closed_by_us = True
        self.cancel.set()
        self._can_send.set()
        self._inbound.put(None)  # wake a thread still reading the stream
        self.conn.close_stream(self)


# A service handler runs on its own thread and owns the stream until it returns.
Handler = Callable[[Stream], None]
OpenService = Callable[[str], "Handler | None"]


class Connection:
    """One TCP connection from the adb server. `run()` is the connection's reader thread."""

    def __init__(
        self,
        sock: socket.socket,
        identity: Callable[[], SimIdentity],
        faults: Callable[[], Faults],
        open_service: OpenService,
        name: str = "",
    ):
        self.sock = sock
        self.identity = identity
        self._faults = faults
        self.open_service = open_service
        self.name = name or "sim"
        self.max_payload = 4096  # until CNXN says otherwise
        self.version = A_VERSION
        self.authorized = False
        self.closed = threading.Event()
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._streams_lock = threading.Lock()
        self._next_id = 1
        self._threads: list[threading.Thread] = []
        self._at_close: list[Callable[[], None]] = []

    @property
    def faults(self) -> Faults:
        return self._faults()  # read afresh: tests change faults while the phone runs

    # -- sending -------------------------------------------------------------------------------

    def send(self, command: int, arg0: int, arg1: int, data: bytes | bytearray | memoryview = b"") -> None:
        header = HEADER.pack(command, arg0, arg1, len(data), checksum(data), command ^ 0xFFFFFFFF)
        try:
            with self._send_lock:
                _send_all(self.sock, header, data)
        except OSError as exc:
            self.drop()
            raise StreamClosed(f"connection lost: {exc}") from exc

    def open_stream(self, destination: str, timeout: float = 10.0) -> Stream:
        """Open a stream to the host (adbd does this for `adb reverse`): OPEN(our id, 0,
        destination); the host answers OKAY or refuses with CLSE. StreamClosed if refused."""
        with self._streams_lock:
            local_id = self._next_id
            self._next_id += 1
            stream = Stream(self, local_id, 0, destination)
            stream.opened.clear()
            stream._can_send.clear()  # nothing may be written before the host's OKAY
            self._streams[local_id] = stream
        self.send(A_OPEN, local_id, 0, destination.encode() + b"\0")
        if not stream.opened.wait(timeout) or stream.cancel.is_set():
            stream.close()
            raise StreamClosed(f"the host refused {destination!r}")
        return stream

    def at_close(self, callback: Callable[[], None]) -> None:
        """Call back once the connection has ended (for what lives as long as it does)."""
        self._at_close.append(callback)

    def close_stream(self, stream: Stream) -> None:
        with self._streams_lock:
            known = self._streams.pop(stream.local_id, None) is not None
        if known and not self.closed.is_set():
            try:
                self.send(A_CLSE, stream.local_id, stream.remote_id)
            except StreamClosed:
                pass

    def drop(self) -> None:
        """Cut the TCP connection, as a phone that went offline would."""
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the reader thread ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.closed.is_set():
                message = self._read_message()
                if message is None:
                    break
                self._handle(*message)
        except (OSError, StreamClosed, ValueError) as exc:
            log.debug("%s: connection ends: %s", self.name, exc)
        finally:
            self.drop()
            self.sock.close()
            with self._streams_lock:
                streams = list(self._streams.values())
                self._streams.clear()
            for stream in streams:
                stream._on_close()
            for callback in self._at_close:
                callback()
            for t in self._threads:
                t.join(timeout=2)

    def _read_message(self) -> tuple[int, int, int, bytes] | None:
        header = _recv_exact(self.sock, HEADER.size)
        if header is None:
            return None
        command, arg0, arg1, length, _sum, magic = HEADER.unpack(header)
        if magic != command ^ 0xFFFFFFFF:
            raise ValueError(f"bad magic in message {command:#x}")
        if length > MAX_PAYLOAD:
            raise ValueError(f"payload of {length} bytes exceeds {MAX_PAYLOAD}")
        data = _recv_exact(self.sock, length) if length else b""
        if data is None:
            return None
        return command, arg0, arg1, data

    def _handle(self, command: int, arg0: int, arg1: int, data: bytes) -> None:
        if command == A_CNXN:
            self._on_connect(arg0, arg1)
        elif command == A_AUTH:
            self._on_auth(arg0)
        elif not self.authorized:
            log.debug("%s: %s before authorization ignored", self.name, NAMES.get(command, command))
        elif command == A_OPEN:
            self._on_open(arg0, data)
        elif command in (A_WRTE, A_OKAY, A_CLSE):
            with self._streams_lock:
                stream = self._streams.get(arg1)
            if stream is None:
                if command == A_WRTE:  # a stream we already closed: tell the host again
                    self.send(A_CLSE, 0, arg0)
                return
            if command == A_WRTE:
                stream._on_write(data)
            elif command == A_OKAY:
                stream._on_okay(arg0)
            else:
                # adbd acknowledges a close with its own CLSE; a client that connects directly
                # (no adb server) waits for it before the next stream.
                with self._streams_lock:
                    known = self._streams.pop(arg1, None) is not None
                stream._on_close()
                if known:
                    self.send(A_CLSE, stream.local_id, stream.remote_id)
        else:
            log.debug("%s: unknown command %#x ignored", self.name, command)

    def _on_connect(self, version: int, max_payload: int) -> None:
        self.version = min(version, A_VERSION)
        self.max_payload = max(4096, min(max_payload, MAX_PAYLOAD))
        if self.faults.unauthorized:
            self.authorized = False
            self._send_auth_token()
            return
        self._accept()

    def _accept(self) -> None:
        self.authorized = True
        self.send(A_CNXN, A_VERSION, MAX_PAYLOAD, banner(self.identity(), self.faults))

    def _send_auth_token(self) -> None:
        self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))

    def _on_auth(self, kind: int) -> None:
        if self.authorized:
            return
        if kind == AUTH_SIGNATURE:
            self._send_auth_token()  # no key of the host's is trusted: ask for the next one
        elif kind == AUTH_RSAPUBLICKEY:
            # The phone now shows the "Allow USB debugging?" prompt. Clearing the fault is the
            # user pressing Allow: then the connection comes up as a real phone's would.
            self._spawn(self._wait_for_allow, "allow")

    def _wait_for_allow(self) -> None:
        while not self.closed.wait(0.1):
            if not self.faults.unauthorized:
                try:
                    self._accept()
                except StreamClosed:
                    pass
                return

    def _on_open(self, remote_id: int, data: bytes) -> None:
        if self.faults.unauthorized:
            # The user revoked authorizations: a real phone drops the link and, on the host's
            # reconnect, challenges it again.
            self.drop()
            return
        service = data.rstrip(b"\0").decode("utf-8", "replace")
        handler = self.open_service(service)
        if handler is None:
            log.debug("%s: refused service %r", self.name, service)
            self.send(A_CLSE, 0, remote_id)
            return
        with self._streams_lock:
            local_id = self._next_id
            self._next_id += 1
            stream = Stream(self, local_id, remote_id, service)
            self._streams[local_id] = stream
        self.send(A_OKAY, local_id, remote_id)
        self._spawn(lambda: self._serve(handler, stream), f"svc{local_id}")

    def _serve(self, handler: Handler, stream: Stream) -> None:
        try:
            handler(stream)
        except StreamClosed:
            pass
        except Exception:  # a bug in a service must not take the phone down
            log.exception("%s: service %r failed", self.name, stream.service)
        finally:
            stream.close()

    def _spawn(self, target: Callable[[], None], tag: str) -> None:
        t = threading.Thread(target=target, name=f"{self.name}-{tag}", daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()]
        self._threads.append(t)
        t.start()


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """Exactly n bytes, or None if the peer closed first."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _send_all(sock: socket.socket, header: bytes, data: bytes | bytearray | memoryview) -> None:
    """Header and payload in one gathered write (no copy of a 1 MiB payload)."""
    parts = [memoryview(header), memoryview(data)] if len(data) else [memoryview(header)]
    while parts:
        sent = sock.sendmsg(parts)
        while parts and sent >= len(parts[0]):
            sent -= len(parts[0])
            parts.pop(0)
        if parts and sent:
            parts[0] = parts[0][sent:]
