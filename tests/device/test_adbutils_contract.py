"""The two private adbutils methods that device/adb.py overrides must still exist and be used the
way the override assumes; a new adbutils that changes them fails here, loudly, before it can
start stray adb servers. setup.cfg pins adbutils to the range this was checked with."""

from __future__ import annotations

import inspect
import subprocess
from importlib.metadata import version

import pytest
from adbutils import AdbConnection

from fermbench.device.adb import AdbEndpoint, _Connection
from fermbench.device.adb_server import free_port
from fermbench.device.errors import AdbServerError


def test_adbutils_is_in_the_pinned_range():
    major, minor = (int(x) for x in version("adbutils").split(".")[:2])
    assert (major, minor) == (2, 12), "device/adb.py's overrides were checked with adbutils 2.12 only"


def test_private_methods_we_override_are_still_there_and_used():
    for name in ("_safe_connect", "_create_socket"):
        method = getattr(AdbConnection, name, None)
        assert callable(method), f"adbutils.AdbConnection.{name} is gone: review device/adb.py's _Connection"
        assert list(inspect.signature(method).parameters) == ["self"], f"{name} changed its signature"
    # the constructor opens its socket through _safe_connect, which the override replaces
    assert "self._safe_connect()" in inspect.getsource(AdbConnection.__init__)
    assert "self._create_socket()" in inspect.getsource(AdbConnection._safe_connect)


def test_no_server_means_an_error_never_a_started_server(monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a) or pytest.fail("started a process"))
    port = free_port()  # nothing listens there
    with pytest.raises(AdbServerError, match=f"no adb server on 127.0.0.1:{port}"):
        AdbEndpoint("127.0.0.1", port).connect(timeout=2)
    with pytest.raises(AdbServerError):
        _Connection("127.0.0.1", port)
    assert started == []
