"""Several adb servers at once (a device farm): their addresses, their devices, device specs.

    farm = Farm([ServerAddress.parse("127.0.0.1:15037")])    # none given: the local server
    for listing in farm.listings():                           # each server asked once
        listing.server, listing.entries, listing.error        # error: it did not answer, and the fix
    found = farm.resolve("127.0.0.1:15037/127.0.0.1:15555")   # FarmDevice(server, serial, key)

A device is addressed as SERIAL when one server knows it, else as HOST:PORT/SERIAL. Its key (what
results are stored under) is its bare serial on the local server, HOST:PORT/SERIAL on any other.
A remote server is reached as it listens; fermbench itself never listens on anything but
loopback (README: Security).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adbutils.errors import AdbError

from ..errors import ConfigError
from .adb import DEFAULT_HOST, AdbEndpoint, DeviceEntry, env_server_port, parse_devices_l
from .errors import AdbServerError, DeviceNotFound

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ANSWER_TIMEOUT_S = 5.0  # a server that accepts the connection but says nothing in this long is not adb


@dataclass(frozen=True)
class ServerAddress:
    """An adb server's HOST:PORT, as the user wrote it (its text is part of device keys), with
    `localhost` spelled 127.0.0.1 so that one server has one name."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, what: str = "--adb-server") -> ServerAddress:
        """`HOST:PORT` (an IPv6 host in brackets); ConfigError naming `what` and the fix otherwise."""
        host, sep, port = text.strip().rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        host = host[1:-1] if bracketed else host
        if (
            not sep
            or not host
            or not port.isdigit()
            or not 1 <= int(port) <= 65535
            or any(c in host for c in "/[] \t")
            or (":" in host and not bracketed)
        ):
            raise ConfigError(
                f"{what} {text!r} is not HOST:PORT with a port in 1-65535; write e.g. "
                f"127.0.0.1:5037 (an SSH tunnel's local end)"
            )
        return cls(DEFAULT_HOST if host == "localhost" else host, int(port))

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK

    def endpoint(self) -> AdbEndpoint:
        return AdbEndpoint(self.host, self.port)


def local_server() -> ServerAddress:
    """The server plain `adb` talks to: ANDROID_ADB_SERVER_PORT (or 5037) on this machine."""
    return ServerAddress(DEFAULT_HOST, env_server_port())


def unreachable_fix(server: ServerAddress) -> str:
    if server.loopback:
        return (
            f"start it with `adb -P {server.port} start-server`, or open the SSH tunnel that ends there "
            f"(`ssh -N -L {server.port}:127.0.0.1:5037 FARM-HOST`)"
        )
    return (
        f"check that an adb server listens there, or reach it through an SSH tunnel "
        f"(`ssh -N -L {server.port}:127.0.0.1:5037 {server.host}`, then --adb-server 127.0.0.1:{server.port})"
    )


@dataclass(frozen=True)
class ServerListing:
    """What one server said: its devices, or why it could not be asked (error, with the fix)."""

    server: ServerAddress
    entries: tuple[DeviceEntry, ...] = ()
    error: str | None = None


def list_server(server: ServerAddress) -> ServerListing:
    """One server's devices; a server that is down or is not an adb server becomes an error line."""
    endpoint = server.endpoint()
    try:
        endpoint.ensure_server()  # nothing listens: refused (only the local 5037 is started, as adb does)
    except AdbServerError:
        return ServerListing(server, error=f"adb server {server} does not answer; {unreachable_fix(server)}")
    try:
        return ServerListing(server, tuple(parse_devices_l(endpoint.query("host:devices-l", ANSWER_TIMEOUT_S))))
    except (AdbServerError, AdbError, OSError, EOFError, ValueError) as exc:
        reason = (
            f"no answer within {ANSWER_TIMEOUT_S:g} s"
            if isinstance(exc, AdbServerError)
            else (str(exc).strip() or type(exc).__name__)[:60]
        )
        return ServerListing(
            server,
            error=f"{server} is not an adb server: it did not answer the device list "
            f"({reason}); point --adb-server at an adb server (a phone's own "
            f"port is for `adb connect`)",
        )


