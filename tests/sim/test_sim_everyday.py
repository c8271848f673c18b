"""What everyday adb clients send, through the real adb binary (and adbutils where it has an
API): shell builtins and tools, usage errors as the real tools give them, logcat with a run's
messages, root/unroot/remount, reboot, forward and reverse, bugreport. Nothing may crash the
phone or close its connection."""

from __future__ import annotations

import socket
import threading
import time
import zipfile

import adbutils
import pytest

from fermbench.runner.protocol import DEVICE_MODEL_DIR, RUNNER_COMPONENT, RUNNER_PACKAGE
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.cmds import COMMANDS
from fermbench.sim.state import Faults, SimIdentity

pytestmark = pytest.mark.adb


def sh(server, phone, cmdline: str):
    """`adb -s SERIAL shell CMDLINE` (shell_v2: exit code, stdout and stderr apart)."""
    return server.adb("-s", phone.serial, "shell", cmdline, check=False)


def device(server, phone) -> adbutils.AdbDevice:
    return adbutils.AdbClient(host="127.0.0.1", port=server.port).device(phone.serial)


def install_runner(server, phone, tmp_path) -> None:
    apk = tmp_path / "runner.apk"
    apk.write_bytes(make_apk_bytes(RUNNER_PACKAGE, 1, "test"))
    out = server.adb("-s", phone.serial, "install", str(apk), check=False)
    assert out.returncode == 0 and "Success" in out.stdout, out


# -- shell builtins and tools ------------------------------------------------------------------


def test_adb_logcat_wrapper_runs(sim_phone, adb_server):
    # `adb logcat` sends `export ANDROID_LOG_TAGS="''"; exec logcat '-d'`: export and exec must work
    out = adb_server.adb("-s", sim_phone.serial, "logcat", "-d", check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("--------- beginning of main\n")
    assert " I fermsim  : booted " in out.stdout or " I fermsim : booted " in out.stdout


@pytest.mark.parametrize(
    "cmdline, rc, stdout",
    [
        ("export A=1 B; A=2; sh -c 'echo $A$B'", 0, "2\n"),
        ("X=local; sh -c 'echo [$X]'", 0, "[]\n"),
        ("set -e; false; echo not reached", 1, ""),
        ("set -e; false || echo tested; echo after", 0, "tested\nafter\n"),
        ("set -- a 'b c'; echo $# $2", 0, "2 b c\n"),
        ("set -u; echo $NOPE", 1, ""),
        ("exec echo replaced; echo not reached", 0, "replaced\n"),
        ("exec sh -c 'exit 4'; echo not reached", 4, ""),
        ("A=1; unset A; echo [$A]", 0, "[]\n"),
        ("[ -d /data ] && test 3 -gt 2 && echo yes", 0, "yes\n"),
        ("which ls getprop", 0, "/system/bin/ls\n/system/bin/getprop\n"),
        ("which export", 1, ""),
        ("id -u; id -un; whoami", 0, "2000\nshell\nshell\n"),
        ("getconf PAGE_SIZE", 0, "4096\n"),
        ("sleep 0.01 0.01s && echo slept", 0, "slept\n"),
        ("setprop debug.fermbench.x 7 && getprop debug.fermbench.x", 0, "7\n"),
        ("getprop no.such.prop fallback", 0, "fallback\n"),
        ("cd /data/local/tmp && echo one > a && cp a b && mv b c && cat c && ls", 0, "one\na\nc\n"),
        ("touch -c /data/local/tmp/none; ls /data/local/tmp", 0, ""),
        ("echo 'x y' | wc -w; echo abc | head -c 2; echo", 0, "2\nab\n"),
        ("echo -e 'a\\nb\\nc' | tail -n 2 | grep -c .", 0, "2\n"),
        ("svc power stayon true && settings get global stay_on_while_plugged_in", 0, "7\n"),
        ("wm size; wm density", 0, "Physical size: 1080x2400\nPhysical density: 420\n"),
        ("wm size 720x1280 && wm size", 0, "Physical size: 1080x2400\nOverride size: 720x1280\n"),
        ("cmd package list packages settings", 0, "package:com.android.settings\n"),
        (
            "pm list packages -s -f shell",
            0,
            "package:/system/app/com.android.shell/com.android.shell.apk=com.android.shell\n",
        ),
        ("pm has-feature android.hardware.wifi", 0, "true\n"),
        ("date -u -d @86400 '+%Y-%m-%d %H:%M'", 0, "1970-01-02 00:00\n"),
    ],
)
def test_builtins_and_tools(sim_phone, adb_server, cmdline, rc, stdout):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout) == (rc, stdout), out.stderr


