"""`fermbench runner install` and `status` against the simulated phone through the real adb server,
and `fermbench run --install` going through the same install code."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.runner import host
from fermbench.runner.protocol import PROTOCOL_VERSION, RUNNER_PACKAGES
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.state import Faults, SimIdentity

pytestmark = pytest.mark.adb
LITE, ET, LITERT = RUNNER_PACKAGES["pytorch_lite"], RUNNER_PACKAGES["executorch"], RUNNER_PACKAGES["litert"]


def apk_file(path: Path, package: str, libs: tuple[str, ...] = (), version_code: int = PROTOCOL_VERSION) -> Path:
    """An APK-shaped file the simulated phone installs, with native library entries where given."""
    buf = io.BytesIO(make_apk_bytes(package, version_code=version_code, version_name="0.1.0"))
    with zipfile.ZipFile(buf, "a") as z:
        for lib in libs:
            z.writestr(lib, b"\x7fELF")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def apks(tmp_path) -> dict[str, Path]:
    return {
        "lite": apk_file(tmp_path / "app-pytorchLite-release.apk", LITE, ("lib/x86_64/libpytorch_jni_lite.so",)),
        "et": apk_file(tmp_path / "app-executorch-release.apk", ET, ("lib/x86_64/libexecutorch.so",)),
        "litert": apk_file(tmp_path / "app-litert-release.apk", LITERT, ("lib/x86_64/libtensorflowlite_jni.so",)),
    }


@pytest.fixture
def adb_env(adb_server, monkeypatch):
    """The private adb server, as ANDROID_ADB_SERVER_PORT names it to fermbench."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    return adb_server


def runner(*args: str):
    from fermbench.cli import main

    return CliRunner().invoke(main, ["runner", *args])


def packages(adb_server, phone) -> set[str]:
    """What the phone's package manager lists, asked with adb itself."""
    out = adb_server.adb("-s", phone.serial, "shell", "pm", "list", "packages").stdout
    return {line.removeprefix("package:").strip() for line in out.splitlines() if line.startswith("package:")}


@pytest.fixture
def old_protocol_runner(monkeypatch):
    """Runners on the simulated phone answer as a runner of protocol 1 would."""
    common = host._common

    def protocol_1(*args, **kw):
        return {**common(*args, **kw), "protocol_version": 1}

    monkeypatch.setattr(host, "_common", protocol_1)


def test_status_install_status(adb_env, make_sim_phone, apks):
    phone = make_sim_phone()
    before = runner("status", "--device", phone.serial)
    assert before.exit_code == 0, before.output
    assert before.output.count("installed  no") == 3
    assert (
        f"fermbench runner build --flavor pytorchLite` and install it with `fermbench runner install --device "
        f"{phone.serial}`" in before.output
    )

    result = runner(
        "install", "--device", phone.serial, *(a for k in ("lite", "et", "litert") for a in ("--apk", str(apks[k])))
    )
    assert result.exit_code == 0, result.output
    assert f"installed app-pytorchLite-release.apk on {phone.serial}: {LITE} " in result.output
    assert f"pytorch_lite {torch.__version__}, protocol {PROTOCOL_VERSION}" in result.output
    assert f"{ET} " in result.output and f"executorch 1.4.1, protocol {PROTOCOL_VERSION}" in result.output
    assert f"installed app-litert-release.apk on {phone.serial}: {LITERT} " in result.output
    assert {LITE, ET, LITERT} <= packages(adb_env, phone)

    after = runner("status", "--device", phone.serial)
    assert after.exit_code == 0, after.output
    lines = after.output.splitlines()
    assert f"{LITE} (pytorchLite flavor): ok" in lines and f"{ET} (executorch flavor): ok" in lines
    assert f"{LITERT} (litert flavor): ok" in lines
    assert after.output.count(f"installed  0.1.0 (versionCode {PROTOCOL_VERSION})") == 3
    assert re.search(
        rf"^  runtime    pytorch_lite {re.escape(torch.__version__)} \(bytecode \d+-\d+\)$", after.output, re.M
    ), after.output
    assert "  runtime    executorch 1.4.1 (.pte ET12)" in lines
    for text in (f"  protocol   {PROTOCOL_VERSION} (this fermbench: {PROTOCOL_VERSION})", "  page size  4 KB"):
        assert lines.count(text) == 3, after.output
    assert "  ABIs       " in after.output


def test_an_apk_that_is_not_a_runner_is_refused_before_installing(adb_env, sim_phone, tmp_path):
    other = apk_file(tmp_path / "camera.apk", "com.example.camera")
    one_line_error(
        runner("install", "--device", sim_phone.serial, "--apk", str(other)),
        "camera.apk is not a fermbench runner APK",
        "fermbench runner build",
    )
    assert "com.example.camera" not in packages(adb_env, sim_phone)
    (tmp_path / "notes.apk").write_text("not a zip")
    one_line_error(
        runner("install", "--device", sim_phone.serial, "--apk", str(tmp_path / "notes.apk")),
        "is not an APK (not a zip archive)",
    )


def test_an_app_with_runtime_libraries_but_no_runner_instrumentation(adb_env, sim_phone, tmp_path):
    app = apk_file(tmp_path / "app.apk", "com.example.vision", ("lib/arm64-v8a/libpytorch_jni_lite.so",))
    one_line_error(
        runner("install", "--device", sim_phone.serial, "--apk", str(app)),
        "installed, but it has no fermbench runner instrumentation",
        "it is not a runner APK",
    )


