"""A private adb server for tests and benchmarks, and the way to find an adb binary.

The server gets its own port and its own HOME/ANDROID_USER_HOME/TMPDIR (keys, logs), so it never
touches a user's server on 5037 or their keys; `ADB_LIBUSB=0` keeps its start-up fast. On exit it
is stopped with `adb -P PORT kill-server`, and only that server process (found by its port) is
ever ended.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeviceError


def find_adb() -> str | None:
    """FERMBENCH_ADB, then the adb inside the adbutils wheel, then `adb` on PATH."""
    env = os.environ.get("FERMBENCH_ADB")
    if env:
        return env if os.access(env, os.X_OK) else None
    try:
        import adbutils

        path = adbutils.adb_path()
        if path and os.access(path, os.X_OK):
            return str(path)
    except Exception:  # adbutils without a bundled binary raises its own errors
        pass
    return shutil.which("adb")


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


def free_port() -> int:
    """A port the OS has just handed out (above adb's 5555-5585 scan range on Linux)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class DeviceLine:
    """One line of `adb devices -l`."""

    serial: str
    state: str
    info: dict[str, str]


class AdbServer:
    """`with AdbServer() as adb: adb.connect(phone.serial); adb.adb("shell", "echo hi")`."""

    def __init__(self, port: int | None = None, home: Path | str | None = None, adb_path: str | None = None):
        self.adb_path = adb_path or find_adb()
        if self.adb_path is None:
            raise DeviceError("no adb binary found; install adbutils or set FERMBENCH_ADB")
        self.port = port or free_port()
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="fermadb-")) if home is None else Path(home)
        self.env = dict(os.environ)
        self.env.update(
            HOME=str(self.home),
            ANDROID_USER_HOME=str(self.home / ".android"),
            TMPDIR=str(self.home),
            ADB_LIBUSB="0",
            ANDROID_ADB_SERVER_PORT=str(self.port),
        )
        self.env.pop("ANDROID_SERIAL", None)
        (self.home / ".android").mkdir(parents=True, exist_ok=True)

    # -- running adb ---------------------------------------------------------------------------

    def adb(self, *args: str, timeout: float = 60, check: bool = True,
            input: bytes | None = None) -> subprocess.CompletedProcess:
        """Run `adb -P PORT ARGS...` against this server; text output."""
        cmd = [self.adb_path, "-P", str(self.port), *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout,
                              input=input, stdin=None if input is not None else subprocess.DEVNULL)
        result = subprocess.CompletedProcess(
            cmd, proc.returncode,
            proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
        if check and proc.returncode != 0:
            raise DeviceError(f"`adb {' '.join(args)}` exited {proc.returncode}: "
                              f"{(result.stderr or result.stdout).strip()}")
        return result

    def start(self) -> "AdbServer":
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
        pids = []
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

    def __enter__(self) -> "AdbServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- devices -------------------------------------------------------------------------------

    def devices(self) -> list[DeviceLine]:
        out = self.adb("devices", "-l", timeout=30).stdout
        lines = []
        for line in out.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 2:
                continue
            info = dict(f.split(":", 1) for f in fields[2:] if ":" in f)
            lines.append(DeviceLine(fields[0], fields[1], info))
        return lines

    def state_of(self, serial: str) -> str | None:
        for line in self.devices():
            if line.serial == serial:
                return line.state
        return None

    def wait_for_state(self, serial: str, states: tuple[str, ...] = ("device",),
                       timeout: float = 15) -> str:
        """Poll `adb devices` until serial shows one of states; DeviceError on timeout."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state_of(serial)
            if state in states:
                return state
            time.sleep(0.05)
        raise DeviceError(f"still {state or 'absent'} after {timeout:.0f} s (wanted {'/'.join(states)})",
                          serial)

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
