"""`fermbench doctor` and the preflight checks: refusals and warnings, each with its fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fermbench.bench import preflight as pre
from fermbench.runner.protocol import RUNNER_PACKAGE
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.state import Faults, SimIdentity


def doctor(adb_server, *args):
    from fermbench.cli import main

    return CliRunner().invoke(main, ["doctor", *args], env={"ANDROID_ADB_SERVER_PORT": str(adb_server.port),
                                                           "COLUMNS": "200"})


def install_runner(adb_server, phone, tmp_path):
    apk = tmp_path / "runner.apk"
    apk.write_bytes(make_apk_bytes(RUNNER_PACKAGE, version_code=1))
    adb_server.adb("-s", phone.serial, "install", str(apk))


@pytest.mark.adb
def test_doctor_ready_phone(sim_phone, adb_server, tmp_path):
    install_runner(adb_server, sim_phone, tmp_path)
    result = doctor(adb_server, "--device", sim_phone.serial)
    assert result.exit_code == 0, result.output
    for line in ("adb server", "answers on port", "state", "protocol 2", "MB free", "battery 87%",
                 "thermal status none", "simulated phone"):
        assert line in result.output


@pytest.mark.adb
def test_doctor_refuses_without_runner(sim_phone, adb_server):
    result = doctor(adb_server, "--device", sim_phone.serial)
    assert result.exit_code == 1
    assert "is not installed" in result.output and "org.fermbench.runner" in result.output
    assert "--apk PATH --install" in result.output


@pytest.mark.adb
def test_doctor_explains_unauthorized(make_sim_phone, adb_server):
    phone = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    result = doctor(adb_server, "--device", phone.serial)
    assert result.exit_code == 1
    assert "unauthorized" in result.output and "Allow USB debugging" in result.output


@pytest.mark.adb
def test_doctor_warns_hot_low_emulator_debuggable(make_sim_phone, adb_server, tmp_path):
    phone = make_sim_phone(SimIdentity(is_emulator=True, debuggable=True))
    install_runner(adb_server, phone, tmp_path)
    phone.state.thermal_status = 3
    phone.state.battery.level, phone.state.battery.temperature = 9, 445
    result = doctor(adb_server, "--device", phone.serial)
    assert result.exit_code == 0, result.output  # warnings do not refuse
    for text in ("battery at 9%", "battery at 44.5 C", "thermal status severe", "emulator", "debuggable build"):
        assert text in result.output


def test_bytecode_and_abi_checks():
    from fermbench.store import RunnerInfo, Variant

    pf = pre.Preflight("x")
    runner = RunnerInfo(runner_kind="android", runtime="pytorch_lite", runtime_version="1.11.0", bytecode_min=4,
                        bytecode_max=7, abis=["arm64-v8a"])
    a, b = Variant("a", "pytorch_android_lite-2.1.0", "fp32"), Variant("b", "pytorch_android_lite-2.1.0", "fp32")
    bad = pre.check_model_file(pf, runner, a, {"bytecode_version": 8})
    assert "export it with --bytecode 7" in bad
    assert pre.check_model_file(pf, runner, b, {"bytecode_version": 6}) is None
    pte = RunnerInfo(runtime="executorch", pte_identifiers=["ET12"])
    et = Variant("a", "executorch-1.4.1", "int8")
    assert "format ET99" in pre.check_model_file(pf, pte, et, {"pte_format": "ET99"})
    assert pre.check_model_file(pf, pte, et, {"pte_format": "ET12"}) is None
    pre.check_abi(pf, ["arm64-v8a"], ["x86_64"])
    assert "abiFilters" in str(pf.failed[-1])
    pre.check_space(pf, free=10 << 20, needed=1 << 20)
    assert pf.failed[-1].name == "space"
    assert not pf.ok and "bytecode" in pf.refusal() and "space" in pf.refusal()
