"""The `am instrument -r` parser on transcripts in the real output format.

The transcripts are rebuilt from AOSP's sources: `am instrument` runs com.android.commands.am.Instrument
(raw mode: TextStatusReporter prints each bundle with its keys sorted, and `onError:` lines; a failed
start throws AndroidException("INSTRUMENTATION_FAILED: <component>"), which BaseCommand prints to
stderr with its trace and exit code 1); ActivityManagerService reports a missing instrumentation as a
status bundle {Error, id=ActivityManagerService} with code -1, finishes a crashed runner's
instrumentation with {shortMsg, longMsg} (longMsg = shortMsg + ": " + the message) and code 0
(Activity.RESULT_CANCELED), and a process that died without a report with shortMsg=Process crashed.
Stack-trace line numbers are illustrative."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from fermbench.errors import RunnerError
from fermbench.runner import protocol as p
from fermbench.runner.instrument_output import InstrumentReader, parse_instrument_output

INFO_JSON = json.dumps(
    {
        "protocol_version": p.PROTOCOL_VERSION,
        "mode": "info",
        "runner_kind": "android",
        "runner_version": "0.1.0",
        "runtime_name": "pytorch_lite",
        "runtime_version": "2.1.0",
        "settings": {"mode": "info"},
        "model_format": "ptl",
        "bytecode_min": 4,
        "bytecode_max": 9,
        "pte_identifiers": [],
        "page_size": 4096,
        "abis": ["arm64-v8a"],
        "cpu_count": 8,
        "debuggable": False,
        "device": {"model": "Pixel 7", "sdk_int": 34},
    },
    separators=(",", ":"),
)

OK_RUN = f"""INSTRUMENTATION_STATUS: fermbench_phase=load
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: 1
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: fermbench_result={INFO_JSON}
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: 0
INSTRUMENTATION_RESULT: fermbench_status=ok
INSTRUMENTATION_CODE: -1
"""

# AndroidJUnitRunner-style status with a stack trace: the value spans many lines.
MULTILINE = """INSTRUMENTATION_STATUS: class=org.example.FooTest
INSTRUMENTATION_STATUS: current=1
INSTRUMENTATION_STATUS: id=AndroidJUnitRunner
INSTRUMENTATION_STATUS: stack=java.lang.AssertionError: expected:<1> but was:<2>
\tat org.junit.Assert.fail(Assert.java:89)
\tat org.example.FooTest.bar(FooTest.java:12)

INSTRUMENTATION_STATUS: stream=
Error in bar(org.example.FooTest):
java.lang.AssertionError: expected:<1> but was:<2>
INSTRUMENTATION_STATUS: test=bar
INSTRUMENTATION_STATUS_CODE: -2
INSTRUMENTATION_RESULT: stream=

Time: 0.012

FAILURES!!!
Tests run: 1,  Failures: 1

INSTRUMENTATION_CODE: -1
"""

RUNNING = """INSTRUMENTATION_STATUS: fermbench_phase=load
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: 1
INSTRUMENTATION_STATUS: fermbench_phase=timed
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: 1
"""
RUNNER = "org.fermbench.runner/org.fermbench.runner.BenchmarkInstrumentation"

# The process died with no crash report (lmkd's SIGKILL when memory ran out, or a native crash
# that debuggerd did not report first): AMS's cleanup finishes the instrumentation.
KILLED = (
    RUNNING
    + """INSTRUMENTATION_RESULT: shortMsg=Process crashed.
INSTRUMENTATION_CODE: 0
"""
)
# A native crash reported by debuggerd (NativeCrashListener: class "Native crash", message strsignal).
NATIVE_CRASH = (
    RUNNING
    + """INSTRUMENTATION_RESULT: longMsg=Native crash: Segmentation fault
INSTRUMENTATION_RESULT: shortMsg=Native crash
INSTRUMENTATION_CODE: 0
"""
)
# An exception nobody caught on a thread the runner does not guard.
JAVA_CRASH = (
    RUNNING
    + """INSTRUMENTATION_RESULT: longMsg=java.lang.IllegalStateException: Module has been destroyed
INSTRUMENTATION_RESULT: shortMsg=java.lang.IllegalStateException
INSTRUMENTATION_CODE: 0
"""
)
# The Java heap ran out where the runner could not catch it.
JAVA_OOM = (
    RUNNING
    + """INSTRUMENTATION_RESULT: longMsg=java.lang.OutOfMemoryError: Failed to allocate a 268435472 byte \
