"""The adb servers fermbench starts stay on loopback and go away: no mDNS listener on 0.0.0.0:5353
(ADB_MDNS=0), stopped when fermbench stops them, their HOME removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fermbench.device.server import AdbServer

pytestmark = pytest.mark.adb


def _udp_ports_of(pid: int) -> set[int]:
    """UDP ports bound by a process's sockets (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("udp", "udp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.skipif(not Path("/proc/self/net/udp").is_file(), reason="needs Linux /proc to read sockets")
def test_fermbench_adb_servers_listen_for_no_mdns_and_are_stopped(adb_path):
    server = AdbServer(adb_path=adb_path).start()
    home = server.home
    try:
        (pid,) = server.server_pids()
        assert server.env["ADB_MDNS"] == "0"
        assert 5353 not in _udp_ports_of(pid)
    finally:
        forced = server.stop()
    assert forced == [] and server.server_pids() == []
    assert not home.exists()
