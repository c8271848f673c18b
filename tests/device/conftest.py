"""Device-layer fixtures: a fermbench Device for a simulated phone behind a private adb server."""

from __future__ import annotations

import pytest

from fermbench.device import Device


@pytest.fixture
def make_device(adb_server):
    def make(phone, **kwargs) -> Device:
        kwargs.setdefault("retry_wait_s", 5.0)
        return Device(phone.serial, adb_port=adb_server.port, **kwargs)

    return make


@pytest.fixture
def device(sim_phone, make_device) -> Device:
    return make_device(sim_phone)
