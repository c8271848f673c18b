"""A simulated phone: a TCP listener that the real adb server reaches with `adb connect`.

    with SimPhone(SimIdentity(model="Pixel_8")) as phone:     # started, port picked by the OS
        subprocess.run(["adb", "connect", phone.serial])      # "127.0.0.1:PORT"

Each TCP connection gets a reader thread, each opened service its own thread; all share one
PhoneState (file system, packages, properties). Faults live in `phone.state.faults` and may be
changed while the phone runs.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import shutil
import socket
import tempfile
import threading
import weakref
from pathlib import Path

from ..errors import ConfigError
from .services import open_service
from .state import Faults, PhoneState, SimIdentity
from .transport import Connection

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# adb scans 5555-5585 (emulator console/adb pairs from 5554) at start-up and would claim a phone
# there as `emulator-N`; keep simulated phones out of that range.
ADB_SCANNED_PORTS = range(5554, 5586)


class SimPhone:
    """One simulated phone. `start()` returns self; `stop()` ends every thread it started."""

    def __init__(
        self,
        identity: SimIdentity | None = None,
        faults: Faults | None = None,
        port: int = 0,
        root: Path | str | None = None,
    ):
        if port in ADB_SCANNED_PORTS:
            raise ConfigError(
                f"port {port} is in adb's emulator scan range 5554-5585; choose another (e.g. 15555)"
            )
        self._want_port = port
        self._own_root = root is None
        self._root = Path(tempfile.mkdtemp(prefix="fermsim-")) if root is None else Path(root)
        self._root.mkdir(parents=True, exist_ok=True)
        # A temp root goes away at stop(), and also if the owner forgets stop() (at garbage
        # collection or interpreter exit), so phones never pile up under /tmp.
        self._cleanup = (weakref.finalize(self, shutil.rmtree, str(self._root), True)
                         if self._own_root else None)
        self.state = PhoneState(self._root, identity, faults)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._connections: list[tuple[Connection, threading.Thread]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._opened: collections.deque[str] = collections.deque(maxlen=500)
        self.port = 0

    @property
    def serial(self) -> str:
        """The serial adb gives a TCP device: host and port, not ro.serialno."""
        return f"{HOST}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def start(self) -> "SimPhone":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self._want_port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"simulated phone cannot listen on port {self._want_port}: {exc}; "
                              "choose another --port") from exc
        sock.listen(8)
        self.port = sock.getsockname()[1]
        if self.port in ADB_SCANNED_PORTS:  # the OS picked one adb scans: pick again
            sock.close()
            return self.start()
        self._listener = sock
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"sim:{self.port}-accept", daemon=True
        )
        self._accept_thread.start()
        log.info("simulated phone %s listening", self.serial)
        return self

    def set_faults(self, **changes) -> None:
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
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        self.drop_connections()
        with self._lock:
            threads = [t for _, t in self._connections]
        for t in threads:
            t.join(timeout=5)
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> "SimPhone":
        return self.start() if self._listener is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def services_opened(self) -> list[str]:
        """Service names the host opened, oldest first (the last 500): tests read which path
        adb took, e.g. `exec:cmd package 'install' -S N` or `sync:` + `pm 'install'`."""
        with self._lock:
            return list(self._opened)

    # -- internals -----------------------------------------------------------------------------

    def _open_service(self, name: str):
        with self._lock:
            self._opened.append(name)
        return open_service(self.state, name)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _addr = self._listener.accept()
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
