"""The simulated phone through the real adb server: listing, shell, exec, sync, services.

Every test here runs once per adb binary found (the adbutils wheel's 36.x and, where installed,
the system's, e.g. Debian's 29.0.6), since fermbench must work with both.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import threading
import time

import adbutils
import pytest

from fermbench.device.adb_server import adb_binaries
from fermbench.errors import ConfigError
from fermbench.sim.phone import ADB_SCANNED_PORTS, SimPhone
from fermbench.sim.state import Faults, SimIdentity
from fermbench.sim.transport import banner

pytestmark = pytest.mark.adb

ADBS = adb_binaries()


@pytest.fixture(params=sorted(ADBS) or ["none"])
def adb_path(request) -> str:
    """Overrides conftest's adb_path: one run per adb binary."""
    if request.param not in ADBS:
        pytest.skip("no adb binary: install adbutils (it ships adb) or set FERMBENCH_ADB")
    return ADBS[request.param]


def adb_shell(server, serial, *args, check=False):
    return server.adb("-s", serial, "shell", *args, check=check)


def client_device(server, serial) -> adbutils.AdbDevice:
    return adbutils.AdbClient(host="127.0.0.1", port=server.port).device(serial)


def open_sync(server, serial):
    """A raw `sync:` stream through the adb server, to write sync bytes exactly as we choose."""
    c = client_device(server, serial).open_transport(timeout=10)
    c.send_command("sync:")
    c.check_okay()
    return c


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# -- the phone itself (no adb needed) ----------------------------------------------------------


def test_banner_carries_identity_and_features():
    text = banner(SimIdentity(model="Fx:1", product="p", device="d"), Faults()).decode()
    assert text.startswith("device::")
    props = dict(kv.split("=", 1) for kv in text[len("device::") :].split(";"))
    assert props["ro.product.model"] == "Fx_1"  # ':' separates banner fields, so never in a value
    assert props["features"].split(",") == ["shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir"]
    no_cmd = banner(SimIdentity(), Faults(advertise_cmd=False)).decode()
    assert "cmd" not in no_cmd.split("features=")[1].split(",")


def test_phone_ports_stay_out_of_adbs_scan_range():
    with pytest.raises(ConfigError, match="5554-5585"):
        SimPhone(port=5555)
    phones = [SimPhone().start() for _ in range(3)]
    try:
        ports = {p.port for p in phones}
        assert len(ports) == 3
        assert not ports & set(ADB_SCANNED_PORTS)
        assert all(p.serial == f"127.0.0.1:{p.port}" for p in phones)
    finally:
        for p in phones:
            p.stop()


# -- through adb ---------------------------------------------------------------------------------


def test_adb_devices_lists_phone_with_banner_model(make_sim_phone, adb_server):
    phone = make_sim_phone(SimIdentity(model="FermSim_X1", product="fermx1", device="fx1"))
    lines = {d.serial: d for d in adb_server.devices()}
    line = lines[phone.serial]
    assert line.state == "device"
    assert (line.info["model"], line.info["product"], line.info["device"]) == ("FermSim_X1", "fermx1", "fx1")


def test_shell_v2_exit_codes_and_separate_stderr(sim_phone, adb_server):
    out = adb_shell(adb_server, sim_phone.serial, "echo out; echo err >&2; exit 3")
    assert out.returncode == 3
    assert out.stdout == "out\n"
    assert out.stderr == "err\n"
    missing = adb_shell(adb_server, sim_phone.serial, "no_such_tool --flag")
    assert missing.returncode == 127
    assert adb_shell(adb_server, sim_phone.serial, "true").returncode == 0


def test_shell_v2_through_adbutils(sim_phone, adb_server):
    d = client_device(adb_server, sim_phone.serial)
    r = d.shell2("echo a; echo b >&2; exit 7", v2=True)
    assert (r.returncode, r.stdout, r.stderr) == (7, "a\n", "b\n")


def test_legacy_shell_merges_output_without_exit_code(sim_phone, adb_server):
    # `adb shell -x` turns the shell protocol off: the legacy `shell:` service.
    out = adb_shell(adb_server, sim_phone.serial, "-x", "echo one; echo two >&2; exit 5")
    assert out.returncode == 0
    assert out.stdout.split() == ["one", "two"]
    # adbutils' shell() always uses `shell:`
    assert client_device(adb_server, sim_phone.serial).shell("echo three; exit 4") == "three"


def test_pty_shell_merges_output_with_terminal_line_ends(sim_phone, adb_server):
    out = adb_shell(adb_server, sim_phone.serial, "-t", "-t", "echo a; echo b >&2; exit 2")
    assert (out.returncode, out.stdout, out.stderr) == (2, "a\r\nb\r\n", "")


def test_shell_stdin_reaches_the_command(sim_phone, adb_server):
    out = adb_server.adb("-s", sim_phone.serial, "shell", "cat > /data/local/tmp/in.txt", input=b"from stdin\n")
    assert out.returncode == 0
    assert sim_phone.state.host_path("/data/local/tmp/in.txt").read_bytes() == b"from stdin\n"


