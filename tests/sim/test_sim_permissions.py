"""The shell user's permission model, through the real adb binary: read-only system
partitions, an unlistable /data, writable /data/local/tmp and /sdcard, with the words and exit
codes toybox, mksh and adbd give."""

from __future__ import annotations

import pytest

from fermbench.sim.permissions import list_error, write_error

pytestmark = pytest.mark.adb


def sh(server, phone, cmdline: str):
    return server.adb("-s", phone.serial, "shell", cmdline, check=False)


@pytest.mark.parametrize(
    "path, write, listing",
    [
        ("/system/x", "EROFS", None),
        ("/vendor/lib/x", "EROFS", None),
        ("/x", "EROFS", None),
        ("/data", "EACCES", "EACCES"),
        ("/data/local", "EACCES", "EACCES"),
        ("/data/app", "EACCES", "EACCES"),
        ("/data/local/tmp", None, None),
        ("/data/local/tmp/a/../b", None, None),
        ("/data/local/tmp/../x", "EACCES", None),
        ("/sdcard/Android/media/p/r.json", None, None),
        ("/storage/emulated/0/x", None, None),
        ("/proc/x", "EACCES", None),
        ("/dev/null", None, None),
    ],
)
def test_rules_by_path(path, write, listing):
    import errno

    assert write_error(path) == (getattr(errno, write) if write else None)
    assert list_error(path) == (getattr(errno, listing) if listing else None)


@pytest.mark.parametrize(
    "cmdline, rc, stderr",
    [
        ("touch /system/x", 1, "touch: '/system/x': Read-only file system\n"),
        ("mkdir /vendor/x", 1, "mkdir: '/vendor/x': Read-only file system\n"),
        ("echo x > /system/x", 1, "/system/bin/sh: can't create /system/x: Read-only file system\n"),
        ("touch /data/x", 1, "touch: '/data/x': Permission denied\n"),
        ("echo x > /data/x", 1, "/system/bin/sh: can't create /data/x: Permission denied\n"),
        ("ls /data", 1, "ls: /data: Permission denied\n"),
        ("ls /data/local", 1, "ls: /data/local: Permission denied\n"),
        ("cp /proc/meminfo /system/m", 1, "cp: '/system/m': Read-only file system\n"),
        ("chmod 777 /system/bin", 1, "chmod: /system/bin: Read-only file system\n"),
        ("rm -r /vendor", 1, "rm: /vendor: Read-only file system\n"),
    ],
)
def test_refused_writes_and_listings(sim_phone, adb_server, cmdline, rc, stderr):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout, out.stderr) == (rc, "", stderr)


def test_writable_places_and_passing_through_data(sim_phone, adb_server):
    out = sh(
        adb_server,
        sim_phone,
        "echo a > /data/local/tmp/a && mkdir -p /sdcard/Android/media/p && "
        "cp /data/local/tmp/a /sdcard/Android/media/p/b && cat /sdcard/Android/media/p/b && "
        "ls /data/local/tmp && cd /data && cd local/tmp && pwd && echo /data/*",
    )
    assert (out.returncode, out.stdout) == (0, "a\na\n/data/local/tmp\n/data/*\n"), out.stderr
    assert not (sim_phone.state.root / "system" / "x").exists()


def test_adb_push_and_ls_as_on_a_phone(sim_phone, adb_server, tmp_path):
    f = tmp_path / "m.bin"
    f.write_bytes(b"model")
    ok = adb_server.adb("-s", sim_phone.serial, "push", str(f), "/data/local/tmp/m.bin", check=False)
    assert ok.returncode == 0, ok.stderr
    for target, reason in (("/system/m.bin", "Read-only file system"), ("/data/m.bin", "Permission denied")):
        out = adb_server.adb("-s", sim_phone.serial, "push", str(f), target, check=False)
        # adb 36 prints the sync error on stderr, Debian's adb 29 on stdout: either stream
        assert out.returncode == 1 and f"remote couldn't create file: {reason}" in out.stdout + out.stderr, out
        assert not sim_phone.state.host_path(target).exists()
    listing = adb_server.adb("-s", sim_phone.serial, "ls", "/data", check=False)
    assert listing.stdout == ""  # adbd cannot open the folder, and lists nothing
