"""`fermbench doctor` and the preflight checks: refusals and warnings, each with its fix, on this
computer (adb, its server, with --build the JDK, SDK and Gradle) and on the device."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.bench import preflight as pre
from fermbench.runner.protocol import PROTOCOL_VERSION, RUNNER_PACKAGE, RUNNER_PACKAGES
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.state import Faults, SimIdentity

ROOT = Path(__file__).resolve().parents[2]


def doctor(adb_server, *args):
    from fermbench.cli import main

    return CliRunner().invoke(
        main, ["doctor", *args], env={"ANDROID_ADB_SERVER_PORT": str(adb_server.port), "COLUMNS": "400"}
    )


def install_runner(adb_server, phone, tmp_path, package=RUNNER_PACKAGE):
    apk = tmp_path / f"{package}.apk"
    apk.write_bytes(make_apk_bytes(package, version_code=PROTOCOL_VERSION))
    adb_server.adb("-s", phone.serial, "install", str(apk))


def checks(pf: pre.Preflight, name: str) -> list[pre.Check]:
    return [c for c in pf.checks if c.name == name]


@pytest.mark.adb
def test_doctor_ready_phone(sim_phone, adb_server, tmp_path):
    install_runner(adb_server, sim_phone, tmp_path)
    result = doctor(adb_server, "--device", sim_phone.serial)
    assert result.exit_code == 0, result.output
    for line in (
        "doctor: this computer",
        "adb server",
        f"answers on port {adb_server.port} (protocol",
        f"doctor: {sim_phone.serial}",
        "state",
        f"protocol {PROTOCOL_VERSION}",
        "MB free",
        "battery 87%",
        "thermal status none",
        "simulated phone",
        "the pytorchLite runner fits: x86_64, arm64-v8a; API 34",
        "the executorch runner (org.fermbench.runner.executorch) is not installed",
    ):
        assert line in result.output
    assert re.search(r"│ adb +│ ok +│ adb \S+ \(protocol \d+\) at ", result.output), result.output


@pytest.mark.adb
def test_doctor_refuses_without_runner(sim_phone, adb_server):
    result = doctor(adb_server, "--device", sim_phone.serial)
    assert result.exit_code == 1
    assert "runner (org.fermbench.runner) is not installed" in result.output
    assert "`fermbench runner install --device SERIAL`, or --apk PATH --install" in result.output


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


@pytest.mark.adb
def test_doctor_explains_a_16k_page_phone_and_a_32_bit_one(make_sim_phone, adb_server, tmp_path, monkeypatch):
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import doctor as doctor_device

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    monkeypatch.setenv("FERMBENCH_MODELS", str(tmp_path / "no-models"))
    paged = make_sim_phone(SimIdentity(page_size=16384))
    install_runner(adb_server, paged, tmp_path, RUNNER_PACKAGES["executorch"])  # the Lite runner is not installed
    (pf,) = doctor_device(paged.serial, build_settings())
    assert pf.ok
    (page,) = checks(pf, "page size")
    assert page.level == pre.WARN and "16 KB memory pages" in page.message and "executorch" in page.fix

    install_runner(adb_server, paged, tmp_path, RUNNER_PACKAGES["pytorch_lite"])  # its runner answers: said once
    (pf,) = doctor_device(paged.serial, build_settings())
    said = [c for c in pf.checks if "16 KB memory pages" in c.message]
    assert [c.name for c in said] == ["page size"] and "install the runner" not in said[0].fix

    old = make_sim_phone(SimIdentity(abis=("armeabi-v7a",), sdk=22))
    (pf,) = doctor_device(old.serial, build_settings())
    abi = {c.message.split(" runner")[0]: c for c in checks(pf, "abi")}
    assert abi["the pytorchLite"].level == pre.OK
    assert abi["the executorch"].level == pre.WARN and abi["the executorch"].fix == "use the pytorchLite flavor"
    assert "this device runs armeabi-v7a" in abi["the executorch"].message


@pytest.mark.adb
def test_doctor_with_no_device_attached(adb_server):
    result = doctor(adb_server)
    assert result.exit_code == 1
    assert "no device attached" in result.output and "USB debugging" in result.output
    assert "fermbench doctor --device sim" in result.output


# --- this computer: adb and the build tools -------------------------------------------------------


def test_adb_binary_version_and_a_server_of_another_version(tmp_path):
    from fermbench.device.versions import AdbBinary, adb_binary

    fake = tmp_path / "adb"
    fake.write_text("#!/bin/sh\necho 'Android Debug Bridge version 1.0.39'\necho 'Version 29.0.6-debian'\n")
    fake.chmod(0o755)
    assert adb_binary(str(fake)) == AdbBinary(str(fake), "29.0.6-debian", 39)
    assert adb_binary(str(tmp_path / "missing")) is None
    pf = pre.Preflight("this computer")
    pre.check_adb_binary(pf, str(fake), adb_binary(str(fake)))
    pre.check_adb_server(pf, 5037, 41, adb_binary(str(fake)))
    pre.check_adb_binary(pf, None, None)
    adb_ok, server, missing = pf.checks
    assert adb_ok.level == pre.OK and "adb 29.0.6-debian (protocol 39)" in adb_ok.message
    assert server.level == pre.WARN and "protocol 41, the adb binary 39" in server.message
    assert "use one adb" in server.fix
    assert missing.level == pre.WARN and "FERMBENCH_ADB" in missing.fix


@pytest.mark.adb
def test_the_real_adb_and_its_server_agree(adb_server, monkeypatch):
    from fermbench.bench.start import check_adb

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    monkeypatch.setenv("FERMBENCH_ADB", adb_server.adb_path)
    from fermbench.device.farm import Farm

    pf = pre.Preflight("this computer")
    assert check_adb(pf, Farm.from_texts(()))
    assert [c.level for c in pf.checks] == [pre.OK, pre.OK], pf.checks


def test_no_adb_and_no_server(tmp_path, monkeypatch):
    from fermbench.bench.start import doctor_host
    from fermbench.device.adb_server import free_port

    port = free_port()  # nothing listens there
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    monkeypatch.setenv("FERMBENCH_ADB", str(tmp_path / "no-adb"))
    from fermbench.device.farm import Farm

    host, specs = doctor_host(None, build=False, project=ROOT / "android-runner", farm=Farm.from_texts(()))
    assert specs == []
    adb, server = host.checks
    assert (adb.name, adb.level) == ("adb", pre.WARN) and "platform-tools" in adb.fix
    assert (server.name, server.level) == ("adb server", pre.FAIL)
    assert f"adb server 127.0.0.1:{port} does not answer" in server.message
    assert server.fix == pre.ADB_FIX and not host.ok


def fake_program(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def build_project(tmp_path, monkeypatch) -> Path:
    """`doctor --build` looks at a copy of android-runner/ (no gradlew, no local.properties)."""
    import fermbench.apk.flavors as flavors

    copy = tmp_path / "android-runner"
    shutil.copytree(
        ROOT / "android-runner",
        copy,
        ignore=shutil.ignore_patterns(
            "build", ".gradle", "gradlew", "gradlew.bat", "gradle-wrapper.jar", "local.properties"
        ),
    )
    monkeypatch.setattr(flavors, "default_project", lambda: copy)
    return copy


def test_doctor_build_lists_every_missing_prerequisite(build_project, tmp_path, monkeypatch):
    from fermbench.bench.start import doctor_host
    from fermbench.device.farm import Farm

    jdk = tmp_path / "jdk11"
    fake_program(jdk / "bin" / "java", "#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake_program(jdk / "bin" / "javac", "#!/bin/sh\necho 'javac 11.0.2'\n")
    monkeypatch.setenv("JAVA_HOME", str(jdk))
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    host, specs = doctor_host("host", build=True, project=build_project, farm=Farm.from_texts(()))
    assert specs == ["host"]
    by_name = {c.name: c for c in host.checks}
    assert list(by_name) == ["jdk", "android sdk", "gradle"]  # `host` needs no adb
    assert by_name["jdk"].level == pre.FAIL and "Java 11.0.2, too old" in by_name["jdk"].message
    assert "install JDK 17" in by_name["jdk"].fix
    assert by_name["android sdk"].level == pre.FAIL and "no Android SDK" in by_name["android sdk"].message
    assert "ANDROID_HOME" in by_name["android sdk"].fix
    assert by_name["gradle"].level == pre.WARN and "needs the JDK first" in by_name["gradle"].message


def test_doctor_build_when_everything_is_there(build_project, tmp_path, monkeypatch):
    from fermbench.bench.start import doctor_host
    from fermbench.device.farm import Farm

    jdk = tmp_path / "jdk17"
    fake_program(jdk / "bin" / "java", "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n")
    fake_program(jdk / "bin" / "javac", "#!/bin/sh\necho 'javac 17.0.15'\n")
    (tmp_path / "sdk" / "platforms" / "android-35").mkdir(parents=True)
    (tmp_path / "sdk" / "platforms" / "android-35" / "android.jar").write_bytes(b"PK")
    gradle = fake_program(tmp_path / "bin" / "gradle", "#!/bin/sh\necho 'Gradle 8.10.2'\n")
    monkeypatch.setenv("JAVA_HOME", str(jdk))
    monkeypatch.setenv("ANDROID_HOME", str(tmp_path / "sdk"))
    monkeypatch.setenv("PATH", str(gradle.parent))
    host, _ = doctor_host("host", build=True, project=build_project, farm=Farm.from_texts(()))
    assert [(c.name, c.level) for c in host.checks] == [("jdk", "ok"), ("android sdk", "ok"), ("gradle", "ok")]
    assert f"its wrapper generated by {gradle} on the first build" in host.checks[2].message


@pytest.mark.adb
def test_doctor_build_through_the_cli(adb_server, build_project, monkeypatch):
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    result = doctor(adb_server, "--build")
    assert result.exit_code == 1, result.output
    assert "android sdk" in result.output and "no Android SDK" in result.output
    assert "no device attached" in result.output  # only a warning with --build; the SDK refuses


def test_bytecode_pte_and_abi_checks():
    from fermbench.store import RunnerInfo, Variant

    pf = pre.Preflight("x")
    lite = RunnerInfo(bytecode_min=4, bytecode_max=7)
    why = pre.check_model_file(pf, lite, Variant("a", "pytorch_android_lite-2.1.0", "fp32"), {"bytecode_version": 8})
    assert why and "export it with --bytecode 7" in why
    assert (
        pre.check_model_file(pf, lite, Variant("b", "pytorch_android_lite-2.1.0", "fp32"), {"bytecode_version": 6})
        is None
    )
    et = RunnerInfo(pte_identifiers=["ET12"])
    assert "ET12" in pre.check_model_file(pf, et, Variant("c", "executorch-1.4.1", "fp32"), {"pte_format": "ET11"})
    pre.check_abi(pf, ["arm64-v8a"], ["x86_64"])
    assert "abiFilters" in str(pf.failed[-1])
    pre.check_space(pf, free=10 << 20, needed=1 << 20)
    assert pf.failed[-1].name == "space"
    assert not pf.ok and "bytecode" in pf.refusal() and "pte format" in pf.refusal() and "space" in pf.refusal()