def test_errors_of_builtins_that_end_the_shell(sim_phone, adb_server):
    out = sh(adb_server, sim_phone, "set -u; echo $NOPE")
    assert out.stderr == "/system/bin/sh: NOPE: parameter not set\n"


def test_time_and_identity_tools(sim_phone, adb_server):
    before = int(time.time())
    out = sh(adb_server, sim_phone, "date +%s; uptime; uptime -s; id; date")
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr
    assert before <= int(lines[0]) <= int(time.time())
    assert " up " in lines[1] and "load average: " in lines[1]
    assert lines[3].startswith("uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input)")
    assert lines[3].endswith(" context=u:r:shell:s0")
    assert lines[4].endswith(f" UTC {time.gmtime().tm_year}")


def test_input_keyevent_and_setprop_rights(sim_phone, adb_server):
    d = device(adb_server, sim_phone)
    assert d.is_screen_on()
    d.keyevent("KEYCODE_POWER")  # adbutils: `input keyevent ...`
    assert not d.is_screen_on()
    d.switch_screen(True)  # KEYCODE_WAKEUP
    assert d.is_screen_on()
    out = sh(adb_server, sim_phone, "setprop persist.sys.locale en-US")
    assert out.returncode == 1
    assert out.stderr == "Failed to set property 'persist.sys.locale' to 'en-US'.\nSee dmesg for error reason.\n"


# -- usage errors as the real tools give them --------------------------------------------------


@pytest.mark.parametrize(
    "cmdline, rc, stderr",
    [
        ("ls -y /", 1, "ls: Unknown option 'y' (see \"ls --help\")\n"),
        ("ls -ly /", 1, "ls: Unknown option 'y' (see \"ls --help\")\n"),
        ("grep -Q x /dev/null", 2, "grep: Unknown option 'Q' (see \"grep --help\")\n"),
        ("grep --bogus x", 2, "grep: Unknown option 'bogus' (see \"grep --help\")\n"),
        ("chmod 644", 1, 'chmod: Need 2 arguments (see "chmod --help")\n'),
        ("sleep", 1, 'sleep: Needs 1 argument (see "sleep --help")\n'),
        ("sleep 1x", 1, "sleep: Unknown suffix 'x'\n"),
        ("export -z A", 1, "/system/bin/sh: export: -z: unknown option\n"),
        ("set -q", 1, "/system/bin/sh: set: -q: unknown option\n"),
        ("cd /nope", 2, "/system/bin/sh: cd: /nope: No such file or directory\n"),
        ("getprop -q", 255, "getprop: unknown option -- q\n"),
        ("logcat -d -y", 1, "logcat: Unknown option '-y'.\n"),
        ("logcat -d -v bogus", 1, "logcat: Invalid -v 'bogus'.\n"),
        ("logcat -d -b nope", 1, "logcat: Unknown -b buffer 'nope'.\n"),
        ("logcat -d 'Tag:Q'", 1, "logcat: Invalid filter expression 'Tag:Q'.\n"),
        ("cmd nosuch", 20, "cmd: Can't find service: nosuch\n"),
        ("date 010203042030", 1, "date: cannot set date: Operation not permitted\n"),
        ("getconf NOPE", 1, "getconf: bad 'NOPE'\n"),
        ("frobnicate --now", 127, "/system/bin/sh: frobnicate: inaccessible or not found\n"),
        ("/system/bin/nosuch", 127, "/system/bin/sh: /system/bin/nosuch: inaccessible or not found\n"),
    ],
)
def test_usage_errors_are_the_real_tools(sim_phone, adb_server, cmdline, rc, stderr):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout, out.stderr) == (rc, "", stderr)