@dataclass(frozen=True)
class FarmDevice:
    """A device found on a server: where it is, its serial there, and its key in results."""

    server: ServerAddress
    serial: str
    key: str
    entry: DeviceEntry  # what the server said about it (state, model)

    @property
    def address(self) -> str:
        return f"{self.server}/{self.serial}"


@dataclass
class Farm:
    """The adb servers of one command or session; `local` is the server whose devices are keyed by
    their bare serial (the local default; a resumed session brings the one it recorded)."""

    servers: list[ServerAddress] = field(default_factory=list)
    local: ServerAddress = field(default_factory=local_server)
    _listings: dict[ServerAddress, ServerListing] = field(default_factory=dict, repr=False)

    @classmethod
    def from_texts(
        cls, texts: tuple[str, ...] | list[str], specs: tuple[str, ...] = (), local: str | None = None
    ) -> Farm:
        """The servers given (default: the local one), plus any a HOST:PORT/SERIAL spec names."""
        servers = [ServerAddress.parse(t) for t in texts]
        for spec in specs:
            server, _ = split_spec(spec)
            if server is not None:
                servers.append(server)
        home = ServerAddress.parse(local, "recorded adb server") if local else local_server()
        return cls(list(dict.fromkeys(servers)) or [home], home)

    def key(self, server: ServerAddress, serial: str) -> str:
        return serial if server == self.local else f"{server}/{serial}"

    def listing(self, server: ServerAddress) -> ServerListing:
        if server not in self._listings:
            self._listings[server] = list_server(server)
        return self._listings[server]

    def listings(self) -> list[ServerListing]:
        return [self.listing(s) for s in self.servers]

    def asked(self) -> list[ServerListing]:
        """The servers asked so far (a run asks only those its devices need)."""
        return list(self._listings.values())

    def devices(self) -> list[FarmDevice]:
        """Every device of every server that answered, ready or not."""
        return [
            FarmDevice(listing.server, e.serial, self.key(listing.server, e.serial), e)
            for listing in self.listings()
            for e in listing.entries
        ]

    def address(self, device: FarmDevice) -> str:
        """SERIAL when no other server has that serial, else HOST:PORT/SERIAL: how a user names it."""
        same = [d for d in self.devices() if d.serial == device.serial]
        return device.serial if len(same) <= 1 else device.address

    def resolve(self, spec: str) -> FarmDevice:
        """`SERIAL` or `HOST:PORT/SERIAL` -> the device. AdbServerError when its server does not
        answer; DeviceNotFound when no server has it; ConfigError when two servers have it."""
        server, serial = split_spec(spec)
        if server is not None:
            listing = self.listing(server)
            if listing.error:
                raise AdbServerError(listing.error, spec)
            entry = next((e for e in listing.entries if e.serial == serial), None)
            if entry is None:
                raise DeviceNotFound(
                    f"adb server {server} has no such device; pick one from `fermbench devices --adb-server {server}`",
                    spec,
                )
            return FarmDevice(server, serial, self.key(server, serial), entry)
        found = [d for d in self.devices() if d.serial == serial]
        if len(found) > 1:
            where = " and ".join(str(d.server) for d in found)
            raise ConfigError(
                f"device {serial} is on adb servers {where}; name one as HOST:PORT/SERIAL, "
                f"e.g. --device {found[0].address}"
            )
        if found:
            return found[0]
        down = [listing for listing in self.listings() if listing.error]
        if down:
            raise AdbServerError(
                f"not on any adb server that answered ({'; '.join(d.error or '' for d in down)})", serial
            )
        raise DeviceNotFound(
            "no adb server has it; plug it in (or `adb connect HOST:PORT`), check "
            "`fermbench devices`, and use a serial from that list",
            serial,
        )


def split_spec(spec: str) -> tuple[ServerAddress | None, str]:
    """`HOST:PORT/SERIAL` -> (server, serial); a bare serial -> (None, serial)."""
    head, sep, serial = spec.partition("/")
    if not sep:
        return None, spec
    if not serial:
        raise ConfigError(f"--device {spec!r} names no serial after the '/'; write HOST:PORT/SERIAL")
    return ServerAddress.parse(head, f"--device {spec!r}: the server"), serial
