"""Packages and instrumentation in the simulated phone's shell (no adb): pm, cmd package,
am instrument with the host runner, and the runner crash / hang faults."""

from __future__ import annotations

import io
import threading
import time

import pytest

from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.runner.protocol import RUNNER_COMPONENT, RUNNER_PACKAGE, results_base_dir
from fermbench.sim.apk import ApkError, make_apk_bytes, read_apk_info
from fermbench.sim.cmds import COMMANDS
from fermbench.sim.shell import Shell
from fermbench.sim.state import Faults, PhoneState

INFO = f"am instrument -w -r -e mode info {RUNNER_COMPONENT}"


class Phone:
    def __init__(self, root, faults=None):
        self.state = PhoneState(root, faults=faults)

    def sh(self, cmd, stdin=b"", cancel=None, chunks=None):
        out, err = [], []
        rc = Shell(self.state, COMMANDS).run(
            cmd,
            io.BytesIO(stdin),
            (chunks if chunks is not None else out).append,
            err.append,
            cancel or threading.Event(),
        )
        if chunks is not None:
            out = chunks
        return rc, b"".join(out).decode(), b"".join(err).decode()

    def push(self, device_path, data):
        host = self.state.host_path(device_path)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(data)


@pytest.fixture
def phone(tmp_path):
    return Phone(tmp_path / "root")


def test_apk_marker_round_trip_and_rejects():
    info = read_apk_info(make_apk_bytes("org.example.app", 12, "1.2"))
    assert (info.package, info.version_code, info.version_name) == ("org.example.app", 12, "1.2")
    with pytest.raises(ApkError) as e:
        read_apk_info(b"not a zip")
    assert e.value.code == "INSTALL_PARSE_FAILED_NOT_APK"


def test_pm_install_from_a_pushed_file_then_list_path_dump_uninstall(phone):
    phone.push("/data/local/tmp/app.apk", make_apk_bytes("org.example.app", 7, "0.7"))
    rc, out, _ = phone.sh("pm install -r -t /data/local/tmp/app.apk")
    assert (rc, out) == (0, "Success\n")
    assert phone.sh("pm list packages -3")[1] == "package:org.example.app\n"
    rc, out, _ = phone.sh("pm list packages -f --show-versioncode example")
    apk = phone.state.package("org.example.app").apk_path
    assert out == f"package:{apk}=org.example.app versionCode:7\n"
    assert phone.state.host_path(apk).read_bytes()[:2] == b"PK"
    assert phone.sh("pm path org.example.app")[1] == f"package:{apk}\n"
    dump = phone.sh("dumpsys package org.example.app")[1]
    assert "versionCode=7 " in dump and "versionName=0.7\n" in dump
    assert phone.sh("pm uninstall org.example.app") == (0, "Success\n", "")
    assert phone.sh("pm path org.example.app")[0] == 1
    assert phone.sh("pm uninstall org.example.app")[1] == "Failure [DELETE_FAILED_INTERNAL_ERROR]\n"
    assert not phone.state.host_path(apk).exists()


def test_pm_install_falls_back_to_the_file_name_without_a_marker(phone):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00binary xml")
    phone.push("/data/local/tmp/com.vendor.tool.apk", buf.getvalue())
    assert phone.sh("pm install /data/local/tmp/com.vendor.tool.apk")[0] == 0
    assert phone.state.package("com.vendor.tool") is not None


def test_cmd_package_install_reads_exactly_S_bytes_from_stdin(phone):
    apk = make_apk_bytes("org.example.streamed", 3)
    rc, out, _ = phone.sh(f"cmd package install -S {len(apk)}", stdin=apk + b"trailing bytes")
    assert (rc, out) == (0, "Success\n")
    assert phone.state.package("org.example.streamed").installed_size == len(apk)
    assert phone.sh("cmd package list packages streamed")[1] == "package:org.example.streamed\n"
    rc, out, _ = phone.sh(f"cmd package install -S {len(apk) + 10}", stdin=apk)
    assert rc == 1 and out.startswith("Failure [INSTALL_FAILED_INVALID_APK")


@pytest.mark.parametrize(
    "data, code",
    [
        (b"garbage that is no zip", "INSTALL_PARSE_FAILED_NOT_APK"),
        (make_apk_bytes("bad name"), "INSTALL_PARSE_FAILED_BAD_PACKAGE_NAME"),
    ],
)
def test_bad_apks_fail_with_package_manager_codes(phone, data, code):
    rc, out, _ = phone.sh(f"cmd package install -S {len(data)}", stdin=data)
    assert rc == 1 and out.startswith(f"Failure [{code}")
    assert phone.sh("pm list packages -3")[1] == ""


