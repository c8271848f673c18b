"""A simulated phone: a TCP listener that the real adb server reaches with `adb connect`.

    with SimPhone(SimIdentity(model="Pixel_8")) as phone:     # started, port picked by the OS
        subprocess.run(["adb", "connect", phone.serial])      # "127.0.0.1:PORT"

Each TCP connection gets a reader thread, each opened service its own thread; all share one
PhoneState (file system, packages, properties). Faults live in `phone.state.faults` and may be
changed while the phone runs.

The phone accepts any adb connection without authentication (it is a test double) and listens
on 127.0.0.1 only. `reboot()` (or `adb reboot`) takes it off the network for
`faults.reboot_delay_s` and brings it back with its files, as a phone comes back from a reboot.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import shutil
import socket
import threading
import weakref
from pathlib import Path

from ..errors import ConfigError
from ..tempdirs import make_temp_dir
from .cmds import BUILTINS, COMMANDS
from .forward import ReverseForwards
from .services import Daemon, open_service
from .shell import Shell
from .state import Faults, PhoneState, SimIdentity
from .transport import Connection, Handler

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never any other address: an adb device is an unauthenticated shell
# adb scans 5555-5585 (emulator console/adb pairs from 5554) at start-up and would claim a phone
# there as `emulator-N`; keep simulated phones out of that range.
ADB_SCANNED_PORTS = range(5554, 5586)


def consecutive_ports(first: int, count: int) -> list[int]:
    """The ports of `count` phones from `first` on (all 0, any free port, when first is 0);
    ConfigError when the range leaves 1-65535 or meets adb's emulator scan range."""
    if count < 1:
        raise ConfigError(f"--count {count}: give at least 1 phone")
    if first == 0:
        return [0] * count
    last = first + count - 1
    if first < 1 or last > 65535:
        shown = f"{first}" if count == 1 else f"{first}-{last}"
        raise ConfigError(
            f"port {shown} is not a TCP port; choose --port in 1-65535 "
            "(or 0 for any free port) with room for --count phones"
        )
    if first <= ADB_SCANNED_PORTS[-1] and last >= ADB_SCANNED_PORTS[0]:
        where = f"port {first} is in" if count == 1 else f"ports {first}-{last} overlap"
        raise ConfigError(f"{where} adb's emulator scan range 5554-5585; choose another --port (e.g. 15555)")
    return list(range(first, last + 1))


