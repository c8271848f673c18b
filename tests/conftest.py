"""Shared fixtures: a private adb server and simulated phones connected to it.

    def test_x(sim_phone, adb_server):            # one phone, connected, state "device"
        adb_server.adb("-s", sim_phone.serial, "shell", "echo hi")

    def test_y(make_sim_phone):                   # several, or custom identity / faults
        a = make_sim_phone(SimIdentity(model="A"))
        b = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))

Tests that need adb skip with a reason where no adb binary exists. At teardown phones are
disconnected before they stop (adb keeps a restarted device offline otherwise), the server is
killed with `kill-server`, and a test fails if any process it started is still alive.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fermbench.device.server import AdbServer, find_adb
from fermbench.sim.phone import SimPhone
from fermbench.sim.state import Faults, SimIdentity


def _children(pid: int) -> set[int]:
    """Live direct children of pid (Linux /proc; an empty set elsewhere)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0] is the state, fields[1] the parent pid; zombies are already gone in effect
        if len(fields) > 1 and int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


@pytest.fixture(scope="session")
def adb_path() -> str:
    """The adb binary the tests use (FERMBENCH_ADB, adbutils' choice, or PATH)."""
    path = find_adb()
    if path is None:
        pytest.skip("no adb binary: install adbutils (it ships adb) or set FERMBENCH_ADB")
    return path


@pytest.fixture
def adb_server(adb_path: str):
    """A private adb server (own port, own HOME, ADB_LIBUSB=0): `.port`, `.adb(*args)`,
    `.connect(serial)`, `.devices()`. Killed at teardown; leftover processes fail the test."""
    before = _children(os.getpid())
    server = AdbServer(adb_path=adb_path).start()
    try:
        yield server
    finally:
        forced = server.stop()
    assert not forced, f"adb server on port {server.port} outlived kill-server (pids {forced})"
    left = _children(os.getpid()) - before
    assert not left, f"processes left behind by the test: {sorted(left)}"


@pytest.fixture
def make_sim_phone(adb_server: AdbServer):
    """Factory: `make_sim_phone(identity=None, faults=None, connect=True, states=("device",))`
    starts a phone and (by default) connects it, waiting for one of `states`."""
    phones: list[SimPhone] = []

    def make(identity: SimIdentity | None = None, faults: Faults | None = None, *,
             connect: bool = True, states: tuple[str, ...] = ("device",), root=None) -> SimPhone:
        phone = SimPhone(identity=identity, faults=faults, root=root).start()
        phones.append(phone)
        if connect:
            adb_server.connect(phone.serial, states=states)
        return phone

    yield make
    for phone in phones:
        try:
            adb_server.disconnect(phone.serial)
        except Exception:  # already gone (a test disconnected it): stopping is what matters
            pass
        phone.stop()


@pytest.fixture
def sim_phone(make_sim_phone) -> SimPhone:
    """One started simulated phone, connected to `adb_server` and in state "device"."""
    return make_sim_phone()