def test_a_runner_of_another_protocol(adb_env, sim_phone, apks, old_protocol_runner):
    one_line_error(
        runner("install", "--device", sim_phone.serial, "--apk", str(apks["et"])),
        f"the executorch runner ({ET}) speaks protocol 1, this fermbench {PROTOCOL_VERSION}",
        "fermbench runner build --flavor executorch",
    )
    status = runner("status", "--device", sim_phone.serial)
    assert status.exit_code == 0 and f"{ET} (executorch flavor): needs attention" in status.output
    assert "speaks protocol 1" in status.output


def test_run_install_uses_the_same_checks(adb_env, sim_phone, apks, old_protocol_runner):
    """`fermbench run --install`: a runner of another protocol refuses the device with install's message."""
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import preflight_target
    from fermbench.targets import AndroidTarget

    target = AndroidTarget.open(sim_phone.serial, adb_port=adb_env.port)
    settings = build_settings(apk=str(apks["lite"]), install=True)
    checked = preflight_target(target, settings, {}, {}, {"pytorch_lite"})
    install = [c for c in checked.preflight.checks if c.name == "install"]
    assert [c.level for c in install] == ["fail"]
    assert "the pytorchLite runner (org.fermbench.runner) speaks protocol 1" in install[0].message
    assert not checked.preflight.ok and LITE in packages(adb_env, sim_phone)


def test_run_install_with_a_good_runner_asks_info_once(adb_env, sim_phone, apks, monkeypatch):
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import preflight_target
    from fermbench.targets import AndroidTarget

    calls = []
    run = AndroidTarget.run
    monkeypatch.setattr(
        AndroidTarget,
        "run",
        lambda self, rt, extras, *a, **k: calls.append((rt, extras["mode"])) or run(self, rt, extras, *a, **k),
    )
    target = AndroidTarget.open(sim_phone.serial, adb_port=adb_env.port)
    settings = build_settings(apk=f"{apks['lite']},{apks['et']}", install=True)
    checked = preflight_target(target, settings, {}, {}, {"pytorch_lite", "executorch"})
    assert [c.message for c in checked.preflight.checks if c.name == "install"] == [
        "installed app-pytorchLite-release.apk (pytorchLite runner)",
        "installed app-executorch-release.apk (executorch runner)",
    ]
    assert set(checked.runners) == {"pytorch_lite", "executorch"}
    assert sorted(calls) == [("executorch", "info"), ("pytorch_lite", "info")]


def test_the_lite_runner_on_a_16k_page_phone_installs_with_a_warning(adb_env, make_sim_phone, apks):
    phone = make_sim_phone(SimIdentity(page_size=16384))
    result = runner("install", "--device", phone.serial, "--apk", str(apks["lite"]))
    assert result.exit_code == 0, result.output
    assert "warning: this device uses 16 KB memory pages" in result.stderr
    assert "use the executorch runtime" in result.stderr
    status = runner("status", "--device", phone.serial)
    assert f"{LITE} (pytorchLite flavor): needs attention" in status.output and "page size  16 KB" in status.output


@pytest.mark.parametrize(
    "identity, words",
    [
        (
            SimIdentity(abis=("armeabi-v7a",)),
            "the executorch runner has native libraries for arm64-v8a, x86_64 only, "
            "this device runs armeabi-v7a: use the pytorchLite flavor",
        ),
        # ExecuTorch's native libraries are built for API 26: an Android 7.1 phone (API 25) gets the Lite flavor.
        (
            SimIdentity(abis=("arm64-v8a",), sdk=25),
            "the executorch runner needs Android API 26+, this device has 25: use the pytorchLite flavor",
        ),
    ],
)
def test_status_says_which_flavor_fits_an_old_phone(adb_env, make_sim_phone, identity, words):
    phone = make_sim_phone(identity)
    status = runner("status", "--device", phone.serial)
    assert status.exit_code == 0, status.output
    assert f"  to do      {words}\n" in status.output, status.output
    assert "fermbench runner build --flavor pytorchLite" in status.output  # the one that fits: not installed


def test_install_defaults_to_the_apks_runner_build_left(adb_env, sim_phone, apks, tmp_path):
    project = tmp_path / "android-runner"
    empty = runner("install", "--device", sim_phone.serial, "--project", str(project))
    one_line_error(empty, "no runner APK built yet", "fermbench runner build")
    for flavor, key in (("pytorchLite", "lite"), ("executorch", "et")):
        folder = project / "app/build/outputs/apk" / flavor / "release"
        folder.mkdir(parents=True)
        apks[key].rename(folder / apks[key].name)
    result = runner("install", "--device", sim_phone.serial, "--project", str(project))
    assert result.exit_code == 0, result.output
    assert result.output.count("installed app-") == 2 and {LITE, ET} <= packages(adb_env, sim_phone)


@pytest.mark.parametrize(
    "serial, words",
    [
        ("sim", ("`sim` has no runner to manage", "pass an adb serial")),
        ("127.0.0.1:1", ("device 127.0.0.1:1", "adb connect 127.0.0.1:1")),
    ],
)
def test_devices_it_cannot_manage(adb_env, serial, words):
    one_line_error(runner("status", "--device", serial), *words)


def test_an_unauthorized_phone(adb_env, make_sim_phone, apks):
    phone = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    one_line_error(runner("install", "--device", phone.serial, "--apk", str(apks["et"])), "Allow USB debugging")