def test_exec_out_is_binary_exact(sim_phone, adb_server):
    blob = bytes(range(256)) * 300 + b"\r\n\n\r"
    sim_phone.state.host_path("/data/local/tmp/blob.bin").write_bytes(blob)
    out = adb_server.adb("-s", sim_phone.serial, "exec-out", "cat /data/local/tmp/blob.bin", check=True)
    # CompletedProcess text is decoded; compare through the same decoding
    assert out.stdout == blob.decode("utf-8", "replace")


def test_unknown_service_is_refused_and_phone_stays_up(sim_phone, adb_server):
    d = client_device(adb_server, sim_phone.serial)
    c = d.open_transport(timeout=10)
    c.send_command("framebuffer:")
    with pytest.raises(adbutils.AdbError):
        c.check_okay()
    c.close()
    assert adb_server.state_of(sim_phone.serial) == "device"
    assert adb_shell(adb_server, sim_phone.serial, "true").returncode == 0


@pytest.mark.slow
def test_push_pull_50mb_round_trip(sim_phone, adb_server, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(50 * 1024 * 1024))
    adb_server.adb("-s", sim_phone.serial, "push", str(src), "/data/local/tmp/sub/big.bin", check=True)
    on_phone = sim_phone.state.host_path("/data/local/tmp/sub/big.bin")  # fixed_push_mkdir made sub/
    assert sha256(on_phone) == sha256(src)
    back = tmp_path / "back.bin"
    adb_server.adb("-s", sim_phone.serial, "pull", "/data/local/tmp/sub/big.bin", str(back), check=True)
    assert sha256(back) == sha256(src)


def test_adbutils_push_pull_stat_list(sim_phone, adb_server, tmp_path):
    d = client_device(adb_server, sim_phone.serial)
    data = os.urandom(300_000)  # adbutils sends 4 KiB DATA chunks: many messages per WRTE
    d.sync.push(data, "/data/local/tmp/a.bin", mode=0o644)
    assert sim_phone.state.host_path("/data/local/tmp/a.bin").read_bytes() == data
    assert d.sync.read_bytes("/data/local/tmp/a.bin") == data
    st = d.sync.stat("/data/local/tmp/a.bin")
    assert st.size == len(data) and st.mode & 0o777 == 0o644
    assert d.sync.stat("/data/local/tmp/missing").mtime is None  # STAT of nothing: all zero
    names = [f.path for f in d.sync.list("/data/local/tmp")]
    assert "a.bin" in names
    # adb's own `ls` uses LIS2 (ls_v2)
    listing = adb_server.adb("-s", sim_phone.serial, "ls", "/data/local/tmp", check=True).stdout
    assert any(line.split()[-1] == "a.bin" for line in listing.splitlines())


def test_sync_messages_split_and_joined_across_packets(sim_phone, adb_server):
    """Two requests in one write, then a SEND whose DATA is cut mid-header and mid-payload."""
    sim_phone.state.host_path("/data/local/tmp/x").write_bytes(b"12345")
    c = open_sync(adb_server, sim_phone.serial)
    try:
        path = b"/data/local/tmp/x"
        c.conn.sendall(b"STAT" + struct.pack("<I", len(path)) + path + b"STA2" + struct.pack("<I", len(path)) + path)
        assert c.read_exact(16)[:4] == b"STAT"
        v2 = c.read_exact(72)
        assert v2[:4] == b"STA2" and struct.unpack_from("<I", v2, 4)[0] == 0
        assert struct.unpack_from("<Q", v2, 40)[0] == 5  # size
        spec = b"/data/local/tmp/y,33188"
        body = b"hello, split world"
        stream = b"SEND" + struct.pack("<I", len(spec)) + spec + b"DATA" + struct.pack("<I", len(body)) + body
        stream += b"DONE" + struct.pack("<I", 1_700_000_000)
        # pieces sent apart so adb forwards separate WRTEs: cut inside the SEND header, inside
        # the path, inside the DATA header and inside the payload
        pieces = [stream[:6], stream[6:30], stream[30:45], stream[45:]]
        for piece in pieces:
            c.conn.sendall(piece)
            time.sleep(0.05)
        assert c.read_exact(8) == b"OKAY" + b"\0" * 4
    finally:
        c.close()
    y = sim_phone.state.host_path("/data/local/tmp/y")
    assert y.read_bytes() == b"hello, split world"
    assert int(y.stat().st_mtime) == 1_700_000_000