@pytest.mark.parametrize(
    "cmdline, rc, stdout",
    [
        ("pm list packages -z", 255, "Error: Unknown option: -z\n"),
        ("pm list nothing", 255, "Error: unknown list type 'nothing'\n"),
        ("pm frob", 255, "Unknown command: frob\n"),
        ("am frob", 255, "Unknown command: frob\n"),
        ("wm frob", 255, "Unknown command: frob\n"),
    ],
)
def test_framework_tools_answer_on_stdout_and_exit_255(sim_phone, adb_server, cmdline, rc, stdout):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout) == (rc, stdout)


def test_options_a_real_tool_has_but_the_simulation_lacks_say_so(sim_phone, adb_server):
    out = sh(adb_server, sim_phone, "ls -R /")
    assert out.returncode == 1 and out.stderr == "ls: -R is not simulated by the fermbench phone\n"
    out = sh(adb_server, sim_phone, "pm grant org.example.app android.permission.CAMERA")
    assert out.returncode == 255 and "'pm grant' is not simulated" in out.stderr


def test_nothing_crashes_the_phone_or_closes_its_connection(sim_phone, adb_server):
    # every registered command with junk options and arguments: each ends with an exit status
    # of its own, never the simulation's internal-error path, and the phone stays connected
    junk = ["--no-such-flag", "-@", "'' ''", "-- -", "999999999999999999999", "'a;b' '|' %s"]
    for name in sorted(COMMANDS):
        if name in ("reboot", "sh", "exec", "exit", "return"):
            continue  # a reboot by design; `sh`/`exec` take the junk as their command line, `exit`
            # and `return` (outside a function) end it
        # logcat follows the log and sleep waits, as on a phone, unless told otherwise
        head = {"logcat": "logcat -d", "sleep": "sleep 0 "}.get(name, name)
        line = "; ".join(f"{head} {j} </dev/null; echo rc=$?" for j in junk if not (name == "sleep" and j[0] == "9"))
        expected = len(junk) - (name == "sleep")
        out = sh(adb_server, sim_phone, line)
        assert out.returncode == 0, (name, out.stderr)
        assert out.stdout.count("rc=") == expected, (name, out.stdout)
        assert "simulated phone error" not in out.stderr and "internal error" not in out.stderr, (name, out.stderr)
    assert adb_server.state_of(sim_phone.serial) == "device"
    assert sim_phone.connection_count() >= 1
    assert sh(adb_server, sim_phone, "echo still here").stdout == "still here\n"


# -- packages and instrumentation --------------------------------------------------------------


def test_pm_list_instrumentation_features_and_packages(sim_phone, adb_server, tmp_path):
    assert sh(adb_server, sim_phone, "pm list instrumentation").stdout == ""
    install_runner(adb_server, sim_phone, tmp_path)
    out = sh(adb_server, sim_phone, "pm list instrumentation")
    assert out.stdout == (f"instrumentation:{RUNNER_PACKAGE}/.BenchmarkInstrumentation (target={RUNNER_PACKAGE})\n")
    apk = sim_phone.state.package(RUNNER_PACKAGE).apk_path
    assert sh(adb_server, sim_phone, "pm list instrumentation -f").stdout.startswith(f"instrumentation:{apk}=")
    features = sh(adb_server, sim_phone, "pm list features").stdout.splitlines()
    assert features[0] == "feature:reqGlEsVersion=0x30002" and "feature:android.hardware.wifi" in features
    assert features[1:] == sorted(features[1:])
    assert sh(adb_server, sim_phone, "pm list packages -3").stdout == f"package:{RUNNER_PACKAGE}\n"
    assert device(adb_server, sim_phone).list_packages(["-3"]) == [RUNNER_PACKAGE]
    uid = sh(adb_server, sim_phone, f"pm list packages -U {RUNNER_PACKAGE}").stdout
    assert uid.startswith(f"package:{RUNNER_PACKAGE} uid:1")


