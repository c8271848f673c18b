"""Which service an OPEN names, and the shell-like ones: `shell:`, `shell,v2,...:`, `exec:`.

Facts from AOSP `SERVICES.TXT` and `shell_protocol.h`:
- `shell:cmd` (legacy) and `exec:cmd` give a raw byte stream: stdout and stderr merged, no exit
  code; the host's writes are the command's stdin.
- `shell,v2,ARGS:cmd` frames both directions as packets of a 1-byte id and a little-endian
  uint32 length: 0 stdin, 1 stdout, 2 stderr, 3 exit (one byte), 4 close-stdin, 5 window size.
- `sync:` is the file transfer service (sync.py).
Anything else (reboot:, root:, tcpip:, jdwp, abb...) is refused with CLSE, as a phone refuses
what it does not offer; nothing is pretended.
"""

from __future__ import annotations

import logging
import struct
import threading
from typing import Callable

from .shell import run_shell
from .state import PhoneState
from .sync import serve_sync
from .transport import Handler, Stream, StreamClosed

SHELL_STDIN, SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT, SHELL_CLOSE_STDIN, SHELL_WINDOW = range(6)
log = logging.getLogger(__name__)

PACKET = struct.Struct("<BI")

PIPE_LIMIT = 1024 * 1024  # stdin buffered ahead of the command, like a pipe's buffer


class StdinPipe:
    """The command's stdin, fed from the stream by a pump thread.

    `read(n)` blocks until n bytes or end of input (like a buffered file), `read()` reads to the
    end. Writers block while more than PIPE_LIMIT bytes wait, so a large install stays bounded.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._eof = False
        self._cond = threading.Condition()

    def feed(self, data: bytes) -> None:
        with self._cond:
            while len(self._buf) > PIPE_LIMIT and not self._eof:
                self._cond.wait()
            if not self._eof:
                self._buf += data
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def read(self, n: int = -1) -> bytes:
        with self._cond:
            while not self._eof and (n < 0 or len(self._buf) < n):
                self._cond.wait()
            take = len(self._buf) if n < 0 else min(n, len(self._buf))
            out = bytes(self._buf[:take])
            del self._buf[:take]
            self._cond.notify_all()
            return out


def open_service(state: PhoneState, name: str) -> Handler | None:
    """The handler for a service name, or None to refuse it."""
    if name.startswith("shell:") or name.startswith("shell,"):
        head, _, command = name.partition(":")
        args = head.split(",")[1:]
        if "v2" in args:
            pty = "pty" in args
            return lambda stream: _shell_v2(state, stream, command, pty)
        return lambda stream: _raw_shell(state, stream, command)
    if name.startswith("exec:"):
        command = name[len("exec:"):]
        return lambda stream: _raw_shell(state, stream, command)
    if name == "sync:":
        return lambda stream: serve_sync(state, stream)
    return None


def _raw_shell(state: PhoneState, stream: Stream, command: str) -> None:
    """Legacy `shell:` and `exec:`: output as raw bytes, stderr merged, no exit status."""
    if not command.strip():
        stream.write(b"fermbench sim: no interactive shell; run `adb shell COMMAND`\n")
        return
    stdin = StdinPipe()

    def pump() -> None:
        while True:
            data = stream.read()
            if not data:
                break
            stdin.feed(data)
        stdin.close()

    _start(pump, stream)
    try:
        _run(state, command, stdin, stream.write, stream.write, stream.cancel)
    finally:
        stdin.close()


def _shell_v2(state: PhoneState, stream: Stream, command: str, pty: bool = False) -> None:
    """shell_v2: stdout and stderr apart, and the exit status as the last packet.

    With `pty` (adb -t), a terminal sits between: both outputs arrive as stdout, and the
    terminal turns each "\\n" into "\\r\\n"."""
    lock = threading.Lock()  # one packet at a time, even if stdout and stderr race

    def packet(kind: int) -> Callable[[bytes], None]:
        if pty and kind == SHELL_STDERR:
            kind = SHELL_STDOUT

        def send(data: bytes) -> None:
            if data:
                if pty and kind == SHELL_STDOUT:
                    data = bytes(data).replace(b"\n", b"\r\n")
                with lock:
                    stream.write(PACKET.pack(kind, len(data)) + bytes(data))
        return send

    if not command.strip():
        packet(SHELL_STDERR)(b"fermbench sim: no interactive shell; run `adb shell COMMAND`\n")
        packet(SHELL_EXIT)(b"\x01")
        return
    stdin = StdinPipe()
    _start(lambda: _pump_v2(stream, stdin), stream)
    try:
        status = _run(state, command, stdin, packet(SHELL_STDOUT), packet(SHELL_STDERR),
                      stream.cancel)
    finally:
        stdin.close()
    packet(SHELL_EXIT)(bytes([status & 0xFF]))


def _run(state: PhoneState, command: str, stdin: StdinPipe, out: Callable[[bytes], None],
         err: Callable[[bytes], None], cancel: threading.Event) -> int:
    """run_shell, except that a bug in the simulated shell shows as exit 255 with its reason
    on stderr instead of a silently dropped stream."""
    try:
        return run_shell(state, command, stdin, out, err, cancel)
    except StreamClosed:
        raise
    except Exception as exc:
        log.exception("simulated shell failed on %r", command)
        err(f"fermbench sim: internal error in the simulated shell: {exc!r}\n".encode())
        return 255


def _pump_v2(stream: Stream, stdin: StdinPipe) -> None:
    """Unframe the host's packets (they may be split or joined across WRTEs) into stdin."""
    buf = bytearray()
    while True:
        data = stream.read()
        if not data:
            break
        buf += data
        while len(buf) >= PACKET.size:
            kind, length = PACKET.unpack_from(buf)
            if len(buf) < PACKET.size + length:
                break
            payload = bytes(buf[PACKET.size:PACKET.size + length])
            del buf[:PACKET.size + length]
            if kind == SHELL_STDIN:
                stdin.feed(payload)
            elif kind == SHELL_CLOSE_STDIN:
                stdin.close()
            # SHELL_WINDOW: no terminal here, nothing to resize
    stdin.close()


def _start(target: Callable[[], None], stream: Stream) -> None:
    def run() -> None:
        try:
            target()
        except StreamClosed:
            pass

    threading.Thread(target=run, name=f"{stream.conn.name}-stdin{stream.local_id}", daemon=True).start()
