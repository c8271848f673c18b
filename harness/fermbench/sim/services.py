"""Which service an OPEN names, and what each answers (the table SERVICES).

Facts from AOSP `SERVICES.TXT`, `shell_protocol.h` and adbd's services.cpp:
- `shell:cmd` (legacy) and `exec:cmd` give a raw byte stream: stdout and stderr merged, no exit
  code; the host's writes are the command's stdin.
- `shell,v2,ARGS:cmd` frames both directions as packets of a 1-byte id and a little-endian
  uint32 length: 0 stdin, 1 stdout, 2 stderr, 3 exit (one byte), 4 close-stdin, 5 window size.
- `sync:` is the file transfer service (sync.py); `tcp:` and `reverse:` forward (forward.py).
- `reboot:ARG` and `remount:` run /system/bin/reboot and /system/bin/remount as exec: does;
  `root:` and `unroot:` answer one line, as adbd on a user build answers them.
Anything else (tcpip:, usb:, jdwp, framebuffer:, abb...) is refused with CLSE, as a phone
refuses what it does not offer; nothing is pretended.
"""

from __future__ import annotations

import logging
import shlex
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .forward import ReverseForwards, connect_local, pump
from .shell import Shell
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


@dataclass(frozen=True)
class Daemon:
    """What the phone's adbd serves from: the OS state, its shell, its reverse listeners."""

    state: PhoneState
    shell: Shell
    reverse: ReverseForwards


@dataclass(frozen=True)
class Service:
    prefix: str  # the service name starts with it
    summary: str  # one line of the reference
    open: Callable[[Daemon, str], Handler | None]  # (daemon, the rest of the name)


def _shell_service(daemon: Daemon, rest: str) -> Handler | None:
    head, colon, command = rest.partition(":")
    if not colon:
        return None  # adbd: no ':' in the shell service arguments
    args = head.split(",")
    if "v2" in args:
        pty = "pty" in args
        return lambda stream: _shell_v2(daemon.shell, stream, command, pty)
    return lambda stream: _raw_shell(daemon.shell, stream, command)


def _tcp_service(daemon: Daemon, rest: str) -> Handler | None:
    sock = connect_local("tcp:" + rest)
    if sock is None:
        return None  # nothing listens there: the host sees the open refused
    return lambda stream: pump(sock, stream)


def _reboot_command(reason: str) -> str:
    """adbd runs `/system/bin/reboot REASON` for `reboot:REASON`."""
    return f"reboot {shlex.quote(reason)}" if reason else "reboot"


def _root_service(daemon: Daemon, rest: str) -> Handler:
    # adbd on a user build refuses; on a debuggable one, root access is off in the settings
    text = (
        "ADB Root access is disabled by system setting - enable in Settings -> System -> Developer options\n"
        if daemon.state.identity.debuggable
        else "adbd cannot run as root in production builds\n"
    )
    return lambda stream: stream.write(text.encode())


SERVICES: tuple[Service, ...] = (
    Service("shell", "shell:CMD, shell,v2[,pty]:CMD: the simulated shell (exit codes with v2)", _shell_service),
    Service(
        "exec:",
        "exec:CMD: the shell, raw bytes (adb exec-out, installs)",
        lambda d, cmd: lambda stream: _raw_shell(d.shell, stream, cmd),
    ),
    Service(
        "sync:",
        "sync:: push, pull, stat, list (adb push/pull, adbutils sync)",
        lambda d, _: lambda stream: serve_sync(d.state, stream),
    ),
    Service(
        "reboot:",
        "reboot:[REASON]: offline for the reboot delay (--reboot-delay), then back with its files",
        lambda d, arg: lambda stream: _raw_shell(d.shell, stream, _reboot_command(arg)),
    ),
    Service("root:", "root:: refused as a production build refuses it; the connection stays up", _root_service),
    Service(
        "unroot:",
        "unroot:: 'adbd not running as root'",
        lambda d, _: lambda stream: stream.write(b"adbd not running as root\n"),
    ),
    Service(
        "remount:",
        "remount:: refused: 'Not running as root'",
        lambda d, _: lambda stream: stream.write(b'Not running as root. Try "adb root" first.\n'),
    ),
    Service("tcp:", "tcp:PORT: a connection to the phone's loopback port (adb forward)", _tcp_service),
    Service(
        "reverse:",
        "reverse:forward|killforward|killforward-all|list-forward (adb reverse, tcp: only)",
        lambda d, request: lambda stream: d.reverse.serve(stream, request),
    ),
)


def open_service(daemon: Daemon, name: str) -> Handler | None:
    """The handler for a service name, or None to refuse it."""
    for service in SERVICES:
        if name.startswith(service.prefix):
            return service.open(daemon, name[len(service.prefix) :])
    return None


def reference() -> str:
    width = max(len(s.prefix) for s in SERVICES)
    return "".join(f"  {s.prefix:<{width}}  {s.summary}\n" for s in SERVICES)


def _raw_shell(shell: Shell, stream: Stream, command: str) -> None:
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
        _run(shell, command, stdin, stream.write, stream.write, stream.cancel)
    finally:
        stdin.close()


def _shell_v2(shell: Shell, stream: Stream, command: str, pty: bool = False) -> None:
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
        status = _run(shell, command, stdin, packet(SHELL_STDOUT), packet(SHELL_STDERR), stream.cancel)
    finally:
        stdin.close()
    packet(SHELL_EXIT)(bytes([status & 0xFF]))


def _run(
    shell: Shell,
    command: str,
    stdin: StdinPipe,
    out: Callable[[bytes], None],
    err: Callable[[bytes], None],
    cancel: threading.Event,
) -> int:
    """Shell.run, except that a bug in the simulated shell shows as exit 255 with its reason
    on stderr instead of a silently dropped stream."""
    try:
        return shell.run(command, stdin, out, err, cancel)
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
            payload = bytes(buf[PACKET.size : PACKET.size + length])
            del buf[: PACKET.size + length]
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