def test_am_start_and_force_stop(sim_phone, adb_server, tmp_path):
    install_runner(adb_server, sim_phone, tmp_path)
    out = sh(adb_server, sim_phone, f"am start -n {RUNNER_PACKAGE}/.Main")
    assert out.returncode == 0
    assert out.stdout == f"Starting: Intent {{ cmp={RUNNER_PACKAGE}/.Main }}\n"
    assert out.stderr == (
        f"Error type 3\nError: Activity class {{{RUNNER_PACKAGE}/{RUNNER_PACKAGE}.Main}} does not exist.\n"
    )
    device(adb_server, sim_phone).app_stop(RUNNER_PACKAGE)  # adbutils: `am force-stop PKG`
    log = sh(adb_server, sim_phone, "logcat -d -b system -s ActivityManager ActivityTaskManager").stdout
    assert f"Force stopping {RUNNER_PACKAGE}" in log and "Unable to find activity" in log


# -- logcat --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A small TorchScript Lite model (48x48 gray in, 7 logits out), exported here."""
    torch = pytest.importorskip("torch")
    import warnings

    path = tmp_path_factory.mktemp("model") / "tiny.ptl"
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, 7)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(model)._save_for_lite_interpreter(str(path))
    return path


def test_adb_logcat_shows_a_runs_messages(sim_phone, adb_server, tmp_path, tiny_model):
    install_runner(adb_server, sim_phone, tmp_path)
    remote = f"{DEVICE_MODEL_DIR}/tiny.ptl"
    adb_server.adb("-s", sim_phone.serial, "push", str(tiny_model), remote)
    system = adb_server.adb("-s", sim_phone.serial, "logcat", "-d", "-b", "system").stdout
    assert f"I PackageManager: installed {RUNNER_PACKAGE} versionCode=1" in system
    assert adb_server.adb("-s", sim_phone.serial, "logcat", "-c").returncode == 0
    run = sh(
        adb_server,
        sim_phone,
        f"am instrument -w -r -e mode latency -e model {remote} -e warmup 1 "
        f"-e warmup_seconds 0 -e iterations 3 -e min_seconds 0 {RUNNER_COMPONENT}",
    )
    assert run.returncode == 0 and "INSTRUMENTATION_CODE: -1" in run.stdout, run.stderr
    bad = sh(adb_server, sim_phone, f"am instrument -w -r -e mode latency -e model /nope.ptl {RUNNER_COMPONENT}")
    assert "model_missing" in bad.stdout

    log = adb_server.adb("-s", sim_phone.serial, "logcat", "-d", "-v", "brief", "-s", "FermbenchRunner").stdout
    lines = [ln for ln in log.splitlines() if ln.startswith(("I/", "E/"))]
    phases = [ln.split("): ", 1)[1] for ln in lines if "): phase " in ln]
    assert phases == ["phase load", "phase first", "phase warmup", "phase timed"]
    assert any("): result {" in ln and '"first_inference_ns":' in ln for ln in lines), lines
    assert any(
        ln.startswith("E/FermbenchRunner") and "error model_missing: model file /nope.ptl" in ln for ln in lines
    ), lines
    assert sum("run finished: ok (code -1)" in ln for ln in lines) == 1
    assert sum("run finished: error (code -1)" in ln for ln in lines) == 1
    system = adb_server.adb("-s", sim_phone.serial, "logcat", "-d", "-b", "system").stdout
    assert "Start proc " in system and f"{RUNNER_PACKAGE}/u0a" in system
    assert f"Process {RUNNER_PACKAGE} (pid " in system and "has died" in system


