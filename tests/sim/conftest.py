"""Fixtures of the simulated-phone tests."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest


def _listening_address(port: int) -> str | None:
    """The local address a TCP socket listens on at `port`, from Linux /proc/net/tcp{,6};
    None where nothing listens there (or there is no /proc)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                rows = [line.split() for line in fh.read().splitlines()[1:]]
        except OSError:
            continue
        for row in rows:
            addr, hex_port = row[1].split(":")
            if row[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                return socket.inet_ntoa(bytes.fromhex(addr)[::-1]) if len(addr) == 8 else addr
    return None


@pytest.fixture
def listening_address() -> Callable[[int], str | None]:
    """`listening_address(port)`: the address something listens on at port (skips without /proc)."""
    try:
        open("/proc/net/tcp").close()
    except OSError:
        pytest.skip("no /proc/net/tcp here to read listening addresses from")
    return _listening_address
