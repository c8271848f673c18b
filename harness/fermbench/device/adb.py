"""The adb server side of the device layer: connections, the device list, error translation.

Connections go through adbutils' AdbConnection, except that we never let it start a server
behind our back (adbutils runs `adb start-server` on the default port whenever a connect
fails, which would leave a stray server when we meant a private one).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field

import adbutils
from adbutils import AdbConnection
from adbutils.errors import AdbError, AdbTimeout

from ..errors import ConfigError
from . import command_log
from .errors import (
    AdbServerError,
    DeviceDisconnected,
    DeviceError,
    DeviceNoPermission,
    DeviceNotFound,
    DeviceOffline,
    DeviceTimeout,
    DeviceUnauthorized,
)

DEFAULT_PORT = 5037
DEFAULT_HOST = "127.0.0.1"

# What to do about each state that is not "device".
FIXES = {
    "unauthorized": "unlock the phone and accept the 'Allow USB debugging?' prompt (tick 'Always allow'); "
    "no prompt: revoke USB debugging authorizations in Developer options and re-plug",
    "authorizing": "wait a moment, then accept the 'Allow USB debugging?' prompt on the phone",
    "offline": "re-plug the cable (TCP: `adb reconnect offline`); if it stays offline, restart the server "
    "with `adb kill-server`",
    "no permissions": "add a udev rule for the phone's USB vendor id and re-plug, or run adb as a user in "
    "the plugdev group",
    "bootloader": "boot the phone into Android (`fastboot reboot`)",
    "recovery": "boot the phone into Android (`adb reboot`)",
    "sideload": "finish or cancel the sideload, then reboot into Android",
    "connecting": "wait; the phone is still connecting",
    "host": "not a phone: this entry is an adb host",
}


def find_adb() -> str | None:
    """FERMBENCH_ADB, then the adb inside the adbutils wheel, then `adb` on PATH."""
    env = os.environ.get("FERMBENCH_ADB")
    if env:
        return env if os.access(env, os.X_OK) else None
    try:
        path = adbutils.adb_path()  # the adbutils wheel ships an adb binary
        if path and os.access(path, os.X_OK):
            return str(path)
    except Exception:  # adbutils without a bundled binary raises its own errors
        pass
    return shutil.which("adb")


def env_server_port() -> int:
    """The port plain `adb` uses: ANDROID_ADB_SERVER_PORT (adb's own variable), else 5037; a value
    that is not a port is a ConfigError naming the variable, never a traceback or a silent 5037."""
    value = os.environ.get("ANDROID_ADB_SERVER_PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(
            f"ANDROID_ADB_SERVER_PORT={value!r} is not a TCP port; set it to a port in 1-65535 "
            "(5037 is adb's default) or unset it"
        )
    return int(value)


def server_start_env() -> dict[str, str]:
    """The environment fermbench starts the local adb server with: the user's, with mDNS off (adb
    would otherwise listen on UDP 0.0.0.0:5353 and [::]:5353; fermbench stays on loopback)."""
    return {**os.environ, "ADB_MDNS": "0"}


def fix_for(state: str) -> str:
    return FIXES.get(state, f"unknown state '{state}': re-plug the phone or restart the server (`adb kill-server`)")


class _Connection(AdbConnection):  # type: ignore[misc]  # adbutils ships no types
    """AdbConnection that reports a missing server instead of starting one."""

    def _safe_connect(self) -> socket.socket:
        try:
            sock: socket.socket = self._create_socket()
            return sock
        except AdbError as exc:
            raise AdbServerError(f"no adb server answers ({exc}); start one with `adb start-server`") from None


@dataclass(frozen=True)
class AdbEndpoint:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def connect(self, timeout: float | None = None) -> AdbConnection:
        try:
            c = _Connection(self.host, self.port)
        except AdbServerError:
            raise AdbServerError(
                f"no adb server on {self.host}:{self.port}; start it with `adb -P {self.port} start-server`"
            ) from None
        if timeout:
            c.conn.settimeout(timeout)
        return c

    def query(self, command: str, timeout: float = 10, *, serial: str | None = None) -> str:
        """A host service with a string-block answer (`host:devices-l`, `host:version`, ...);
        `serial`: the phone it is about, for the log."""
        command_log.command(serial or command_log.server(self.host, self.port), command)
        c = self.connect(timeout)
        try:
            c.send_command(command)
            c.check_okay()
            return str(c.read_string_block())
        except (TimeoutError, AdbTimeout):
            raise AdbServerError(
                f"the adb server on {self.host}:{self.port} did not answer `{command}` "
                "in time; restart it with `adb kill-server`"
            ) from None
        finally:
            c.conn.close()

    def ensure_server(self) -> None:
        """Start the user's local server (ANDROID_ADB_SERVER_PORT, else 5037) if none runs, as `adb`
        itself does, but with mDNS off; any other port must already have its server, so say how to
        start it instead. The server stays running afterwards, as one started by `adb` does."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2):
                return
        except OSError:
            pass
        if self.port != env_server_port() or self.host not in ("127.0.0.1", "localhost"):
            raise AdbServerError(
                f"no adb server on {self.host}:{self.port}; start it with `adb -P {self.port} start-server`"
            )
        adb = find_adb()
        if adb is None:
            raise AdbServerError(
                "no adb binary to start the adb server with; install platform-tools, "
                "or set FERMBENCH_ADB to an adb binary"
            )
        command_log.command(command_log.server(self.host, self.port), f"{adb} -P {self.port} start-server")
        try:
            subprocess.run(
                [adb, "-P", str(self.port), "start-server"],
                timeout=30,
                capture_output=True,
                check=True,
                env=server_start_env(),
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise AdbServerError(f"cannot start the adb server ({exc}); install platform-tools or adbutils") from None


@dataclass(frozen=True)
class DeviceEntry:
    """One line of `adb devices -l`: serial, state, details, and the fix when not ready."""

    serial: str
    state: str
    info: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.state == "device"

    @property
    def model(self) -> str | None:
        """As adb shows it: spaces and punctuation become `_` (Device.facts() has the real name)."""
        return self.info.get("model")

    @property
    def fix(self) -> str | None:
        return None if self.ready else fix_for(self.state)


def parse_devices_l(text: str) -> list[DeviceEntry]:
    """Parse `host:devices-l` output; the state may be two words ("no permissions")."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        serial, _, rest = line.strip().partition(" ") if "\t" not in line else line.partition("\t")
        rest = rest.strip()
        if rest.startswith("no permissions"):
            state = "no permissions"
            rest = rest[len(state) :]
        else:
            state, _, rest = rest.partition(" ")
        info = {}
        for token in rest.split():
            key, sep, value = token.partition(":")
            if sep and key.isidentifier():
                info[key] = value
        entries.append(DeviceEntry(serial.strip(), state, info))
    return entries


def list_devices(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> list[DeviceEntry]:
    """Every device the server knows, ready or not."""
    endpoint = AdbEndpoint(host, port)
    endpoint.ensure_server()
    return parse_devices_l(endpoint.query("host:devices-l"))


def translate(
    exc: BaseException, serial: str, command: str | None = None, *, started: bool, output: str = ""
) -> DeviceError:
    """Turn an adbutils/socket failure into the typed error that names the device and the fix.

    started: the service had been opened (so the command may have had an effect).
    """
    if isinstance(exc, DeviceError):
        return exc
    what = f" during `{command}`" if command else ""
    text = str(exc.args[0]) if isinstance(exc, AdbError) and exc.args else str(exc)
    low = text.lower()
    if isinstance(exc, (AdbTimeout, socket.timeout, TimeoutError)):
        return DeviceTimeout(f"no answer{what} in time; check the phone is awake and connected", serial, output=output)
    if "not found" in low and "device" in low:
        return DeviceNotFound(f"not attached to the adb server; {_not_found_fix(serial)}", serial)
    if "unauthorized" in low or "authorizing" in low:
        return DeviceUnauthorized(f"not authorized; {FIXES['unauthorized']}", serial)
    if "offline" in low:
        return DeviceOffline(f"offline{what}; {FIXES['offline']}", serial, started=started)
    if "insufficient permissions" in low or "no permissions" in low:
        return DeviceNoPermission(f"no permission to open it; {FIXES['no permissions']}", serial)
    # adbutils says "Unknown data: b''" when the server hangs up instead of answering OKAY/FAIL
    if isinstance(exc, (EOFError, ConnectionError, OSError)) or "closed" in low or "unknown data: b''" in low:
        if started:
            return DeviceDisconnected(
                f"the connection broke{what}; its effect on the phone is unknown; "
                f"check the cable, then `fermbench devices`",
                serial,
                output=output,
            )
        return DeviceOffline(f"cannot reach it{what}; {FIXES['offline']}", serial)
    return DeviceError(f"adb failed{what}: {text.strip() or type(exc).__name__}", serial)


def _not_found_fix(serial: str) -> str:
    host, sep, port = serial.rpartition(":")
    if sep and port.isdigit():
        return f"run `adb connect {serial}` and check `fermbench devices`"
    return "plug it in, check `fermbench devices`, and use a serial from that list"
