"""Everyday programs through the real adb binary, each in its real output format: ps, pidof,
kill, uname, cut, sed, sort, find, xargs, printf, settings, am get-current-user, /proc/cpuinfo
and /proc/meminfo, screencap, log, date with %N formats, and `adb install-multiple` through
pm install-create/write/commit."""

from __future__ import annotations

import re
import struct
import subprocess
import time
import zlib

import pytest

from fermbench.sim.apk import make_apk_bytes

pytestmark = pytest.mark.adb


def sh(server, phone, cmdline: str):
    return server.adb("-s", phone.serial, "shell", cmdline, check=False)


PS_HEADER = "USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME"

CASES = [
    ("echo a:b:c | cut -d: -f2,3; echo hello | cut -c2-4; printf 'x\\ty\\n' | cut -f2", 0, "b:c\nell\ny\n"),
    (
        "echo hello world | sed 's/o/0/g'; echo abc | sed 's/\\(b\\)/[\\1]/'; printf '1\\n2\\n3\\n' | sed -n 2p; "
        "printf '1\\n2\\n3\\n' | sed '1d;3d'; echo xy | sed -E 's/(x)(y)/\\2\\1/'",
        0,
        "hell0 w0rld\na[b]c\n2\n2\nyx\n",
    ),
    (
        "printf '3\\n1\\n20\\n10\\n' | sort -n; printf 'b\\na\\nb\\n' | sort -u; printf 'x 2\\ny 1\\n' | sort -k 2",
        0,
        "1\n3\n10\n20\na\nb\ny 1\nx 2\n",
    ),
    ("printf '%s=%03d %x %5.1f|%-3s|\\n' a 7 255 2.25 z", 0, "a=007 ff   2.2|z  |\n"),
    (
        "mkdir -p /data/local/tmp/t/sub && touch /data/local/tmp/t/a.txt /data/local/tmp/t/sub/b.txt "
        "/data/local/tmp/t/c.bin && find /data/local/tmp/t -name '*.txt' && find /data/local/tmp/t -type d "
        "&& find /data/local/tmp/t -maxdepth 1 -type f",
        0,
        "/data/local/tmp/t/a.txt\n/data/local/tmp/t/sub/b.txt\n/data/local/tmp/t\n/data/local/tmp/t/sub\n"
        "/data/local/tmp/t/a.txt\n/data/local/tmp/t/c.bin\n",
    ),
    (
        "mkdir -p /sdcard/x && touch /sdcard/x/1 /sdcard/x/2 && find /sdcard/x -type f | xargs rm && ls /sdcard/x; "
        "echo a b c | xargs -n 2 echo +; printf 'p\\0q r\\0' | xargs -0 -I{} echo '<{}>'",
        0,
        "+ a b\n+ c\n<p>\n<q r>\n",
    ),
    ("pidof system_server adbd; pidof nothing; echo $?", 0, "2481 1503\n1\n"),
    (
        "uname; uname -s -r -m; uname -o",
        0,
        "Linux\nLinux 5.10.198-android13-4-00050-g12f3388846c3-ab11920634 x86_64\nToybox\n",
    ),
    ("am get-current-user; cmd activity get-current-user", 0, "0\n0\n"),
    (
        "settings put global stay_on_while_plugged_in 7 && settings get global stay_on_while_plugged_in; "
        "settings get secure nothing_here",
        0,
        "7\nnull\n",
    ),
    (
        "grep -c ^processor /proc/cpuinfo; grep -c '^model name' /proc/cpuinfo; head -3 /proc/meminfo",
        0,
        "8\n8\nMemTotal:        7901820 kB\nMemFree:          812344 kB\nMemAvailable:    3934212 kB\n",
    ),
]


@pytest.mark.parametrize("cmdline, rc, stdout", CASES, ids=[c[0][:40] for c in CASES])
def test_programs(sim_phone, adb_server, cmdline, rc, stdout):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout) == (rc, stdout), out.stderr


@pytest.mark.parametrize(
    "cmdline, rc, stderr",
    [
        ("kill 1", 1, "kill: pid 1: Operation not permitted\n"),
        ("kill -9 77777", 1, "kill: pid 77777: No such process\n"),
        ("kill -FOO 1", 1, "kill: Unknown signal 'FOO'\n"),
        ("find /data -maxdepth 1", 1, "find: /data: Permission denied\n"),
        ("sed -i s/a/b/ /system/build.prop", 1, "sed: /system/build.prop: Read-only file system\n"),
        ("screencap -p /system/s.png", 1, "screencap: /system/s.png: Read-only file system\n"),
    ],
)
def test_program_refusals(sim_phone, adb_server, cmdline, rc, stderr):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stderr) == (rc, stderr)


