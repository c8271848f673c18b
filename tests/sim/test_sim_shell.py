"""The simulated phone's shell, called directly (no adb): parsing, operators, redirections,
file tools, properties, and the refusal of anything it does not implement."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest

from fermbench.sim.cmds import BUILTINS, COMMANDS
from fermbench.sim.shell import Shell, ShellSyntaxError, parse
from fermbench.sim.state import Faults, PhoneState, SimIdentity


class Phone:
    def __init__(self, root: Path, identity: SimIdentity | None = None, faults: Faults | None = None):
        self.state = PhoneState(root, identity, faults)

    def sh(self, cmd: str, stdin: bytes = b"", cancel: threading.Event | None = None) -> tuple[int, str, str]:
        out, err = [], []
        rc = Shell(self.state, COMMANDS, BUILTINS).run(
            cmd, io.BytesIO(stdin), out.append, err.append, cancel or threading.Event()
        )
        return rc, b"".join(out).decode(), b"".join(err).decode()

    def file(self, device_path: str) -> Path:
        return self.state.host_path(device_path)


@pytest.fixture
def phone(tmp_path) -> Phone:
    return Phone(tmp_path / "root")


# -- parsing and quoting ---------------------------------------------------------------------


def test_quotes_escapes_and_empty_arguments(phone):
    rc, out, _ = phone.sh("""echo 'a  b' "c  d" e\\ f '' "" x""")
    assert rc == 0
    assert out == "a  b c  d e f   x\n"  # '' and "" are (empty) arguments of their own


def test_quoted_metacharacters_are_text_not_operators(phone):
    rc, out, _ = phone.sh("echo 'a; rm -rf /data' \"b && c\" 'd | e' '>f'")
    assert (rc, out) == (0, "a; rm -rf /data b && c d | e >f\n")
    assert phone.file("/data/local/tmp").is_dir()  # nothing was removed
    assert not phone.file("/f").exists()


def test_status_variable_and_assignments(phone):
    rc, out, _ = phone.sh("false; echo $?; true; echo \"$?\"; X=hi; echo ${X}-$X '$X'")
    assert out == "1\n0\nhi-hi $X\n"
    assert phone.sh("echo $TMPDIR")[1] == "/data/local/tmp\n"


def test_and_or_chains_follow_sh_rules(phone):
    assert phone.sh("true && echo a || echo b")[1] == "a\n"
    assert phone.sh("false && echo a || echo b")[1] == "b\n"
    assert phone.sh("false || false && echo never; echo $?")[1] == "1\n"
    assert phone.sh("true || echo skipped && echo ran")[1] == "ran\n"


def test_exit_code_is_the_last_command_and_exit_stops_the_line(phone):
    assert phone.sh("true; false")[0] == 1
    rc, out, _ = phone.sh("echo a; exit 7; echo b")
    assert (rc, out) == (7, "a\n")


def test_pipes_feed_the_next_command(phone):
    rc, out, _ = phone.sh("getprop | grep -c ro.product.model")
    assert (rc, out) == (0, "1\n")
    rc, out, _ = phone.sh("echo hello | wc -c")
    assert out.strip() == "6"
    assert phone.sh("echo x | grep -q y")[0] == 1  # a pipeline's status is its last command's


def test_comments_and_blank_statements(phone):
    assert phone.sh("echo a # echo b\n\necho c;")[1] == "a\nc\n"


@pytest.mark.parametrize(
    "line, reason",
    [
        ("echo a &", "background"),
        ("echo $(id", "missing ')'"),
        ("echo `id", "no closing '`'"),
        ("if true; then echo a; fi fi", "unexpected 'fi'"),
        ("for 1 in a; do :; done", "bad 'for' variable"),
        ("case a in a) echo; esac x", "unexpected"),
        ("echo $((1+2)", "missing '))'"),
        ("echo 'open", "no closing quote"),
        ("echo a &&", "unexpected end"),
        ("| echo a", "unexpected '|'"),
        ("cat <<EOF", "here-documents"),
    ],
)
def test_unsupported_syntax_is_refused_before_anything_runs(phone, line, reason):
    rc, out, err = phone.sh("mkdir /data/local/tmp/ran; " + line)
    assert rc == 1 and out == ""
    assert "syntax error" in err and reason in err
    assert not phone.file("/data/local/tmp/ran").exists()
    with pytest.raises(ShellSyntaxError):
        parse(line)


def test_unknown_command_is_127_with_the_mksh_message(phone):
    rc, out, err = phone.sh("frobnicate --now")
    assert rc == 127 and out == ""
    assert err == "/system/bin/sh: frobnicate: inaccessible or not found\n"
    assert phone.sh("frobnicate || echo $?")[1] == "127\n"


def test_full_system_paths_name_the_same_tools(phone):
    assert phone.sh("/system/bin/getprop ro.build.version.sdk")[1] == "34\n"
    assert phone.sh("/system/bin/nosuchtool")[0] == 127


# -- redirections ----------------------------------------------------------------------------


def test_redirect_create_append_and_read(phone):
    assert phone.sh("echo one > /data/local/tmp/f; echo two >> /data/local/tmp/f")[0] == 0
    assert phone.file("/data/local/tmp/f").read_text() == "one\ntwo\n"
    assert phone.sh("wc -l < /data/local/tmp/f")[1] == "2\n"
    assert phone.sh("cat < /data/local/tmp/f | grep two")[1] == "two\n"


def test_stderr_redirections(phone):
    rc, out, err = phone.sh("cat /nope 2>/dev/null")
    assert (rc, out, err) == (1, "", "")
    rc, out, err = phone.sh("cat /nope 2>&1")
    assert out == "cat: /nope: No such file or directory\n" and err == ""
    # order matters as in sh: stderr goes where stdout pointed *before* the file redirect
    rc, out, err = phone.sh("cat /nope 2>&1 >/data/local/tmp/o")
    assert "No such file" in out and phone.file("/data/local/tmp/o").read_text() == ""
    rc, out, err = phone.sh("cat /nope >/data/local/tmp/o 2>&1")
    assert out == "" and "No such file" in phone.file("/data/local/tmp/o").read_text()
    assert phone.sh("echo warn >&2")[2] == "warn\n"


def test_redirect_into_a_missing_folder_fails_like_sh(phone):
    rc, _, err = phone.sh("echo x > /no/such/dir/f")
    assert rc == 1 and err.startswith("/system/bin/sh: can't create /no/such/dir/f:")


# -- files -----------------------------------------------------------------------------------


def test_mkdir_ls_rm(phone):
    assert phone.sh("mkdir /data/local/tmp/a/b")[0] == 1  # no parent, no -p
    assert phone.sh("mkdir -p /data/local/tmp/a/b && touch /data/local/tmp/a/b/x /data/local/tmp/a/.h")[0] == 0
    assert phone.sh("ls /data/local/tmp/a")[1] == "b\n"
    assert phone.sh("ls -a /data/local/tmp/a")[1] == ".\n..\n.h\nb\n"
    long = phone.sh("ls -l /data/local/tmp/a/b")[1].splitlines()
    assert long[0].startswith("total") and long[1].startswith("-rw") and long[1].endswith(" x")
    rc, _, err = phone.sh("rm /data/local/tmp/a")
    assert rc == 1 and "Is a directory" in err
    assert phone.sh("rm -rf /data/local/tmp/a /data/local/tmp/none")[0] == 0
    assert not phone.file("/data/local/tmp/a").exists()
    rc, _, err = phone.sh("ls /data/local/tmp/a")
    assert rc == 1 and err == "ls: /data/local/tmp/a: No such file or directory\n"
    assert phone.sh("rm /data/local/tmp/none")[0] == 1


def test_chmod_octal_and_symbolic(phone):
    phone.sh("touch /data/local/tmp/m")
    assert phone.sh("chmod 640 /data/local/tmp/m && stat -c %a /data/local/tmp/m")[1] == "640\n"
    assert phone.sh("chmod o+r,g-r /data/local/tmp/m && stat -c %a /data/local/tmp/m")[1] == "604\n"
    assert phone.sh("chmod 644 /data/local/tmp/none")[0] == 1
    assert phone.sh("chmod bogus /data/local/tmp/m")[0] == 1


def test_digests_match_hashlib(phone):
    data = os.urandom(3 * 1024 * 1024 + 17)
    phone.file("/data/local/tmp/blob").write_bytes(data)
    rc, out, _ = phone.sh("sha256sum /data/local/tmp/blob; md5sum /data/local/tmp/blob")
    assert out == (
        f"{hashlib.sha256(data).hexdigest()}  /data/local/tmp/blob\n"
        f"{hashlib.md5(data).hexdigest()}  /data/local/tmp/blob\n"
    )
    assert phone.sh("stat -c %s /data/local/tmp/blob")[1] == f"{len(data)}\n"
    assert phone.sh("echo -n abc | sha256sum")[1].split()[0] == hashlib.sha256(b"abc").hexdigest()
    rc, _, err = phone.sh("sha256sum /data/local/tmp/missing")
    assert rc == 1 and "No such file" in err


def test_cat_streams_files_and_stdin(phone):
    phone.file("/data/local/tmp/t").write_bytes(b"\x00\x01bytes")
    assert phone.sh("cat /data/local/tmp/t")[1] == "\x00\x01bytes"
    assert phone.sh("cat", stdin=b"from stdin")[1] == "from stdin"


def test_globs_expand_over_the_phone_file_system(phone):
    for name in ("a.ptl", "b.ptl", "c.json"):
        phone.file(f"/data/local/tmp/{name}").write_text(name)
    assert phone.sh("ls /data/local/tmp/*.ptl")[1] == "/data/local/tmp/a.ptl\n/data/local/tmp/b.ptl\n"
    assert phone.sh("echo '/data/local/tmp/*.ptl'")[1] == "/data/local/tmp/*.ptl\n"  # quoted: no glob
    assert phone.sh("echo /data/local/tmp/*.none")[1] == "/data/local/tmp/*.none\n"  # no match: kept
    assert phone.sh("rm /data/local/tmp/*.ptl && ls /data/local/tmp")[1] == "c.json\n"


def test_paths_never_leave_the_phone(phone, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("host file")
    assert phone.sh(f"cat /../../..{outside}")[0] == 1  # `..` stops at the phone's /
    os.symlink(outside, phone.file("/data/local/tmp/link"))
    rc, out, err = phone.sh("cat /data/local/tmp/link")
    assert rc == 1 and "host file" not in out and "Permission denied" in err
    with pytest.raises(PermissionError):
        phone.state.host_path("/data/local/tmp/link")


def test_df_reports_free_space_and_honours_the_disk_full_fault(tmp_path):
    phone = Phone(tmp_path / "r", faults=Faults(disk_free_bytes=5 * 1024 * 1024))
    rc, out, _ = phone.sh("df -k /data/local/tmp")
    header, row = out.splitlines()
    assert header.split()[:4] == ["Filesystem", "1K-blocks", "Used", "Available"]
    assert row.split()[3] == str(5 * 1024) and row.split()[-1] == "/data"
    assert phone.sh("df -h /sdcard")[1].splitlines()[1].split()[-1] == "/storage/emulated"
    assert phone.sh("df /nope")[0] == 1


# -- properties, settings, services ----------------------------------------------------------


def test_getprop_reflects_the_identity(tmp_path):
    ident = SimIdentity(
        model="Galaxy Test",
        abis=("arm64-v8a",),
        sdk=30,
        release="11",
        is_emulator=True,
        extra_props={"ro.custom": "yes"},
    )
    phone = Phone(tmp_path / "r", identity=ident)
    assert phone.sh("getprop ro.product.model")[1] == "Galaxy Test\n"
    assert phone.sh("getprop ro.product.cpu.abilist")[1] == "arm64-v8a\n"
    assert phone.sh("getprop ro.kernel.qemu; getprop ro.hardware")[1] == "1\nranchu\n"
    assert phone.sh("getprop ro.custom")[1] == "yes\n"
    assert phone.sh("getprop no.such.prop fallback")[1] == "fallback\n"
    listing = phone.sh("getprop")[1]
    assert "[ro.build.version.sdk]: [30]\n" in listing
    assert phone.sh("setprop ro.product.model Other")[0] == 1  # read-only property


def test_settings_get_put_and_unknown_namespace(phone):
    assert phone.sh("settings get global stay_on_while_plugged_in")[1] == "0\n"
    assert (
        phone.sh("settings put global stay_on_while_plugged_in 7 && settings get global stay_on_while_plugged_in")[1]
        == "7\n"
    )
    assert phone.sh("settings get secure nothing")[1] == "null\n"
    assert phone.sh("settings get nowhere x")[0] == 255


def test_dumpsys_reflects_state(phone):
    phone.state.battery.level = 42
    phone.state.battery.temperature = 385
    phone.state.thermal_status = 3
    phone.state.screen_on = False
    out = phone.sh("dumpsys battery")[1]
    assert "  level: 42\n" in out and "  temperature: 385\n" in out
    assert "Thermal Status: 3\n" in phone.sh("dumpsys thermalservice")[1]
    assert "mWakefulness=Asleep" in phone.sh("dumpsys power")[1]
    assert phone.sh("dumpsys meminfo org.fermbench.runner")[1] == "No process found for: org.fermbench.runner\n"
    rc, _, err = phone.sh("dumpsys window")
    assert rc == 1 and "Can't find service: window" in err


def test_logcat_dump_clear_and_tag_filter(phone):
    phone.state.log("I", "Tagged", "hello log")
    rc, out, _ = phone.sh("logcat -d")
    assert rc == 0 and " I Tagged  : hello log\n" in out
    assert phone.sh("logcat -d -s Other")[1] == ""
    assert phone.sh("logcat -c; logcat -d")[1] == ""


def test_live_logcat_and_sleep_end_when_the_stream_closes(phone):
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    t0 = time.monotonic()
    assert phone.sh("sleep 30", cancel=cancel)[0] == 0
    assert time.monotonic() - t0 < 30  # ended by the stream closing, not by the sleep running out
    cancel2 = threading.Event()
    threading.Timer(0.2, cancel2.set).start()
    assert phone.sh("logcat", cancel=cancel2)[0] == 0


def test_test_builtin(phone):
    phone.sh("touch /data/local/tmp/e")
    assert phone.sh("test -f /data/local/tmp/e && [ -d /data ] && [ ! -e /nope ] && echo ok")[1] == "ok\n"
    assert phone.sh("[ 3 -lt 2 ]")[0] == 1
    assert phone.sh("[ -s /data/local/tmp/e ]")[0] == 1  # empty file
    assert phone.sh("[ a = a")[0] == 2  # missing ]


def test_sh_c_runs_a_child_shell(phone):
    rc, out, err = phone.sh("sh -c 'echo in; echo e >&2; exit 3'; echo after $?")
    assert (rc, out, err) == (0, "in\nafter 3\n", "e\n")
    assert phone.sh("sh script.sh")[0] == 2
