"""Ports for servers that are not listening yet stay out of the ephemeral range: a client that
connects there before the server listens can be handed that very port as its source port and
connect to itself (adb then reads back its own request: "protocol fault (status 30 30 30 63)")."""

from __future__ import annotations

import socket

from fermbench.device.adb_server import _ephemeral_range, free_port


def test_free_ports_are_bindable_and_never_ephemeral_nor_in_adbs_scan_range():
    low, high = _ephemeral_range()
    for _ in range(200):
        port = free_port()
        assert not low <= port <= high, port
        assert not 5554 <= port <= 5585, port
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