allocation with 25165824 free bytes and 118MB until OOM, target footprint 148939896, growth limit 268435456
INSTRUMENTATION_RESULT: shortMsg=java.lang.OutOfMemoryError
INSTRUMENTATION_CODE: 0
""".replace("\\\n", "")
)

CRASHED_WITH_EXCEPTION = """INSTRUMENTATION_RESULT: longMsg=java.lang.UnsatisfiedLinkError: dlopen failed: library "libpytorch_jni_lite.so" not found
\tat java.lang.Runtime.loadLibrary0(Runtime.java:1082)
INSTRUMENTATION_RESULT: shortMsg=java.lang.UnsatisfiedLinkError
INSTRUMENTATION_CODE: 0
"""

# No runner installed: what stdout and stderr of `adb shell am instrument -w -r ...` hold (shell v2
# keeps them apart; the legacy shell, or 2>&1, joins them).
NOT_INSTALLED_STDOUT = f"""INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{{{RUNNER}}}
INSTRUMENTATION_STATUS: id=ActivityManagerService
INSTRUMENTATION_STATUS_CODE: -1
onError: commandError=true message=INSTRUMENTATION_FAILED: {RUNNER}
"""
NOT_INSTALLED_STDERR = f"""android.util.AndroidException: INSTRUMENTATION_FAILED: {RUNNER}
\tat com.android.commands.am.Instrument.run(Instrument.java:546)
\tat com.android.commands.am.Am.runInstrument(Am.java:196)
\tat com.android.commands.am.Am.onRun(Am.java:80)
\tat com.android.internal.os.BaseCommand.run(BaseCommand.java:60)
\tat com.android.commands.am.Am.main(Am.java:50)
\tat com.android.internal.os.RuntimeInit.nativeFinishInit(Native Method)
\tat com.android.internal.os.RuntimeInit.main(RuntimeInit.java:399)
"""

# The system server died while the runner ran: am's watcher lost its binder.
ABORTED = (
    RUNNING
    + """onError: commandError=false message=INSTRUMENTATION_ABORTED: System has crashed.