def test_logcat_formats_filters_and_buffers(sim_phone, adb_server):
    state = sim_phone.state
    state.log("D", "Alpha", "debug line")
    state.log("W", "Beta", "two\nlines")
    state.log("E", "Gamma", "in crash", buffer="crash")
    state.log("W", "Beta", "two more")
    out = sh(adb_server, sim_phone, "logcat -d -v tag Alpha:I Beta:W '*:S'").stdout
    assert out == "--------- beginning of main\nW/Beta    : two\nW/Beta    : lines\nW/Beta    : two more\n"
    assert sh(adb_server, sim_phone, "logcat -d -v raw -s Alpha").stdout == "--------- beginning of main\ndebug line\n"
    out = sh(adb_server, sim_phone, "logcat -d -v process -b crash").stdout
    assert out == "--------- beginning of crash\nE( 1503) in crash  (Gamma)\n"
    out = sh(adb_server, sim_phone, "logcat -d -v long -s Gamma -b all").stdout
    assert out.splitlines()[1].startswith("[ ") and out.splitlines()[1].endswith(" 1503: 1503 E/Gamma    ]")
    out = sh(adb_server, sim_phone, "logcat -d -v epoch,usec -t 1 -b crash").stdout.splitlines()[1]
    stamp = float(out.split()[0])
    assert abs(stamp - time.time()) < 600 and len(out.split()[0].split(".")[1]) == 6
    out = sh(adb_server, sim_phone, "logcat -d -e '^two' -m 1 -v brief -s Beta").stdout  # the regex sees
    assert out == "--------- beginning of main\nW/Beta    ( 1503): two\nW/Beta    ( 1503): lines\n"  # all lines
    sizes = sh(adb_server, sim_phone, "logcat -g").stdout.splitlines()
    assert [s.split(":")[0] for s in sizes] == ["main", "system", "crash"]
    assert "max payload is 4068 B" in sizes[0]
    assert sh(adb_server, sim_phone, "logcat -c -b crash; logcat -d -b crash").stdout == ""
    assert "Beta" in sh(adb_server, sim_phone, "logcat -d").stdout  # main was not cleared


def test_live_logcat_follows_new_entries_until_closed(sim_phone, adb_server, tmp_path):
    d = device(adb_server, sim_phone)
    sink = tmp_path / "log.txt"
    stop = d.logcat(sink, clear=True, command="logcat -v brief -s Live")  # adbutils follows the log
    try:
        deadline = time.monotonic() + 20
        k = 0
        while "entry 0" not in sink.read_text() and time.monotonic() < deadline:
            sim_phone.state.log("I", "Live", f"entry {k}")  # written after logcat started
            k += 1
            time.sleep(0.05)
        assert "I/Live    ( 1503): entry 0" in sink.read_text()
    finally:
        stop.stop_nowait()  # adbutils' reader looks at the stop flag after each line: send one
        sim_phone.state.log("I", "Live", "last")
        stop.stop(timeout=20)
    assert adb_server.state_of(sim_phone.serial) == "device"


# -- adb services: root, unroot, remount, reboot --------------------------------------------------


def test_adb_root_is_refused_as_a_production_build_refuses_it(sim_phone, adb_server):
    out = adb_server.adb("-s", sim_phone.serial, "root", check=False)
    assert (out.returncode, out.stdout) == (0, "adbd cannot run as root in production builds\n")
    assert adb_server.state_of(sim_phone.serial) == "device"
    assert sh(adb_server, sim_phone, "id -u").stdout == "2000\n"  # the connection stays usable
    d = device(adb_server, sim_phone)
    assert d.root() == "adbd cannot run as root in production builds\n"
    out = adb_server.adb("-s", sim_phone.serial, "unroot", check=False)
    assert (out.returncode, out.stdout) == (0, "adbd not running as root\n")
    out = adb_server.adb("-s", sim_phone.serial, "remount", check=False)
    assert out.stdout == 'Not running as root. Try "adb root" first.\n'
    assert d.shell2("echo ok").output == "ok\n"


def test_root_on_a_debuggable_build_points_at_the_setting(make_sim_phone, adb_server):
    phone = make_sim_phone(SimIdentity(debuggable=True))
    out = adb_server.adb("-s", phone.serial, "root", check=False)
    assert out.stdout.startswith("ADB Root access is disabled by system setting")
    assert adb_server.state_of(phone.serial) == "device"


def test_adb_reboot_goes_offline_and_comes_back_with_its_files(make_sim_phone, adb_server):
    phone = make_sim_phone(faults=Faults(reboot_delay_s=0.5))
    assert sh(adb_server, phone, "echo kept > /data/local/tmp/f; setprop debug.gone 1").returncode == 0
    phone.state.log("I", "Before", "written before the reboot")
    assert adb_server.adb("-s", phone.serial, "reboot", check=False).returncode == 0
    # the phone is gone (adb shows it offline) until it has booted again
    deadline = time.monotonic() + 10
    while adb_server.state_of(phone.serial) == "device" and not phone.rebooting and time.monotonic() < deadline:
        time.sleep(0.02)
    assert phone.rebooting or adb_server.state_of(phone.serial) != "device"
    adb_server.wait_for_state(phone.serial, ("device",), timeout=30)
    assert phone.state.boot_count == 2
    out = sh(adb_server, phone, "cat /data/local/tmp/f; getprop debug.gone; getprop sys.boot.reason")
    assert out.stdout == "kept\n\nreboot,adb\n"
    log = sh(adb_server, phone, "logcat -d").stdout
    assert "written before the reboot" not in log and "boot #2" in log


