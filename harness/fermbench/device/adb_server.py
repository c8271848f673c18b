"""The adb binary and adb servers that fermbench starts itself: a private server for a
simulated phone, tests and benchmarks, and the way to find an adb binary. (The servers a
session asks for devices, its own or a farm's, are device/farm.py's.)

The server gets its own port and its own HOME/ANDROID_USER_HOME/TMPDIR (keys, logs), so it never
touches a user's server on 5037 or their keys; `ADB_LIBUSB=0` keeps its start-up fast. On exit it
is stopped with `adb -P PORT kill-server`, and only that server process (found by its port) is
ever ended.
"""

from __future__ import annotations

import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ..tempdirs import make_temp_dir
from . import command_log
from .adb import DeviceEntry, find_adb, parse_devices_l
from .errors import DeviceError


def adb_binaries() -> dict[str, str]:
    """Every distinct adb here, by origin: the one in the adbutils wheel and the one on PATH
    (e.g. Debian's 29.0.6). Tests run against each, since both must work."""
    found: dict[str, str] = {}
    try:
        import adbutils

        bundled = Path(adbutils.__file__).parent / "binaries" / "adb"
        if os.access(bundled, os.X_OK):
            found["adbutils"] = str(bundled)
    except ImportError:
        pass
    system = shutil.which("adb")
    if system and os.path.realpath(system) not in {os.path.realpath(p) for p in found.values()}:
        found["path"] = system
    return found


def server_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens where an adb server would."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' source ports (Linux; a usual default elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A free loopback port for a server that is not listening yet, outside the ephemeral range.

    Why not the OS's port-0 pick: that port is ephemeral, so while nothing listens on it a client's
    connect() to it can get the same port as its source and connect to itself (TCP simultaneous
    open): `adb start-server` then reads back its own `000chost:version` and fails with "protocol
    fault (status 30 30 30 63)". Ports below the ephemeral range and above adb's emulator scan
    range (5555-5585) cannot be a source port."""
    low, high = _ephemeral_range()
    lo, hi = 10000, low - 1
    if hi - lo < 1000:  # an unusual range: take the room above it instead
        lo, hi = high + 1, 65535
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(lo, hi)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise DeviceError(f"no free loopback port in {lo}-{hi}; close some servers and retry")


class AdbServer:
    """`with AdbServer() as adb: adb.connect(phone.serial); adb.adb("shell", "echo hi")`."""

    def __init__(self, port: int | None = None, home: Path | str | None = None, adb_path: str | None = None):
        found = adb_path or find_adb()
        if found is None:
            raise DeviceError("no adb binary found; install adbutils or set FERMBENCH_ADB")
        self.adb_path: str = found
        self.port = port or free_port()
        self._own_home = home is None
        self.home = make_temp_dir("adb") if home is None else Path(home)
        self.env = dict(os.environ)
        self.env.update(
            HOME=str(self.home),
            ANDROID_USER_HOME=str(self.home / ".android"),
            TMPDIR=str(self.home),
            ADB_LIBUSB="0",
            ADB_MDNS="0",  # no mDNS listener on 0.0.0.0:5353: fermbench's servers stay on loopback
            ANDROID_ADB_SERVER_PORT=str(self.port),
        )
        self.env.pop("ANDROID_SERIAL", None)
        (self.home / ".android").mkdir(parents=True, exist_ok=True)

    # -- running adb ---------------------------------------------------------------------------

    def adb(
        self, *args: str, timeout: float = 60, check: bool = True, input: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `adb -P PORT ARGS...` against this server; text output."""
        cmd = [self.adb_path, "-P", str(self.port), *args]
        command_log.command(command_log.server("127.0.0.1", self.port), shlex.join(cmd))
        proc = subprocess.run(
            cmd,
            env=self.env,
            capture_output=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        result = subprocess.CompletedProcess(
            cmd, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
        )
        if check and proc.returncode != 0:
            raise DeviceError(
                f"`adb {' '.join(args)}` exited {proc.returncode}: {(result.stderr or result.stdout).strip()}"
            )
        return result

    def start(self) -> AdbServer:
        self.adb("start-server", timeout=30)
        return self

    def stop(self) -> list[int]:
        """kill-server, wait for the server to exit; returns pids that had to be killed."""
        try:
            self.adb("kill-server", timeout=15, check=False)
        except subprocess.TimeoutExpired:
            pass
        # kill-server returns before the server has exited: wait for it, and end it only if it
        # is still the server on our own port.
        deadline = time.monotonic() + 5
        while self.server_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        forced = self.server_pids()
        for pid in forced:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)
        return forced

    def server_pids(self) -> list[int]:
        """Pids of adb server processes listening on our port (Linux /proc; [] elsewhere)."""
        pids: list[int] = []
        proc = Path("/proc")
        if not proc.is_dir():
            return pids
        needle = f"tcp:{self.port}".encode()
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"fork-server" in argv and any(needle in a for a in argv):
                pids.append(int(entry.name))
        return pids

    def __enter__(self) -> AdbServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- devices -------------------------------------------------------------------------------

    def devices(self) -> list[DeviceEntry]:
        """`adb devices -l`, parsed like the device list of the device layer."""
        out = self.adb("devices", "-l", timeout=30).stdout
        return parse_devices_l("\n".join(out.splitlines()[1:]))

    def state_of(self, serial: str) -> str | None:
        for line in self.devices():
            if line.serial == serial:
                return line.state
        return None

    def wait_for_state(self, serial: str, states: tuple[str, ...] = ("device",), timeout: float = 15) -> str:
        """Poll `adb devices` until serial shows one of states; DeviceError on timeout."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state_of(serial)
            if state in states:
                return state
            time.sleep(0.05)
        raise DeviceError(f"still {state or 'absent'} after {timeout:.0f} s (wanted {'/'.join(states)})", serial)

    def connect(self, serial: str, states: tuple[str, ...] = ("device",), timeout: float = 15) -> str:
        """`adb connect`, checked: it exits 0 even when it failed, so read its text and state."""
        out = self.adb("connect", serial, timeout=timeout, check=False)
        text = (out.stdout + out.stderr).strip()
        if "connected to" not in text and "failed to authenticate" not in text:
            raise DeviceError(f"`adb connect` failed: {text}", serial)
        return self.wait_for_state(serial, states, timeout)

    def disconnect(self, serial: str) -> None:
        out = self.adb("disconnect", serial, timeout=15, check=False)
        text = (out.stdout + out.stderr).strip()
        if "disconnected" not in text and "no such device" not in text:
            raise DeviceError(f"`adb disconnect` failed: {text}", serial)