INSTRUMENTATION_ABORTED: System has crashed.
"""
)


@pytest.mark.parametrize(
    "text",
    [
        OK_RUN,
        MULTILINE,
        OK_RUN.replace("\n", "\r\n"),
        KILLED,
        JAVA_OOM,
        ABORTED,
        NOT_INSTALLED_STDOUT + NOT_INSTALLED_STDERR,
        RUNNING[:-7],
    ],
)
@pytest.mark.parametrize("size", [1, 2, 7, 64])
def test_output_read_as_it_streams_in_is_the_output_read_at_once(text, size):
    """The simulated phone reads the runner's output chunk by chunk with the same parser; any cut
    (inside a line, between \r and \n) reads as the whole text does, and each bundle is handed on
    as soon as its STATUS_CODE line is complete."""
    seen: list[tuple[str, dict[str, str]]] = []
    ends: list[tuple[dict[str, str], int | None]] = []
    chunks: list[str] = []
    reader = InstrumentReader(
        on_status=lambda s: seen.append(("".join(chunks), dict(s.values))),
        on_end=lambda result, code: ends.append((dict(result), code)),
    )
    for i in range(0, len(text), size):
        chunks.append(text[i : i + size])
        reader.feed(chunks[-1])
    streamed, whole = reader.finish(), parse_instrument_output(text)
    assert streamed == whole
    assert [values for _, values in seen] == [s.values for s in whole.statuses]

    def complete_codes(fed: str) -> int:
        return len(re.findall(r"INSTRUMENTATION_STATUS_CODE: [^\n]*\n", fed))

    for k, (fed, _) in enumerate(seen, 1):  # the k-th bundle goes on with the chunk that completed it
        assert complete_codes(fed) >= k > complete_codes(fed[:-size])
    assert ends == ([(whole.result, whole.code)] if whole.code is not None else [])


def test_statuses_in_order_with_codes_and_final_result():
    run = parse_instrument_output(OK_RUN)
    assert [s.code for s in run.statuses] == [1, 0]
    assert run.statuses[0].values == {"fermbench_phase": "load", "fermbench_protocol": "2", "id": "fermbench"}
    assert run.statuses[1]["fermbench_result"] == INFO_JSON  # '=' inside the JSON value kept
    assert run.result == {"fermbench_status": "ok"} and run.code == -1
    assert not run.crashed and not run.truncated and run.partial_status is None
    info = p.decode_result(run)
    assert isinstance(info, p.InfoResult) and info.device["model"] == "Pixel 7" and info.runner_kind == "android"


def test_values_that_span_lines():
    run = parse_instrument_output(MULTILINE)
    status = run.statuses[0]
    assert status.code == -2 and status["test"] == "bar"
    assert status["stack"].splitlines()[0] == "java.lang.AssertionError: expected:<1> but was:<2>"
    assert "\tat org.example.FooTest.bar(FooTest.java:12)" in status["stack"]
    assert status["stream"].startswith("\nError in bar(org.example.FooTest):")
    assert "Tests run: 1,  Failures: 1" in run.result["stream"]
    assert run.code == -1 and run.other_lines == []


def test_crlf_line_ends_from_a_pty():
    run = parse_instrument_output(OK_RUN.replace("\n", "\r\n"))
    assert run.code == -1 and run.statuses[1]["fermbench_result"] == INFO_JSON


@pytest.mark.parametrize(
    "text, words",
    [
        (KILLED, "Process crashed."),
        (NATIVE_CRASH, "Native crash: Segmentation fault"),
        (JAVA_CRASH, "java.lang.IllegalStateException: Module has been destroyed"),
        (JAVA_OOM, "java.lang.OutOfMemoryError: Failed to allocate a 268435472 byte allocation"),
    ],
    ids=["killed", "native", "java_exception", "java_oom"],
)
def test_process_crashes_are_crashed_with_what_am_said(text, words):
    run = parse_instrument_output(text)
    assert run.crashed and run.code == 0 and not run.truncated and run.aborted is None
    assert [s["fermbench_phase"] for s in run.statuses] == ["load", "timed"]  # where it died
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "crashed" and words in str(err.value)


def test_crash_by_exception_keeps_the_long_message():
    run = parse_instrument_output(CRASHED_WITH_EXCEPTION)
    assert run.crashed and "UnsatisfiedLinkError" in run.crash_message
    assert "Runtime.loadLibrary0" in run.result["longMsg"]


@pytest.mark.parametrize(
    "cut", [40, 200, OK_RUN.index("INSTRUMENTATION_STATUS_CODE: 0"), OK_RUN.index("INSTRUMENTATION_CODE")]
)
def test_stream_cut_off_midway_is_truncated(cut):
    run = parse_instrument_output(OK_RUN[:cut])
    assert run.truncated and run.code is None
    assert all(s.code in (0, 1) for s in run.statuses)
    if cut <= OK_RUN.index("INSTRUMENTATION_STATUS_CODE: 0"):
        assert run.partial_status is not None  # the unfinished bundle is kept apart
        with pytest.raises(RunnerError) as err:
            p.decode_result(run)
        assert err.value.code == "truncated"
    else:
        assert isinstance(p.decode_result(run), p.InfoResult)  # result bundle complete before the cut


@pytest.mark.parametrize(
    "text",
    [NOT_INSTALLED_STDOUT, NOT_INSTALLED_STDOUT + NOT_INSTALLED_STDERR, NOT_INSTALLED_STDERR + NOT_INSTALLED_STDOUT],
    ids=["stdout", "stdout_then_stderr", "stderr_then_stdout"],
)
def test_runner_not_installed_from_stdout_alone_or_with_stderr(text):
    run = parse_instrument_output(text)
    assert run.not_installed == p.RUNNER_COMPONENT and not run.truncated and run.code is None
    assert run.statuses[0].code == -1 and run.statuses[0]["Error"].startswith("Unable to find instrumentation info")
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "not_installed" and p.RUNNER_COMPONENT in str(err.value)


def test_system_server_death_is_aborted_not_truncated():
    run = parse_instrument_output(ABORTED)
    assert run.aborted == "System has crashed." and not run.truncated and not run.crashed
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "aborted" and "System has crashed." in str(err.value)


def test_a_status_bundle_split_across_lines_keeps_every_line_of_its_value():
    """A runtime's message with a C++ trace and a blank line, mid-bundle: later keys still parse."""
    text = (
        RUNNING
        + """INSTRUMENTATION_STATUS: fermbench_error_code=model_load_failed
INSTRUMENTATION_STATUS: fermbench_error_message=cannot load /data/local/tmp/fermbench/a.pte: load_method failed
[method.cpp:1240] Error resizing tensor at input 0

Exception raised from load_method at runtime/executor/method.cpp:811
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: -2
INSTRUMENTATION_RESULT: fermbench_status=error
INSTRUMENTATION_CODE: -1
"""
    )
    run = parse_instrument_output(text)
    bundle = run.statuses[-1]
    assert bundle.code == -2 and bundle["fermbench_protocol"] == "2" and bundle["id"] == "fermbench"
    assert bundle["fermbench_error_message"].split("\n") == [
        "cannot load /data/local/tmp/fermbench/a.pte: load_method failed",
        "[method.cpp:1240] Error resizing tensor at input 0",
        "",
        "Exception raised from load_method at runtime/executor/method.cpp:811",
    ]
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "model_load_failed" and "method.cpp:811" in str(err.value)