def test_reboot_to_a_mode_the_phone_lacks_is_refused(sim_phone, adb_server):
    out = sh(adb_server, sim_phone, "reboot bootloader")
    assert out.returncode == 1 and out.stderr == "reboot: the fermbench phone has no bootloader mode\n"
    assert adb_server.state_of(sim_phone.serial) == "device"


# -- forward, reverse, bugreport ------------------------------------------------------------------


class EchoServer:
    """A loopback TCP server that sends back what it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone does not
        self.sock.close()
        self.thread.join(timeout=5)


def round_trip(port: int, payload: bytes) -> bytes:
    """Send payload, read as much back (an adb stream has no half-close: closing ends both ways)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        sender = threading.Thread(target=c.sendall, args=(payload,))
        sender.start()
        got = b""
        while len(got) < len(payload) and (data := c.recv(65536)):
            got += data
        sender.join()
    return got


def test_adb_forward_reaches_the_phones_loopback(sim_phone, adb_server):
    echo = EchoServer()
    try:
        local = int(adb_server.adb("-s", sim_phone.serial, "forward", "tcp:0", f"tcp:{echo.port}").stdout)
        payload = bytes(range(256)) * 1000
        assert round_trip(local, payload) == payload
    finally:
        echo.close()
        adb_server.adb("-s", sim_phone.serial, "forward", "--remove-all", check=False)


def test_adb_reverse_forwards_like_forward(sim_phone, adb_server, listening_address):
    echo = EchoServer()
    try:
        phone_port = int(adb_server.adb("-s", sim_phone.serial, "reverse", "tcp:0", f"tcp:{echo.port}").stdout)
        listing = adb_server.adb("-s", sim_phone.serial, "reverse", "--list").stdout
        assert f"tcp:{phone_port} tcp:{echo.port}" in listing
        payload = b"through the phone and back " * 5000
        assert round_trip(phone_port, payload) == payload  # a process "on the phone" reaches the host
        assert listening_address(phone_port) == "127.0.0.1"
        out = adb_server.adb(
            "-s", sim_phone.serial, "reverse", "--no-rebind", f"tcp:{phone_port}", "tcp:1", check=False
        )
        assert out.returncode != 0 and "cannot rebind existing socket" in out.stderr
        d = device(adb_server, sim_phone)
        assert [(r.remote, r.local) for r in d.reverse_list()] == [(f"tcp:{phone_port}", f"tcp:{echo.port}")]
        d.reverse_remove_all()
        assert d.reverse_list() == []
        with pytest.raises(OSError):
            round_trip(phone_port, b"x")
    finally:
        echo.close()


def test_the_phone_listens_on_loopback_only(sim_phone, listening_address):
    assert listening_address(sim_phone.port) == "127.0.0.1"


def test_adb_bugreport_pulls_a_small_zip(sim_phone, adb_server, tmp_path):
    out = sh(adb_server, sim_phone, "bugreportz -v")
    assert (out.returncode, out.stderr) == (0, "1.2\n")
    dest = tmp_path / "report.zip"
    out = adb_server.adb("-s", sim_phone.serial, "bugreport", str(dest), check=False)
    assert out.returncode == 0, out.stderr
    with zipfile.ZipFile(dest) as z:
        main = z.read("main_entry.txt").decode()
        text = z.read(main).decode()
    assert main.startswith("bugreport-fermsim_x86_64-") and main.endswith(".txt")
    assert "[ro.product.model]: [fermbench sim]" in text and "------ SYSTEM LOG" in text
    out = sh(adb_server, sim_phone, "bugreport")
    assert out.returncode == 0 and "Flat (text file, non-zipped) bugreports are deprecated" in out.stderr
