"""The shell language scripts and tools send, through the real adb binary: arithmetic,
if/for/while/until/case, command substitution, functions, parameter expansion, command -v
and type, with mksh's output and exit codes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.adb


def sh(server, phone, cmdline: str):
    return server.adb("-s", phone.serial, "shell", cmdline, check=False)


CASES = [
    # arithmetic: 32-bit like mksh, C division, variables by name, assignment
    ("echo $((1+2)) $((7/2)) $((-7/2)) $((7%3)) $((2147483647+1)) $((1<<4|1))", 0, "3 3 -3 1 -2147483648 17\n"),
    ("i=4; echo $((i*i)) $(( (i+1) > 4 ? 10 : 20 )) $((i+=2)) $i", 0, "16 10 6 6\n"),
    # if / elif / else, and the status of a test
    ("if [ -d /sdcard ]; then echo yes; else echo no; fi", 0, "yes\n"),
    ("x=2; if [ $x = 1 ]; then echo one; elif [ $x = 2 ]; then echo two; else echo other; fi", 0, "two\n"),
    ("if false; then :; fi; echo $?", 0, "0\n"),
    # loops, break and continue
    ("for i in a b c; do echo $i; done", 0, "a\nb\nc\n"),
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done", 0, "1\n2\n3\n"),
    ("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i", 0, "2\n"),
    ("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done", 0, "1\n3\n"),
    ("while true; do echo once; break; done", 0, "once\n"),
    # case with alternatives and globs
    ("case arm64-v8a in x86*) echo x86;; arm*|aarch*) echo arm;; *) echo other;; esac", 0, "arm\n"),
    ("case 'a b' in 'a b') echo quoted;; esac", 0, "quoted\n"),
    # command substitution, nested and quoted, and its status
    ("echo $(echo a $(echo b)) `echo c`", 0, "a b c\n"),
    ('x="$(echo "two  spaces")"; echo "$x"', 0, "two  spaces\n"),
    ("x=$(false); echo $?", 0, "1\n"),
    ("false; $EMPTY; echo $?; $(false); echo $?; X=$(exit 3); echo $?; false; X=1; echo $?", 0, "0\n1\n3\n0\n"),
    ("echo $(getprop ro.build.version.sdk)", 0, "34\n"),
    # functions, their parameters and return
    ("f() { echo \"$# $1\"; return 3; }; f a 'b c'; echo $?", 0, "2 a\n3\n"),
    ('g() { for a in "$@"; do echo "[$a]"; done; }; g 1 \'2 3\'', 0, "[1]\n[2 3]\n"),
    # parameter expansion
    ("echo ${NOPE:-default} ${NOPE-dash} ${HOME:+set} ${#HOME}", 0, "default dash set 1\n"),
    ("V=model.tar.gz; echo ${V%.*} ${V%%.*} ${V#*.} ${V##*.}", 0, "model.tar model tar.gz gz\n"),
    (": ${Z:=assigned}; echo $Z", 0, "assigned\n"),
    ("echo ${NOPE:?is required}; echo never", 1, ""),
    # field splitting of unquoted expansions, not of quoted ones
    ('X=\'a  b\'; for w in $X; do echo "[$w]"; done; echo "$X"', 0, "[a]\n[b]\na  b\n"),
    # command -v and type (mobly's has_shell_command runs `command -v NAME`)
    ("command -v ls; command -v cd; command -v nope; echo $?", 0, "/system/bin/ls\ncd\n1\n"),
    (
        "f() { :; }; type ls cd if f",
        0,
        "ls is /system/bin/ls\ncd is a shell builtin\nif is a reserved word\nf is a function\n",
    ),
    ("type nope", 1, "nope not found\n"),
    # groups, subshells, pipes into compound commands, read, eval, negation
    ("{ echo a; echo b; } | wc -l", 0, "2\n"),
    ("(cd /sdcard; pwd); pwd", 0, "/sdcard\n/\n"),
    ("getprop | grep -c ro.build.version.sdk | while read n; do echo lines=$n; done", 0, "lines=1\n"),
    ("eval 'A=5; echo $A'", 0, "5\n"),
    ("! false; echo $?", 0, "0\n"),
    ("set -e; false || echo handled; false; echo never", 1, "handled\n"),
]


@pytest.mark.parametrize("cmdline, rc, stdout", CASES, ids=[c[0][:40] for c in CASES])
def test_shell_language(sim_phone, adb_server, cmdline, rc, stdout):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout) == (rc, stdout), out.stderr


@pytest.mark.parametrize(
    "cmdline, stderr",
    [
        ("echo $((1/0)); echo never", "/system/bin/sh: 1/0: zero divisor\n"),
        ("echo ${NOPE:?is required}", "/system/bin/sh: NOPE: is required\n"),
        ("if true; then echo", "/system/bin/sh: syntax error: expected 'fi', found end of line\n"),
        ("echo a &", "/system/bin/sh: syntax error: '&' (background jobs) is not supported\n"),
    ],
)
def test_shell_errors(sim_phone, adb_server, cmdline, stderr):
    out = sh(adb_server, sim_phone, cmdline)
    assert (out.returncode, out.stdout, out.stderr) == (1, "", stderr)


def test_an_endless_loop_ends_when_the_client_goes(sim_phone, adb_server):
    # `adb shell` killed by a timeout closes the stream; the loop must stop, the phone stay up.
    import subprocess

    with pytest.raises(subprocess.TimeoutExpired):
        adb_server.adb("-s", sim_phone.serial, "shell", "while true; do :; done", check=False, timeout=1)
    assert sh(adb_server, sim_phone, "echo alive").stdout == "alive\n"