def test_coded_error_status_raises_with_its_code():
    text = """INSTRUMENTATION_STATUS: fermbench_error_code=model_load_failed
INSTRUMENTATION_STATUS: fermbench_error_message=cannot load /data/local/tmp/fermbench/a.ptl: Lite Interpreter version number does not match.
The model version must be between 4 and 7 but the model version is 8
INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: -2
INSTRUMENTATION_RESULT: fermbench_status=error
INSTRUMENTATION_CODE: -1
"""
    run = parse_instrument_output(text)
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "model_load_failed"
    assert "between 4 and 7 but the model version is 8" in str(err.value)


def _file_run(path: str, data: bytes, sha: str | None = None) -> str:
    sha = sha or hashlib.sha256(data).hexdigest()
    return f"""INSTRUMENTATION_STATUS: fermbench_protocol=2
INSTRUMENTATION_STATUS: fermbench_result_bytes={len(data)}
INSTRUMENTATION_STATUS: fermbench_result_file={path}
INSTRUMENTATION_STATUS: fermbench_result_sha256={sha}
INSTRUMENTATION_STATUS: id=fermbench
INSTRUMENTATION_STATUS_CODE: 0
INSTRUMENTATION_RESULT: fermbench_status=ok
INSTRUMENTATION_CODE: -1
"""


def test_result_file_is_pulled_and_checked():
    data = INFO_JSON.encode()
    path = f"{p.EXTERNAL_FILES_DIR}/results/r1.json"
    pulled: list[str] = []

    def fetch(device_path: str) -> bytes:
        pulled.append(device_path)
        return data

    assert isinstance(p.decode_result(parse_instrument_output(_file_run(path, data)), fetch), p.InfoResult)
    assert pulled == [path]
    with pytest.raises(RunnerError) as err:
        p.decode_result(parse_instrument_output(_file_run(path, data, sha="0" * 64)), fetch)
    assert err.value.code == "bad_result"
    with pytest.raises(RunnerError) as err:
        p.decode_result(parse_instrument_output(_file_run(path, data)), lambda _: data[:-3])
    assert err.value.code == "bad_result"


def test_result_from_another_protocol_or_shape_is_refused():
    version = f'"protocol_version":{p.PROTOCOL_VERSION}'
    newer = OK_RUN.replace(version, f'"protocol_version":{p.PROTOCOL_VERSION + 1}')
    assert newer != OK_RUN
    with pytest.raises(RunnerError) as err:
        p.decode_result(parse_instrument_output(newer))
    assert err.value.code == "protocol_mismatch"
    extra = OK_RUN.replace('"cpu_count":8', '"cpu_count":8,"gpu":"none"')
    with pytest.raises(RunnerError) as err:
        p.decode_result(parse_instrument_output(extra))
    assert err.value.code == "bad_result" and "gpu" in str(err.value)
    cut_json = OK_RUN.replace(INFO_JSON, INFO_JSON[:50])
    with pytest.raises(RunnerError) as err:
        p.decode_result(parse_instrument_output(cut_json))
    assert err.value.code == "bad_result"


def test_finished_without_any_result():
    run = parse_instrument_output("INSTRUMENTATION_RESULT: fermbench_status=ok\nINSTRUMENTATION_CODE: -1\n")
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "no_result"
