"""`am instrument` (runs the host implementation of the fermbench runner), `am start` and
`am force-stop`.

Only the fermbench runner's instrumentation exists on the simulated phone. Its output is the
runner's own `am instrument -r` text, streamed chunk by chunk as the run goes; the same text is
read back into the phone's log (tag FermbenchRunner: each phase, the result, an error), as an
app's own log lines would show the run in `adb logcat`. Faults: runner_crash ends the run after
its first status block as a crashed process does; runner_hang stops after the first status
block and waits until the adb stream closes. No simulated package has activities, so `am start`
answers as for a missing activity class.
"""

from __future__ import annotations

from typing import Any

from ...runner.host import run_instrumentation
from ...runner.instrument_output import InstrumentReader
from ...runner.protocol import (
    KEY_ERROR_CODE,
    KEY_ERROR_MESSAGE,
    KEY_PHASE,
    KEY_RESULT,
    KEY_RESULT_FILE,
    KEY_STATUS,
    RUNNER_CLASS,
    RUNNER_PACKAGES,
    results_base_dir,
)
from ..process import CommandFailed, Ctx
from .pm import package_uid
from .registry import command

RUNNER_LOG_TAG = "FermbenchRunner"
_SHOWN_RESULT = 300  # characters of an inline result JSON shown in the log line

_THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")


class _Stop(BaseException):
    """Ends the runner from inside its emit callback (a crash or a hang); not an Exception,
    so the runner's own error handling cannot turn it into a coded error."""


def _not_found(ctx: Ctx, component: str) -> int:
    """What `am instrument` prints on Android 8+ (am runs `cmd activity`) for a missing runner."""
    pkg, _, cls = component.partition("/")
    ctx.write(
        "INSTRUMENTATION_STATUS: id=ActivityManagerService\n"
        f"INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{{{pkg}/{cls}}}\n"
        "INSTRUMENTATION_STATUS_CODE: -1\n"
    )
    ctx.warn(
        "Exception occurred while executing 'instrument':\n"
        f"android.util.AndroidException: INSTRUMENTATION_FAILED: {component}\n"
        "\tat com.android.server.am.ActivityManagerShellCommand.runInstrument(ActivityManagerShellCommand.java:1412)\n"
    )
    return 255


class _RunnerLog:
    """Reads the `am instrument -r` text as it is emitted (with the one parser the host reads it
    with) and writes the run's events to the phone's log from the runner's process: a phase, a
    result, an error, the end."""

    def __init__(self, ctx: Ctx, pid: int, uid: int):
        self._ctx, self._pid, self._uid = ctx, pid, uid
        self._reader = InstrumentReader(on_status=lambda status: self._status(status.values), on_end=self._end)

    def observe(self, text: str) -> None:
        self._reader.feed(text)

    def _end(self, result: dict[str, str], code: int | None) -> None:
        status = result.get(KEY_STATUS) or result.get("shortMsg", "")
        self._log("I", f"run finished: {status} (code {code})")

    def _status(self, values: dict[str, str]) -> None:
        if KEY_PHASE in values:
            self._log("I", f"phase {values[KEY_PHASE]}")
        if KEY_ERROR_CODE in values:
            self._log("E", f"error {values[KEY_ERROR_CODE]}: {values.get(KEY_ERROR_MESSAGE, '')}")
        if KEY_RESULT in values:
            result = values[KEY_RESULT]
            shown = result if len(result) <= _SHOWN_RESULT else result[:_SHOWN_RESULT] + "..."
            self._log("I", f"result {shown}")
        if KEY_RESULT_FILE in values:
            self._log("I", f"result written to {values[KEY_RESULT_FILE]}")

    def _log(self, level: str, message: str) -> None:
        self._ctx.state.log(level, RUNNER_LOG_TAG, message, pid=self._pid, uid=self._uid)


