"""The phone's identity (a device that says what it is, every property agreeing with the rest;
`--emulator` still dresses it as an emulator), and the promise that nothing the simulated phone
runs reaches the host outside its own folder: no host process, no file outside its root."""

from __future__ import annotations

import io
import os
import subprocess
import threading

import pytest

from fermbench.sim.cmds import BUILTINS, COMMANDS
from fermbench.sim.shell import Shell
from fermbench.sim.state import PhoneState, SimIdentity

HOSTILE = "\n".join(
    [
        "cd /; cd ..; cd ../..; touch escaped; echo x > ../../escaped2",
        "mkdir -p /../../made; cp /proc/meminfo /../../copied; mv /sdcard/../../../secret /sdcard/stolen",
        "cat /../../secret; sed -i s/keep/lost/ /../../secret; rm -rf /.. /../secret",
        "printf x > /sdcard/../../../out; find /.. -maxdepth 2 > /dev/null; ls /../.. > /dev/null",
        "sh -c 'echo $(cat /../secret) > /data/local/tmp/../../../../via_sh'; echo /../* | xargs touch",
        'for f in /../../*; do echo "$f"; done; screencap -p /../../shot.png; logcat -d -f /../../log',
        "eval 'touch /../../evald'; (cd /..; touch sub); f() { touch /../../fn; }; f; true",
    ]
)


def _snapshot(folder, skip) -> dict[str, tuple[int, float]]:
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        if os.path.abspath(dirpath).startswith(os.path.abspath(skip)):
            continue
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            if not os.path.abspath(path).startswith(os.path.abspath(skip)):
                st = os.lstat(path)
                out[path] = (st.st_size, st.st_mtime)
    return out


def test_nothing_the_shell_runs_leaves_the_phones_folder_or_starts_a_process(tmp_path, monkeypatch):
    (tmp_path / "secret").write_text("keep\n")
    state = PhoneState(tmp_path / "phone" / "root")
    before = _snapshot(tmp_path, state.root)

    def refuse(*args, **kwargs):
        raise AssertionError(f"the simulated phone started a host process: {args[:1]}")

    for name in ("system", "fork", "forkpty", "execv", "execve", "execvp", "posix_spawn", "posix_spawnp", "popen"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    out, err = [], []
    rc = Shell(state, COMMANDS, BUILTINS).run(HOSTILE, io.BytesIO(), out.append, err.append, threading.Event())
    assert rc == 0, b"".join(err).decode()
    assert _snapshot(tmp_path, state.root) == before  # nothing outside the root changed or appeared
    assert (tmp_path / "secret").read_text() == "keep\n"
    assert b"keep" not in b"".join(out)  # the host's file was never read either


@pytest.mark.adb
def test_nothing_sent_through_adb_leaves_the_phones_folder(make_sim_phone, adb_server, tmp_path):
    (tmp_path / "secret").write_text("keep\n")
    phone = make_sim_phone(root=tmp_path / "phone")
    before = _snapshot(tmp_path, phone.state.root)
    out = adb_server.adb("-s", phone.serial, "shell", HOSTILE, check=False)
    assert out.returncode == 0, out.stderr
    for target in ("/../../pushed", "/sdcard/../../../pushed"):
        adb_server.adb("-s", phone.serial, "push", str(tmp_path / "secret"), target, check=False)
    assert _snapshot(tmp_path, phone.state.root) == before
    assert "keep" not in out.stdout


@pytest.mark.adb
def test_identity_agrees_with_itself(sim_phone, adb_server):
    keys = [
        "ro.product.cpu.abi",
        "ro.product.cpu.abilist",
        "ro.product.cpu.abilist64",
        "ro.build.version.codename",
        "ro.build.tags",
        "ro.build.type",
        "ro.board.platform",
        "ro.hardware",
        "ro.build.fingerprint",
        "ro.product.name",
        "ro.fermbench.simulated",
        "ro.kernel.qemu",
    ]
    script = "; ".join(f"getprop {k}" for k in keys) + "; uname -m; getprop | wc -l"
    lines = adb_server.adb("-s", sim_phone.serial, "shell", script).stdout.splitlines()
    p = dict(zip(keys, lines))
    assert p["ro.product.cpu.abi"] == p["ro.product.cpu.abilist"].split(",")[0] == lines[len(keys)] == "x86_64"
    assert set(p["ro.product.cpu.abilist64"].split(",")) == set(p["ro.product.cpu.abilist"].split(","))
    assert p["ro.build.version.codename"] == "REL" and p["ro.board.platform"] == p["ro.hardware"] == "fermsim"
    brand, product, rest = p["ro.build.fingerprint"].split("/", 2)
    assert (brand, product) == ("fermbench", p["ro.product.name"])
    assert rest.endswith(f":{p['ro.build.type']}/{p['ro.build.tags']}") and p["ro.build.tags"] == "test-keys"
    assert p["ro.fermbench.simulated"] == "1" and p["ro.kernel.qemu"] == ""
    assert int(lines[-1]) >= 60
    devices = adb_server.adb("devices", "-l").stdout
    assert "product:fermsim_x86_64 model:fermbench_sim device:fermsim" in devices


def test_emulator_and_costumes_stay_consistent():
    emu = SimIdentity(is_emulator=True).props()
    assert emu["ro.kernel.qemu"] == emu["ro.boot.qemu"] == "1" and emu["ro.hardware"] == "ranchu"
    assert emu["ro.build.characteristics"] == "emulator"
    arm = SimIdentity(abis=("arm64-v8a", "armeabi-v7a")).props()
    assert (arm["ro.product.cpu.abilist64"], arm["ro.product.cpu.abilist32"]) == ("arm64-v8a", "armeabi-v7a")
    assert arm["ro.zygote"] == "zygote64_32"
