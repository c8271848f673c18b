"""Install, uninstall, versions and `am instrument` through the real adb server against the
simulated phone, including the runner crash and hang faults."""

from __future__ import annotations

import time

import pytest

from fermbench.device import (
    DeviceCommandError,
    DiskFull,
    InstallError,
    InstrumentationCrashed,
    InstrumentationTimeout,
    RunnerNotInstalled,
)
from fermbench.errors import DeviceError, RunnerError
from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.runner.protocol import RUNNER_COMPONENT, RUNNER_PACKAGE
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.state import Faults

pytestmark = pytest.mark.adb


def apk_file(tmp_path, package: str, code: int = 1, name: str = "1.0"):
    path = tmp_path / f"{package}-{code}.apk"
    path.write_bytes(make_apk_bytes(package, code, name))
    return path


def test_install_lists_versions_and_uninstalls(device, sim_phone, tmp_path):
    assert device.package_version("org.example.app") is None
    assert device.install(apk_file(tmp_path, "org.example.app", 5, "0.5")) == "Success"
    assert "package:org.example.app\n" in device.shell(["pm", "list", "packages"]).stdout
    info = device.package_info("org.example.app")
    assert (info.version_code, info.version_name) == (5, "0.5")
    assert device.package_version("org.example.app") == "0.5"
    device.install(apk_file(tmp_path, "org.example.app", 6, "0.6"))  # an update replaces it
    assert device.package_version("org.example.app") == "0.6"
    assert device.uninstall("org.example.app") is True
    assert device.uninstall("org.example.app") is False
    assert device.package_version("org.example.app") is None


def test_install_without_cmd_goes_through_push_and_pm(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(advertise_cmd=False))
    dev = make_device(phone)
    assert "cmd" not in dev.features()
    dev.install(apk_file(tmp_path, "org.example.legacy", 2))
    assert dev.package_info("org.example.legacy").version_code == 2
    assert "fermbench-install" not in dev.shell(["ls", "/data/local/tmp"]).stdout  # cleaned up


def test_install_failures_carry_the_package_manager_code(device, tmp_path):
    bad = tmp_path / "broken.apk"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(InstallError) as e:
        device.install(bad)
    assert e.value.code == "INSTALL_PARSE_FAILED_NOT_APK" and device.serial in str(e.value)
    device.install(apk_file(tmp_path, "org.example.app", 3))
    with pytest.raises(InstallError) as e:
        device.install(apk_file(tmp_path, "org.example.app", 2))
    assert e.value.code == "INSTALL_FAILED_VERSION_DOWNGRADE"


def test_install_on_a_full_phone(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(disk_free_bytes=100))
    with pytest.raises(DiskFull) as e:
        make_device(phone).install(apk_file(tmp_path, "org.example.app"))
    assert phone.serial in str(e.value)


# -- am instrument ---------------------------------------------------------------------------


@pytest.fixture
def runner_installed(device, tmp_path):
    device.install(apk_file(tmp_path, RUNNER_PACKAGE, 1, "test"))
    return device


def test_instrument_without_the_runner(device):
    with pytest.raises(RunnerNotInstalled) as e:
        device.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=30)
    assert device.serial in str(e.value) and e.value.code == "not_installed"
    assert isinstance(e.value, DeviceError) and isinstance(e.value, RunnerError)
    assert "Unable to find instrumentation info" in e.value.output


def test_instrument_streams_the_runner_output(runner_installed):
    pieces: list[str] = []
    run = runner_installed.instrument(
        RUNNER_COMPONENT, {"mode": "info", "run_id": "a b"}, timeout=60, on_output=pieces.append
    )
    assert "".join(pieces) == run.text and len(pieces) >= 2
    assert run == parse_instrument_output(run.text)
    assert run.code == -1 and run.result == {"fermbench_status": "error"}  # run_id with a space is refused
    assert "run_id" in run.statuses[-1].values["fermbench_error_message"]  # ... so the value arrived whole
    ok = runner_installed.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=60)
    assert ok.result == {"fermbench_status": "ok"}


def test_runner_crash_is_a_clear_error(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(runner_crash=True))
    dev = make_device(phone)
    dev.install(apk_file(tmp_path, RUNNER_PACKAGE))
    with pytest.raises(InstrumentationCrashed) as e:
        dev.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=60)
    assert phone.serial in str(e.value) and "crashed" in str(e.value) and e.value.code == "crashed"
    assert parse_instrument_output(e.value.output).crashed
    assert dev.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=60, raise_on_crash=False).crashed


def test_runner_hang_times_out_and_frees_the_phone(make_sim_phone, make_device, tmp_path):
    phone = make_sim_phone(faults=Faults(runner_hang=True))
    dev = make_device(phone)
    dev.install(apk_file(tmp_path, RUNNER_PACKAGE))
    t0 = time.monotonic()
    with pytest.raises(InstrumentationTimeout) as e:
        dev.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=2)
    assert 1.9 <= time.monotonic() - t0 < 60  # the hang never ends: any bound far past 2 s shows the cut
    assert phone.serial in str(e.value) and e.value.code == "timeout"
    assert "INSTRUMENTATION_STATUS_CODE" in e.value.output  # what came before the hang is kept
    deadline = time.monotonic() + 10  # the stream closed: the runner process ends
    while RUNNER_PACKAGE in phone.state.processes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert RUNNER_PACKAGE not in phone.state.processes
    assert dev.shell("echo ok").stdout == "ok\n"


def test_instrument_on_a_phone_without_am(device, monkeypatch):
    import fermbench.sim.cmds as sim_cmds

    monkeypatch.delitem(sim_cmds.COMMANDS, "am")
    with pytest.raises(DeviceCommandError) as e:
        device.instrument(RUNNER_COMPONENT, {"mode": "info"}, timeout=10)
    assert e.value.exit_code == 127
