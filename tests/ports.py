"""Loopback ports for tests that start servers on ports of their choosing."""

from __future__ import annotations

import socket

from fermbench.device.server import free_port


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