def _parse_instrument(ctx: Ctx, args: list[str]) -> tuple[dict[str, str], set[str], str] | int:
    extras: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args) - 1:
        a = args[i]
        if a in ("-e", "--es"):
            if i + 2 >= len(args) - 1:
                ctx.warn(f"Error: {a} needs a key and a value\n")
                return 255
            extras[args[i + 1]] = args[i + 2]
            i += 3
        elif a in (
            "-w",
            "-r",
            "--no-window-animation",
            "--no-hidden-api-checks",
            "--no-isolated-storage",
            "--no-restart",
        ):
            flags.add(a)
            i += 1
        elif a in ("--user", "--abi", "-p"):
            i += 2
        else:
            ctx.warn(f"Error: Unknown option: {a}\n")
            return 255
    if i != len(args) - 1:
        ctx.warn("Error: No instrumentation component given\n")
        return 255
    return extras, flags, args[-1]


def _environment(ctx: Ctx) -> dict[str, Any]:
    s = ctx.state
    with s.lock:
        b = s.battery
        return {
            "thermal_status": s.thermal_status,
            "thermal_status_name": _THERMAL_NAMES[s.thermal_status] if 0 <= s.thermal_status < 7 else None,
            "battery_temp_c": b.temperature / 10,
            "battery_level_pct": b.level,
            "charging": b.status == 2,
        }


def _instrument(ctx: Ctx, args: list[str]) -> int:
    parsed = _parse_instrument(ctx, args)
    if isinstance(parsed, int):
        return parsed
    extras, flags, component = parsed
    pkg, _, cls = component.partition("/")
    if cls.startswith("."):
        cls = pkg + cls
    installed = ctx.state.package(pkg)
    runtime = next((rt for rt, package in RUNNER_PACKAGES.items() if package == pkg), None)
    if runtime is None or cls != RUNNER_CLASS or installed is None:
        return _not_found(ctx, component)
    if "-w" not in flags or "-r" not in flags:
        ctx.warn("Error: the simulated phone runs instrumentation only with -w -r (wait, raw output)\n")
        return 255

    state, faults = ctx.state, ctx.state.faults
    identity = state.identity
    blocks = 0
    external_dir = results_base_dir(runtime, state.identity.sdk)  # as the runner's AndroidPlatform.resultsDir
    external = ctx.state.host_path(external_dir)
    external.mkdir(parents=True, exist_ok=True)
    pid = state.start_process(pkg)
    uid = package_uid(installed)
    run_log = _RunnerLog(ctx, pid, uid)
    state.log("I", "ActivityManager", f"Start instrumentation {component} for user 0", buffer="system")

    def emit(text: str) -> None:
        nonlocal blocks
        if blocks >= 1 and faults.runner_crash:
            raise _Stop("crash")
        if blocks >= 1 and faults.runner_hang:
            ctx.cancel.wait()  # the process lives on, doing nothing, until the stream closes
            raise _Stop("hang")
        ctx.write(text)
        run_log.observe(text)
        blocks += text.count("INSTRUMENTATION_STATUS_CODE:")

    facts = {
        "manufacturer": identity.manufacturer,
        "model": identity.model,
        "os": f"Android {identity.release}",
        "sdk_int": identity.sdk,
        "is_emulator": identity.is_emulator,
        "note": "fermbench simulated phone: the host CPU runs the model",
    }
    try:
        code = run_instrumentation(
            extras,
            state.host_path,
            emit,
            ctx.cancel,
            external_dir,
            runtime=runtime,
            environment=lambda: _environment(ctx),
            device_facts=facts,
            page_size=identity.page_size,
        )
    except _Stop as stop:
        if str(stop) == "hang":
            return 0  # nobody is listening any more
        for line in (
            "FATAL EXCEPTION: main",
            f"Process: {pkg}, PID: {pid}",
            "java.lang.RuntimeException: injected runner_crash fault",
        ):
            state.log("E", "AndroidRuntime", line, buffer="crash", pid=pid, uid=uid)
        crashed = "INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: 0\n"
        ctx.write(crashed)
        run_log.observe(crashed)
        return 0
    finally:
        state.end_process(pkg, "instrumentation finished")
    return code


