"""The device layer through the real adb server against the simulated phone: listing, facts,
shell exit codes, quoting, timeouts, and the typed errors for devices that are not ready."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from fermbench.device import (
    AdbServerError,
    Device,
    DeviceCommandError,
    DeviceNotFound,
    DeviceTimeout,
    DeviceUnauthorized,
    list_devices,
)
from fermbench.device.adb_server import free_port
from fermbench.device.commands import devices_cmd
from fermbench.sim.state import Faults, SimIdentity

pytestmark = pytest.mark.adb


def test_list_devices_shows_ready_and_unauthorized_phones_with_fixes(adb_server, make_sim_phone):
    ok = make_sim_phone()
    locked = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    entries = {e.serial: e for e in list_devices(port=adb_server.port)}
    assert entries[ok.serial].state == "device" and entries[ok.serial].ready and entries[ok.serial].fix is None
    assert entries[ok.serial].model == "fermbench_sim"  # adb turns spaces into _
    assert entries[locked.serial].state == "unauthorized"
    assert "Allow USB debugging" in entries[locked.serial].fix

    result = CliRunner().invoke(devices_cmd, ["--adb-port", str(adb_server.port)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert ok.serial in result.output and locked.serial in result.output
    assert "unauthorized" in result.output and "Allow USB debugging" in result.output


def test_facts(device, sim_phone):
    f = device.facts()
    ident = sim_phone.state.identity
    assert (f.serial, f.model, f.manufacturer) == (sim_phone.serial, ident.model, ident.manufacturer)
    assert f.abis == ident.abis and f.sdk == 34 and f.release == "14"
    assert f.fingerprint == ident.fingerprint and f.soc == "fermbench host CPU" and f.hardware == "fermsim"
    assert f.is_simulated and not f.is_emulator and not f.debuggable
    assert f.free_tmp_bytes == pytest.approx(sim_phone.state.free_bytes(), rel=0.01)
    assert (f.battery_level, f.battery_temp_c, f.thermal_status, f.screen_on) == (87, 29.1, 0, True)
    assert f.cpu_cores == 8 and f.cpu_governors == dict.fromkeys(range(8), "schedutil")
    assert f.to_dict()["abis"] == list(ident.abis)


def test_facts_follow_identity_and_state(make_sim_phone, make_device):
    phone = make_sim_phone(
        SimIdentity(model="Emu", abis=("x86_64",), sdk=30, release="11", is_emulator=True, debuggable=True, cpu_cores=4)
    )
    phone.state.battery.level = 12
    phone.state.thermal_status = 3
    phone.state.screen_on = False
    f = make_device(phone).facts()
    assert (f.model, f.abis, f.sdk, f.release, f.cpu_cores) == ("Emu", ("x86_64",), 30, "11", 4)
    assert f.is_emulator and f.debuggable and f.hardware == "ranchu"
    assert (f.battery_level, f.thermal_status, f.thermal_status_name, f.screen_on) == (12, 3, "severe", False)
    text = " | ".join(f.warnings())
    for needle in ("debuggable", "battery at 12%", "thermal status severe", "screen off"):
        assert needle in text


def test_exit_codes_and_streams_propagate(device, sim_phone):
    r = device.shell("echo out; echo err >&2; exit 3", check=False)
    assert (r.exit_code, r.stdout, r.stderr) == (3, "out\n", "err\n")
    assert device.shell(["getprop", "ro.build.version.sdk"]).stdout == "34\n"
    with pytest.raises(DeviceCommandError) as e:
        device.shell(["ls", "/data/nothing-here"])
    err = e.value
    assert (err.serial, err.exit_code, err.command) == (sim_phone.serial, 1, "ls /data/nothing-here")
    assert "No such file" in err.stderr
    assert str(err).startswith(f"device {sim_phone.serial}: `ls /data/nothing-here` exited 1")
    with pytest.raises(DeviceCommandError) as e:
        device.shell(["no-such-tool"])
    assert e.value.exit_code == 127 and "inaccessible or not found" in str(e.value)


@pytest.mark.parametrize(
    "name",
    [
        "a b.ptl",
        "x; touch pwned",
        "$(touch pwned)",
        "q'uote\"s.ptl",
        "`touch pwned`",
        "a && touch pwned",
        "a | touch pwned",
        "> pwned",
        "*",
        "-n",
        "$HOME",
    ],
)
def test_list_arguments_cannot_inject(device, sim_phone, name):
    path = f"/data/local/tmp/q/{name}"
    device.shell(["mkdir", "-p", "/data/local/tmp/q"])
    device.shell(["touch", path])
    assert device.shell(["ls", "/data/local/tmp/q"]).stdout == name + "\n"
    assert (sim_phone.state.host_path("/data/local/tmp/q") / name).exists()
    assert not sim_phone.state.host_path("/pwned").exists()
    assert device.shell(["echo", "=" + name]).stdout == "=" + name + "\n"


def test_timeout_stops_the_command_and_names_the_device(device, sim_phone):
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout) as e:
        device.shell("echo started; sleep 30", timeout=0.5)
    assert time.monotonic() - t0 < 30  # cut short, not waited out (how soon depends on the load)
    assert sim_phone.serial in str(e.value) and "0.5 s" in str(e.value)
    assert e.value.output == "started\n"
    assert device.shell("echo still usable").stdout == "still usable\n"


def test_unauthorized_phone_raises_with_the_fix(make_sim_phone, make_device):
    phone = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    dev = make_device(phone)
    with pytest.raises(DeviceUnauthorized) as e:
        dev.facts()
    assert phone.serial in str(e.value) and "Allow USB debugging" in str(e.value)
    with pytest.raises(DeviceUnauthorized):
        dev.require_ready()


def test_phone_that_becomes_unauthorized(sim_phone, device):
    assert device.shell("true").ok
    sim_phone.set_faults(unauthorized=True)  # adb sees it offline, reconnects, meets AUTH
    deadline = time.monotonic() + 15
    while True:
        try:
            device.shell("true")
        except DeviceUnauthorized as exc:
            assert sim_phone.serial in str(exc) and "Allow USB debugging" in str(exc)
            break
        assert time.monotonic() < deadline, "never became unauthorized"
        time.sleep(0.05)


def test_unknown_serial_and_missing_server(adb_server):
    with pytest.raises(DeviceNotFound) as e:
        Device("127.0.0.1:1", adb_port=adb_server.port).shell("true")
    assert "127.0.0.1:1" in str(e.value) and "adb connect 127.0.0.1:1" in str(e.value)
    port = free_port()
    with pytest.raises(AdbServerError) as e2:
        Device("127.0.0.1:1", adb_port=port).shell("true")
    assert f"adb -P {port} start-server" in str(e2.value)
    with pytest.raises(AdbServerError):
        list_devices(port=port)  # a private port: reported, never started behind our back


def test_commands_retry_after_a_brief_drop(sim_phone, device):
    sim_phone.drop_connections()  # the phone blips offline; adb reconnects within a second
    assert device.shell(["echo", "back"]).stdout == "back\n"  # never reached the phone: retried
    assert device.facts().model == sim_phone.state.identity.model


def test_phones_without_shell_v2_still_give_exit_codes(device):
    device._features = frozenset({"cmd"})  # as an Android 6 phone answers: no shell_v2
    r = device.shell("echo out; echo err >&2; exit 4", check=False)
    assert r.exit_code == 4 and "out\n" in r.stdout and "err\n" in r.stdout  # stderr merged, as on such phones
    assert device.shell(["echo", "a b"]).stdout == "a b\n"
    with pytest.raises(DeviceTimeout):
        device.shell("sleep 30", timeout=0.5)