def test_downgrade_and_insufficient_storage(tmp_path):
    phone = Phone(tmp_path / "r")
    phone.push("/data/local/tmp/v2.apk", make_apk_bytes("org.example.app", 2))
    phone.push("/data/local/tmp/v1.apk", make_apk_bytes("org.example.app", 1))
    assert phone.sh("pm install /data/local/tmp/v2.apk")[0] == 0
    rc, out, _ = phone.sh("pm install /data/local/tmp/v1.apk")
    assert rc == 1 and "INSTALL_FAILED_VERSION_DOWNGRADE" in out
    assert phone.sh("pm install -d /data/local/tmp/v1.apk")[0] == 0
    phone.state.faults.disk_free_bytes = 100
    rc, out, _ = phone.sh("pm install /data/local/tmp/v2.apk")
    assert (rc, out) == (1, "Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE]\n")
    assert phone.state.package("org.example.app").version_code == 1


def test_system_packages_cannot_be_removed(phone):
    rc, out, _ = phone.sh("pm uninstall com.android.shell")
    assert rc == 1 and "DELETE_FAILED" in out
    assert phone.state.package("com.android.shell") is not None


def test_unknown_pm_options_and_services_are_refused(phone):
    assert phone.sh("pm install --bogus /x")[0] == 255
    assert phone.sh("cmd nosuchservice")[0] == 20


# -- am instrument ---------------------------------------------------------------------------


def install_runner(phone):
    apk = make_apk_bytes(RUNNER_PACKAGE, 1, "test")
    assert phone.sh(f"cmd package install -S {len(apk)}", stdin=apk)[0] == 0


def test_instrument_without_the_runner_fails_like_am(phone):
    rc, out, err = phone.sh(INFO)
    assert rc == 255
    assert f"Error=Unable to find instrumentation info for: ComponentInfo{{{RUNNER_COMPONENT}}}" in out
    assert f"INSTRUMENTATION_FAILED: {RUNNER_COMPONENT}" in err
    assert parse_instrument_output(out + err).not_installed


def test_instrument_runs_the_host_runner_and_streams_its_output(phone):
    install_runner(phone)
    chunks: list[bytes] = []
    rc, out, err = phone.sh(INFO, chunks=chunks)
    assert rc == 0, err
    assert len(chunks) >= 2  # written as the runner emits, not all at the end
    run = parse_instrument_output(out)
    assert run.code == -1 and not run.crashed
    assert run.result == {"fermbench_status": "ok"}
    assert '"model":"fermbench sim"' in run.statuses[-1].values["fermbench_result"]
    assert phone.state.host_path(results_base_dir("pytorch_lite", phone.state.identity.sdk)).is_dir()
    assert RUNNER_PACKAGE not in phone.state.processes  # the process ended with the run


def test_instrument_needs_w_and_r(phone):
    install_runner(phone)
    rc, _, err = phone.sh(f"am instrument -e mode info {RUNNER_COMPONENT}")
    assert rc == 255 and "-w -r" in err


def test_runner_crash_fault_ends_like_a_crashed_process(tmp_path):
    phone = Phone(tmp_path / "r", faults=Faults(runner_crash=True))
    install_runner(phone)
    rc, out, _ = phone.sh(INFO)
    assert out.endswith("INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: 0\n")
    run = parse_instrument_output(out)
    assert run.crashed and run.code == 0
    assert len(run.statuses) == 1  # the partial output before the crash is kept
    assert "FATAL EXCEPTION" in phone.sh("logcat -d -s AndroidRuntime")[1]


def test_runner_hang_fault_blocks_until_the_stream_closes(tmp_path):
    phone = Phone(tmp_path / "r", faults=Faults(runner_hang=True))
    install_runner(phone)
    cancel = threading.Event()
    result = {}
    t = threading.Thread(target=lambda: result.update(r=phone.sh(INFO, cancel=cancel)))
    t.start()
    t.join(1.5)
    assert t.is_alive()  # still "running"
    cancel.set()
    t.join(10)
    assert not t.is_alive()  # the hang never ends by itself: closing the stream ended it
    assert "INSTRUMENTATION_CODE" not in result["r"][1]
    assert RUNNER_PACKAGE not in phone.state.processes


def test_meminfo_sees_the_runner_while_it_runs(tmp_path):
    phone = Phone(tmp_path / "r", faults=Faults(runner_hang=True))
    install_runner(phone)
    cancel = threading.Event()
    t = threading.Thread(target=lambda: phone.sh(INFO, cancel=cancel))
    t.start()
    try:
        deadline = time.monotonic() + 10
        while RUNNER_PACKAGE not in phone.state.processes and time.monotonic() < deadline:
            time.sleep(0.02)
        out = phone.sh(f"dumpsys meminfo {RUNNER_PACKAGE}")[1]
        assert f"[{RUNNER_PACKAGE}]" in out and "TOTAL PSS:" in out
    finally:
        cancel.set()
        t.join(10)
