"""Versions of the adb binary and of the adb server, for `fermbench doctor`.

`adb version` prints "Android Debug Bridge version 1.0.41" (the last number is the server
protocol version) and "Version 36.0.0-13206524" (the platform-tools release); a server answers
`host:version` with that protocol number in hex. A client whose number differs from the running
server's kills it and starts its own, so two adb installations keep restarting each other.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from . import command_log
from .adb import DEFAULT_HOST, AdbEndpoint
from .errors import AdbServerError


@dataclass(frozen=True)
class AdbBinary:
    path: str
    release: str  # platform-tools release, e.g. 36.0.0-13206524 (Debian: 29.0.6-debian)
    server_version: int  # the 41 of "version 1.0.41"


def adb_binary(path: str) -> AdbBinary | None:
    """What `adb version` says; None when it does not run or says something else."""
    command_log.command(command_log.LOCAL, f"{path} version")
    try:
        out = subprocess.run(
            [path, "version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    protocol = re.search(r"Android Debug Bridge version \d+\.\d+\.(\d+)", out)
    release = re.search(r"^Version (\S+)", out, re.M)
    if protocol is None:
        return None
    return AdbBinary(path, release.group(1) if release else "?", int(protocol.group(1)))


def server_version(port: int, host: str = DEFAULT_HOST) -> int:
    """The running server's protocol version (`host:version`); AdbServerError when none answers."""
    answer = AdbEndpoint(host, port).query("host:version")
    try:
        return int(answer, 16)
    except ValueError:
        raise AdbServerError(
            f"the adb server on {host}:{port} answered `host:version` with {answer[:40]!r}; "
            "restart it with `adb kill-server`"
        ) from None
