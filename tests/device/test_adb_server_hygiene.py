"""The adb servers fermbench starts stay on loopback and go away: no mDNS listener on 0.0.0.0:5353
(ADB_MDNS=0), stopped when fermbench stops them, their HOME removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fermbench.device.adb_server import AdbServer
from ports import udp_ports_of as _udp_ports_of

pytestmark = pytest.mark.adb


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
