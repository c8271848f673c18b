"""Parsing what phones print (no adb needed): device lists, getprop, df, dumpsys, sysfs, and the
translation of adb failures into typed errors."""

from __future__ import annotations

import pytest
from adbutils.errors import AdbError, AdbTimeout

from fermbench.device import (
    DeviceDisconnected,
    DeviceNoPermission,
    DeviceNotFound,
    DeviceOffline,
    DeviceTimeout,
    DeviceUnauthorized,
    join_args,
)
from fermbench.device.adb import parse_devices_l, translate
from fermbench.device.facts import (
    build_facts,
    parse_battery,
    parse_cpu_count,
    parse_df_available,
    parse_getprop,
    parse_governors,
    parse_screen,
)


def test_devices_l_with_every_state():
    text = (
        "emulator-5554          device product:sdk_gphone64_x86_64 model:sdk_gphone64_x86_64 device:emu64x "
        "transport_id:1\n"
        "0123456789ABCDEF       unauthorized usb:1-1 transport_id:2\n"
        "R58M123456             no permissions (missing udev rules? user is in the plugdev group); see "
        "[http://developer.android.com/tools/device.html] usb:1-2 transport_id:3\n"
        "192.168.1.9:5555       offline transport_id:4\n"
    )
    entries = parse_devices_l(text)
    assert [(e.serial, e.state) for e in entries] == [
        ("emulator-5554", "device"),
        ("0123456789ABCDEF", "unauthorized"),
        ("R58M123456", "no permissions"),
        ("192.168.1.9:5555", "offline"),
    ]
    assert entries[0].model == "sdk_gphone64_x86_64" and entries[0].fix is None
    assert entries[2].info["usb"] == "1-2" and "udev" in entries[2].fix
    assert "reconnect" in entries[3].fix
    assert parse_devices_l("abc\tdevice\n")[0].state == "device"  # plain `host:devices` form


def test_getprop_parsing_keeps_multiline_values():
    props = parse_getprop("[a.b]: [1]\n[multi]: [line one\nline two]\n[empty]: []\n")
    assert props == {"a.b": "1", "multi": "line one\nline two", "empty": ""}


def test_df_available_including_a_wrapped_line():
    plain = "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/block/dm-46 1000 400 600 40% /data\n"
    assert parse_df_available(plain) == 600 * 1024
    wrapped = (
        "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/block/bootdevice/by-name/userdata\n"
        "   1000 400 512 40% /data\n"
    )
    assert parse_df_available(wrapped) == 512 * 1024
    assert parse_df_available("df: /x: No such file or directory\n") is None


def test_battery_screen_and_cpus():
    assert parse_battery("  AC powered: true\n  status: 2\n  level: 55\n  temperature: 312\n") == (55, 31.2, True)
    assert parse_battery("") == (None, None, None)
    assert parse_screen("  mWakefulness=Dozing\n") is False
    assert parse_screen("Display Power: state=ON\n") is True
    assert parse_screen("") is None
    assert parse_cpu_count("0-3,4-7\n") == 8 and parse_cpu_count("0\n") == 1 and parse_cpu_count("") is None
    text = (
        "/sys/devices/system/cpu/cpu10/cpufreq/scaling_governor:schedutil\n"
        "/sys/devices/system/cpu/cpu2/cpufreq/scaling_governor:performance\n"
    )
    assert parse_governors(text) == {2: "performance", 10: "schedutil"}


def test_facts_from_a_sparse_old_phone():
    probe = (
        "=== fermbench:getprop ===\n[ro.product.model]: [Nexus 5]\n[ro.product.cpu.abi]: [armeabi-v7a]\n"
        "[ro.build.version.sdk]: [23]\n[ro.hardware]: [hammerhead]\n[ro.board.platform]: [msm8974]\n"
        "=== fermbench:thermal ===\n=== fermbench:governors ===\n"
    )
    f = build_facts("SER", probe)
    assert (f.model, f.abis, f.sdk, f.soc) == ("Nexus 5", ("armeabi-v7a",), 23, "msm8974")
    assert f.thermal_status is None and f.cpu_governors == {} and f.free_tmp_bytes is None
    assert not f.is_emulator and not f.is_simulated


@pytest.mark.parametrize(
    "exc, cls",
    [
        (AdbError("device '1.2.3.4:5' not found"), DeviceNotFound),
        (AdbError("device offline"), DeviceOffline),
        (AdbError("device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set"), DeviceUnauthorized),
        (AdbError("device still authorizing"), DeviceUnauthorized),
        (AdbError("insufficient permissions for device"), DeviceNoPermission),
        (AdbTimeout("adb read timeout"), DeviceTimeout),
        (TimeoutError(), DeviceTimeout),
    ],
)
def test_translate_names_the_device(exc, cls):
    err = translate(exc, "SER1", "getprop", started=False)
    assert type(err) is cls and str(err).startswith("device SER1: ") and err.serial == "SER1"


def test_a_broken_link_is_disconnected_only_once_started():
    assert type(translate(EOFError(), "S", "x", started=True)) is DeviceDisconnected
    before = translate(ConnectionResetError(), "S", "x", started=False)
    assert type(before) is DeviceOffline and not before.started


def test_join_args_quotes_everything_that_needs_it():
    assert join_args(["ls", "-l", "a b", "x;y", "it's", "$HOME"]) == "ls -l 'a b' 'x;y' 'it'\"'\"'s' '$HOME'"
