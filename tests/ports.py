"""Loopback ports for tests that start servers on ports of their choosing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from fermbench.device.adb_server import free_port


def free_block(n: int) -> int:
    """The first of n consecutive loopback ports that are free now, above adb's emulator scan
    range (5555-5585), which an adb server would otherwise probe."""
    for _ in range(100):
        first = free_port()
        if first <= 5585 or first + n - 1 > 65535:
            continue
        socks = [socket.socket() for _ in range(n)]
        try:
            for k, s in enumerate(socks):
                s.bind(("127.0.0.1", first + k))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {n} consecutive free ports found")


def udp_ports_of(pid: int) -> set[int]:
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