def test_ps_formats(sim_phone, adb_server):
    own = sh(adb_server, sim_phone, "ps").stdout.splitlines()
    assert own[0] == PS_HEADER and [line.split()[-1] for line in own[1:]] == ["sh", "ps"]
    every = sh(adb_server, sim_phone, "ps -A").stdout.splitlines()
    names = [line.split()[-1] for line in every[1:]]
    assert {"init", "zygote64", "system_server", "adbd"} <= set(names)
    init = every[1]
    assert re.fullmatch(r"root +1 +0 +\d+ +\d+ \S+ +0 S init", init), init
    assert sh(adb_server, sim_phone, "ps -o PID,NAME -p 1").stdout == "  PID NAME\n    1 init\n"
    out = sh(adb_server, sim_phone, "kill $$; echo never")
    assert (out.returncode, out.stdout) == (143, "")  # SIGTERM ends the shell itself


def test_log_reaches_logcat(sim_phone, adb_server):
    assert sh(adb_server, sim_phone, "log -p w -t fermtest 'hello there'").returncode == 0
    out = sh(adb_server, sim_phone, "logcat -d -s fermtest").stdout
    assert re.search(r" W fermtest *: hello there$", out, re.M), out


def test_date_nanosecond_formats(sim_phone, adb_server):
    before = time.time()
    out = sh(adb_server, sim_phone, "date +%s.%N; date +%3N; date '+%m-%d %H:%M:%S.%3N'; date +%%N").stdout
    lines = out.splitlines()
    assert before - 1 <= float(lines[0]) <= time.time() + 1
    assert re.fullmatch(r"\d{3}", lines[1]) and re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", lines[2])
    assert lines[3] == "%N"


def test_screencap_png_and_raw(sim_phone, adb_server, tmp_path):
    assert sh(adb_server, sim_phone, "screencap -p /sdcard/s.png").returncode == 0
    adb_server.adb("-s", sim_phone.serial, "pull", "/sdcard/s.png", str(tmp_path / "s.png"))
    png = (tmp_path / "s.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1080, 2400)
    idat = png.index(b"IDAT")
    length = struct.unpack(">I", png[idat - 4 : idat])[0]
    assert len(zlib.decompress(png[idat + 4 : idat + 4 + length])) == height * (1 + 3 * width)
    raw = subprocess.run(
        [adb_server.adb_path, "-P", str(adb_server.port), "-s", sim_phone.serial, "exec-out", "screencap"],
        env=adb_server.env,
        capture_output=True,
        timeout=60,
    ).stdout
    assert struct.unpack("<3I", raw[:12]) == (1080, 2400, 1) and len(raw) == 16 + 1080 * 2400 * 4


def test_adb_install_multiple(sim_phone, adb_server, tmp_path):
    base, split = tmp_path / "base.apk", tmp_path / "split_config.arm64_v8a.apk"
    base.write_bytes(make_apk_bytes("org.example.multi", 3, "1.0"))
    split.write_bytes(make_apk_bytes("org.example.multi", 3, "1.0"))
    out = adb_server.adb("-s", sim_phone.serial, "install-multiple", str(base), str(split), check=False)
    assert (out.returncode, out.stdout.strip()) == (0, "Success"), out.stderr
    paths = sh(adb_server, sim_phone, "pm path org.example.multi").stdout.splitlines()
    assert [p.rsplit("/", 1)[1] for p in paths] == ["base.apk", "split_config.arm64_v8a.apk"]
    # the session verbs one by one, as adb sends them
    created = sh(adb_server, sim_phone, "pm install-create -S 5").stdout
    session = re.fullmatch(r"Success: created install session \[(\d+)\]\n", created).group(1)
    assert (
        sh(adb_server, sim_phone, f"echo -n abcd | pm install-write -S 4 {session} 0_x -").stdout
        == "Success: streamed 4 bytes\n"
    )
    commit = sh(adb_server, sim_phone, f"pm install-commit {session}")
    assert commit.returncode == 1 and commit.stdout.startswith("Failure [INSTALL_PARSE_FAILED_NOT_APK")
    gone = sh(adb_server, sim_phone, f"pm install-commit {session}")
    assert gone.returncode == 255 and f"Caller has no access to session {session}" in gone.stderr