class SimPhone:
    """One simulated phone. `start()` returns self; `stop()` ends every thread it started."""

    def __init__(
        self,
        identity: SimIdentity | None = None,
        faults: Faults | None = None,
        port: int = 0,
        root: Path | str | None = None,
    ):
        if not 0 <= port <= 65535:
            raise ConfigError(f"port {port} is not a TCP port; choose one in 1-65535 (or 0 for any free port)")
        if port in ADB_SCANNED_PORTS:
            raise ConfigError(f"port {port} is in adb's emulator scan range 5554-5585; choose another (e.g. 15555)")
        self._want_port = port
        self._own_root = root is None
        self._root = make_temp_dir("sim") if root is None else Path(root)  # marked: swept if its owner is killed
        self._root.mkdir(parents=True, exist_ok=True)
        # A temp root goes away at stop(), and also if the owner forgets stop() (at garbage
        # collection or interpreter exit), so phones never pile up under /tmp.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._root), True) if self._own_root else None
        self.state = PhoneState(self._root, identity, faults)
        self.state.reboot_handler = self.reboot
        self.daemon = Daemon(self.state, Shell(self.state, COMMANDS, BUILTINS), ReverseForwards())
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._boot_thread: threading.Thread | None = None
        self._connections: list[tuple[Connection, threading.Thread]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rebooting = False
        self._opened: collections.deque[str] = collections.deque(maxlen=500)
        self.port = 0

    @property
    def serial(self) -> str:
        """The serial adb gives a TCP device: host and port, not ro.serialno."""
        return f"{HOST}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def start(self) -> SimPhone:
        while True:
            try:
                sock = self._bind(self._want_port)
            except OSError as exc:
                raise ConfigError(
                    f"simulated phone cannot listen on port {self._want_port}: {exc}; choose another --port"
                ) from exc
            if sock.getsockname()[1] not in ADB_SCANNED_PORTS:
                break
            sock.close()  # the OS picked one adb scans: pick again
        self.port = sock.getsockname()[1]
        self._serve(sock)
        log.info("simulated phone %s listening", self.serial)
        return self

    @staticmethod
    def _bind(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            sock.listen(8)
        except BaseException:
            sock.close()
            raise
        return sock

    def _serve(self, sock: socket.socket) -> None:
        self._listener = sock
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(sock,), name=f"sim:{self.port}-accept", daemon=True
        )
        self._accept_thread.start()

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        if self._accept_thread is not None and self._accept_thread is not threading.current_thread():
            self._accept_thread.join(timeout=5)

    def reboot(self, reason: str = "") -> None:
        """Reboot: connections drop and nothing listens (adb shows the phone offline) for
        `faults.reboot_delay_s`; processes, logs and non-persistent properties start afresh,
        files stay; then the phone listens on its port again and adb reconnects by itself."""
        with self._lock:
            if self._rebooting or self._stopping.is_set():
                return
            self._rebooting = True
        log.info("simulated phone %s rebooting (%s)", self.serial, reason or "adb")
        self._close_listener()
        self.drop_connections()
        self.daemon.reverse.close_all()
        self._boot_thread = threading.Thread(
            target=self._come_back, args=(reason,), name=f"sim:{self.port}-boot", daemon=True
        )
        self._boot_thread.start()

    def _come_back(self, reason: str) -> None:
        if self._stopping.wait(max(0.0, self.state.faults.reboot_delay_s)):
            return
        self.state.reboot(reason)
        while not self._stopping.is_set():
            try:
                sock = self._bind(self.port)
            except OSError as exc:  # someone took the port meanwhile: keep trying, stay offline
                log.warning("simulated phone %s cannot listen again yet: %s", self.serial, exc)
                self._stopping.wait(0.1)
                continue
            with self._lock:
                if self._stopping.is_set():
                    sock.close()
                    return
                self._serve(sock)
                self._rebooting = False
            log.info("simulated phone %s is back", self.serial)
            return

    @property
    def rebooting(self) -> bool:
        with self._lock:
            return self._rebooting

    def set_faults(self, **changes: object) -> None:
        """Change faults now. Becoming unauthorized drops live connections at once (the user
        revoked USB debugging); adb reconnects by itself and meets the AUTH challenge."""
        names = {f.name for f in dataclasses.fields(Faults)}
        unknown = set(changes) - names
        if unknown:
            raise ConfigError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(names)}")
        for key, value in changes.items():
            setattr(self.state.faults, key, value)
        if changes.get("unauthorized") or "advertise_cmd" in changes:
            self.drop_connections()  # features and authorization are settled at CNXN

    def drop_connections(self) -> None:
        """Cut every live connection (adb sees the phone go offline and reconnects)."""
        with self._lock:
            conns = [c for c, _ in self._connections]
        for conn in conns:
            conn.drop()

    def connection_count(self) -> int:
        with self._lock:
            return sum(1 for c, _ in self._connections if not c.closed.is_set())

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        if self._boot_thread is not None:
            self._boot_thread.join(timeout=5)
        self._close_listener()
        self.drop_connections()
        self.daemon.reverse.close_all()
        with self._lock:
            threads = [t for _, t in self._connections]
        for t in threads:
            t.join(timeout=5)
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> SimPhone:
        return self.start() if self._listener is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def services_opened(self) -> list[str]:
        """Service names the host opened, oldest first (the last 500): tests read which path
        adb took, e.g. `exec:cmd package 'install' -S N` or `sync:` + `pm 'install'`."""
        with self._lock:
            return list(self._opened)

    # -- internals -----------------------------------------------------------------------------

    def _open_service(self, name: str) -> Handler | None:
        with self._lock:
            self._opened.append(name)
        return open_service(self.daemon, name)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                sock, _addr = listener.accept()
            except OSError:
                return
            if self._stopping.is_set():
                sock.close()
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(
                sock,
                identity=lambda: self.state.identity,
                faults=lambda: self.state.faults,
                open_service=self._open_service,
                name=f"sim:{self.port}",
            )
            t = threading.Thread(target=conn.run, name=f"sim:{self.port}-conn", daemon=True)
            with self._lock:
                self._connections = [(c, th) for c, th in self._connections if th.is_alive()]
                self._connections.append((conn, t))
            t.start()