def _intent(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """The intent options of `am start` (the ones scripts use) and what is left."""
    keys = {
        "-a": "act",
        "-d": "dat",
        "-t": "typ",
        "-c": "cat",
        "-n": "cmp",
        "-f": "flg",
        "--user": "user",
        "-e": "extra",
        "--es": "extra",
        "--ei": "extra",
        "--ez": "extra",
    }
    intent: dict[str, str] = {}
    rest = list(args)
    while rest and rest[0].startswith("-"):
        opt = rest.pop(0)
        if opt in ("-W", "-S", "--activity-clear-top", "--activity-new-task", "--activity-single-top"):
            intent[opt] = "1"
            continue
        if opt not in keys:
            raise CommandFailed(f"Error: Unknown option: {opt}", 255)
        wanted = 2 if keys[opt] == "extra" else 1
        if len(rest) < wanted:
            raise CommandFailed(f'Error: Argument expected after "{opt}"', 255)
        values = [rest.pop(0) for _ in range(wanted)]
        intent[keys[opt]] = " ".join(values) if keys[opt] != "extra" else "1"
    return intent, rest


def _start(ctx: Ctx, args: list[str]) -> int:
    intent, rest = _intent(args)
    if rest and "cmp" not in intent and "/" in rest[0]:
        intent["cmp"] = rest.pop(0)  # `am start PKG/.Activity`, a bare component
    shown = " ".join(
        f"{k}=[{v}]" if k == "cat" else f"{k}={v}"
        for k, v in intent.items()
        if k in ("act", "cat", "dat", "typ", "flg", "cmp")
    )
    text = f"Intent {{ {shown} }}"
    ctx.write(f"Starting: {text}\n")
    out = ctx.write if "-W" in intent else ctx.warn
    if "cmp" in intent:
        pkg, _, cls = intent["cmp"].partition("/")
        full = pkg + cls if cls.startswith(".") else cls
        ctx.state.log("W", "ActivityTaskManager", f"Unable to find activity {pkg}/{full}", buffer="system")
        out(f"Error type 3\nError: Activity class {{{pkg}/{full}}} does not exist.\n")
    else:
        out(f"Error: Activity not started, unable to resolve {text}\n")
    return 0


def _force_stop(ctx: Ctx, args: list[str]) -> int:
    rest = [a for i, a in enumerate(args) if a != "--user" and (i == 0 or args[i - 1] != "--user")]
    if len(rest) != 1:
        raise CommandFailed("Error: force-stop needs one package name", 255)
    ctx.state.log("I", "ActivityManager", f"Force stopping {rest[0]} appid=0 user=0: from pid 1234", buffer="system")
    ctx.state.end_process(rest[0], "force-stop")  # nothing of the simulated app outlives a run
    return 0


# Verbs of a phone's am that the simulated one does not carry out.
_NOT_SIMULATED = (
    "startservice",
    "stopservice",
    "broadcast",
    "kill",
    "kill-all",
    "profile",
    "dumpheap",
    "set-debug-app",
    "clear-debug-app",
    "monitor",
    "stack",
    "task",
    "get-config",
)


@command(
    "am",
    summary="activity manager: instrument -w -r [-e KEY VALUE]... COMPONENT (the fermbench runner), "
    "start [-W -a -c -d -n ...] (no simulated package has activities), force-stop PACKAGE, "
    "get-current-user",
)
def am(ctx: Ctx) -> int:
    if not ctx.args:
        ctx.write(
            "Activity manager (activity) commands: instrument, start, force-stop (what the simulated "
            "phone implements)\n"
        )
        return 255
    verb, rest = ctx.args[0], ctx.args[1:]
    if verb == "instrument":
        return _instrument(ctx, rest)
    if verb in ("start", "start-activity"):
        return _start(ctx, rest)
    if verb == "force-stop":
        return _force_stop(ctx, rest)
    if verb == "get-current-user":
        ctx.write("0\n")  # the phone's one user, the system user 0
        return 0
    if verb in _NOT_SIMULATED:
        raise CommandFailed(f"Error: 'am {verb}' is not simulated by the fermbench phone", 255)
    ctx.write(f"Unknown command: {verb}\n")
    return 255
