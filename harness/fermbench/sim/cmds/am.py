"""`am instrument` (runs the host implementation of the fermbench runner) and `am force-stop`.

Only the fermbench runner's instrumentation exists on the simulated phone. Its output is the
runner's own `am instrument -r` text, streamed chunk by chunk as the run goes. Faults:
runner_crash ends the run after its first status block as a crashed process does;
runner_hang stops after the first status block and waits until the adb stream closes.
"""

from __future__ import annotations

from typing import Any

from ...runner.protocol import EXTERNAL_FILES_DIR, RUNNER_CLASS, RUNNER_PACKAGE
from .base import Ctx, command

_THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")


class _Stop(BaseException):
    """Ends the runner from inside its emit callback (a crash or a hang); not an Exception,
    so the runner's own error handling cannot turn it into a coded error."""


def _not_found(ctx: Ctx, component: str) -> int:
    """What `am instrument` prints on Android 8+ (am runs `cmd activity`) for a missing runner."""
    pkg, _, cls = component.partition("/")
    ctx.write("INSTRUMENTATION_STATUS: id=ActivityManagerService\n"
              f"INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{{{pkg}/{cls}}}\n"
              "INSTRUMENTATION_STATUS_CODE: -1\n")
    ctx.warn("Exception occurred while executing 'instrument':\n"
             f"android.util.AndroidException: INSTRUMENTATION_FAILED: {component}\n"
             "\tat com.android.server.am.ActivityManagerShellCommand.runInstrument(ActivityManagerShellCommand.java:1412)\n")
    return 255


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
        elif a in ("-w", "-r", "--no-window-animation", "--no-hidden-api-checks", "--no-isolated-storage",
                   "--no-restart"):
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
    if pkg != RUNNER_PACKAGE or cls != RUNNER_CLASS or ctx.state.package(pkg) is None:
        return _not_found(ctx, component)
    if "-w" not in flags or "-r" not in flags:
        ctx.warn("Error: the simulated phone runs instrumentation only with -w -r (wait, raw output)\n")
        return 255

    from ...runner.host import run_instrumentation

    state, faults = ctx.state, ctx.state.faults
    identity = state.identity
    blocks = 0

    def emit(text: str) -> None:
        nonlocal blocks
        if blocks >= 1 and faults.runner_crash:
            raise _Stop("crash")
        if blocks >= 1 and faults.runner_hang:
            ctx.cancel.wait()  # the process lives on, doing nothing, until the stream closes
            raise _Stop("hang")
        ctx.write(text)
        blocks += text.count("INSTRUMENTATION_STATUS_CODE:")

    external = ctx.state.host_path(EXTERNAL_FILES_DIR)
    external.mkdir(parents=True, exist_ok=True)
    pid = state.start_process(pkg)
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
            extras, state.host_path, emit, ctx.cancel, EXTERNAL_FILES_DIR,
            environment=lambda: _environment(ctx), device_facts=facts,
        )
    except _Stop as stop:
        if str(stop) == "hang":
            return 0  # nobody is listening any more
        state.log("E", "AndroidRuntime", "FATAL EXCEPTION: main")
        state.log("E", "AndroidRuntime", f"Process: {pkg}, PID: {pid}")
        state.log("E", "AndroidRuntime", "java.lang.RuntimeException: injected runner_crash fault")
        ctx.write("INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: 0\n")
        return 0
    finally:
        state.end_process(pkg)
    return code


@command("am")
def am(ctx: Ctx) -> int:
    if not ctx.args:
        ctx.warn("usage: am instrument|force-stop ... (what the simulated phone implements)\n")
        return 255
    verb, rest = ctx.args[0], ctx.args[1:]
    if verb == "instrument":
        return _instrument(ctx, rest)
    if verb == "force-stop":
        rest = [a for i, a in enumerate(rest) if a != "--user" and (i == 0 or rest[i - 1] != "--user")]
        if len(rest) != 1:
            ctx.warn("Error: force-stop needs one package name\n")
            return 255
        ctx.state.end_process(rest[0])  # nothing of the simulated app outlives a run
        return 0
    ctx.warn(f"Error: Unknown command: {verb}\n")
    return 255