@pytest.mark.parametrize("request_id, entry", [(b"LIST", 20), (b"LIS2", 76)])
def test_list_ends_with_full_size_done(sim_phone, adb_server, request_id, entry):
    for name in ("b", "a"):
        sim_phone.state.host_path(f"/data/local/tmp/{name}").write_bytes(b"x" * 3)
    c = open_sync(adb_server, sim_phone.serial)
    try:
        path = b"/data/local/tmp"
        c.conn.sendall(request_id + struct.pack("<I", len(path)) + path)
        names = []
        while True:
            head = c.read_exact(entry)
            if head[:4] == b"DONE":
                assert head[4:] == b"\0" * (entry - 4)
                break
            namelen = struct.unpack_from("<I", head, entry - 4)[0]
            names.append(c.read_exact(namelen).decode())
        assert names == ["a", "b"]
        # the stream stays in step after DONE: a following STAT parses
        c.conn.sendall(b"STAT" + struct.pack("<I", len(path)) + path)
        assert c.read_exact(16)[:4] == b"STAT"
    finally:
        c.close()


def test_missing_file_fails_cleanly(sim_phone, adb_server, tmp_path):
    out = adb_server.adb("-s", sim_phone.serial, "pull", "/data/local/tmp/nope", str(tmp_path / "n"), check=False)
    assert out.returncode != 0
    assert "No such file or directory" in out.stdout + out.stderr  # STA2 carried ENOENT
    with pytest.raises(adbutils.AdbError, match="No such file or directory"):  # RECV's FAIL
        client_device(adb_server, sim_phone.serial).sync.read_bytes("/data/local/tmp/nope")
    assert adb_server.state_of(sim_phone.serial) == "device"


def test_paths_cannot_escape_the_phone(sim_phone, adb_server, tmp_path):
    d = client_device(adb_server, sim_phone.serial)
    d.sync.push(b"inside", "/../../sdcard/x.txt")
    assert sim_phone.state.host_path("/sdcard/x.txt").read_bytes() == b"inside"
    assert not (sim_phone.state.root.parent / "sdcard").exists()


def test_two_phones_at_once(make_sim_phone, adb_server, tmp_path):
    a = make_sim_phone(SimIdentity(model="PhoneA"))
    b = make_sim_phone(SimIdentity(model="PhoneB"))
    models = {d.serial: d.info.get("model") for d in adb_server.devices()}
    assert models[a.serial] == "PhoneA" and models[b.serial] == "PhoneB"
    for phone, text in ((a, "to a"), (b, "to b")):
        src = tmp_path / f"{phone.port}.txt"
        src.write_text(text)
        adb_server.adb("-s", phone.serial, "push", str(src), "/data/local/tmp/who.txt", check=True)
    assert a.state.host_path("/data/local/tmp/who.txt").read_text() == "to a"
    assert b.state.host_path("/data/local/tmp/who.txt").read_text() == "to b"
    assert adb_shell(adb_server, b.serial, "getprop ro.product.model").stdout.strip() == "PhoneB"


# -- installs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("advertise_cmd", [True, False], ids=["cmd-streamed", "push-then-pm"])
def test_adb_install_of_apk_shaped_zip(make_sim_phone, adb_server, tmp_path, advertise_cmd):
    from fermbench.sim.apk import make_apk_bytes

    phone = make_sim_phone(faults=Faults(advertise_cmd=advertise_cmd))
    apk = tmp_path / "demo.apk"
    apk.write_bytes(make_apk_bytes("org.fermbench.demo", 3, "3.0", payload=os.urandom(300_000)))
    out = adb_server.adb("-s", phone.serial, "install", str(apk), check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success" in out.stdout
    listed = adb_shell(adb_server, phone.serial, "pm list packages").stdout.split()
    assert "package:org.fermbench.demo" in listed
    opened = phone.services_opened()
    if advertise_cmd:  # adb streams the APK into `cmd package install -S SIZE` over exec:
        assert any(s.startswith("exec:cmd package") and f"-S {apk.stat().st_size}" in s for s in opened)
    else:  # without `cmd`, adb pushes to /data/local/tmp and runs `pm install`
        assert "sync:" in opened
        assert any(s.startswith("shell") and "pm" in s and "install" in s for s in opened)
        assert not any(s.startswith("exec:cmd") for s in opened)


def _sim_threads(port: int) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"sim:{port}")]


def test_stop_ends_every_thread_even_mid_command(adb_server):
    phone = SimPhone().start()
    try:
        adb_server.connect(phone.serial)
        assert adb_shell(adb_server, phone.serial, "true").returncode == 0
        # a command blocked on stdin that never comes, while the phone is stopped under it
        blocked = subprocess.Popen(
            [adb_server.adb_path, "-P", str(adb_server.port), "-s", phone.serial, "shell", "cat"],
            env=adb_server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while not any("-svc" in n for n in _sim_threads(phone.port)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any("-svc" in n for n in _sim_threads(phone.port))
    finally:
        adb_server.disconnect(phone.serial)
        phone.stop()
    try:
        blocked.wait(timeout=10)  # the adb client sees its stream closed and exits
    finally:
        if blocked.poll() is None:
            blocked.kill()
            blocked.wait()
        blocked.stdin.close()
    deadline = time.monotonic() + 5
    while _sim_threads(phone.port) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sim_threads(phone.port) == []
