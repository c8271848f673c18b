"""Preflight: is a device ready to benchmark? Each problem is a refusal or a warning with its fix.

Used before every session (a refusal keeps that device out) and by `fermbench doctor`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import runtimes

# The checklist and the runner's own checks live below (apk/ uses them too); named here as well,
# since the session and doctor read them as pre.X.
from ..apk.fit import check_flavor as check_flavor
from ..apk.fit import check_runner as check_runner
from ..apk.fit import check_runner_page_size as check_runner_page_size
from ..checklist import FAIL as FAIL
from ..checklist import OK as OK
from ..checklist import WARN as WARN
from ..checklist import Check as Check
from ..checklist import Preflight as Preflight
from ..errors import FermbenchError
from ..runner import protocol as p
from ..store import RunnerInfo, Variant

if TYPE_CHECKING:
    from ..device.versions import AdbBinary

LOW_BATTERY_PCT = 20
HOT_BATTERY_C = 40.0
SPACE_MARGIN_BYTES = 16 << 20  # results, logs and a second copy while pushing
THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")


def check_model_file(pf: Preflight, runner: RunnerInfo | None, variant: Variant, meta: dict[str, Any]) -> str | None:
    """Can this runner read this exported file? None if so; else why (a failing check, the variant skipped)."""
    if runner is None:
        return None
    if runner.bytecode_min is not None and runner.bytecode_max is not None:
        lo, hi = runner.bytecode_min, runner.bytecode_max
        version = meta.get("bytecode_version")
        if version is not None and not lo <= version <= hi:
            check = pf.add(
                "bytecode",
                FAIL,
                f"{variant.label} has bytecode {version}, the runtime reads {lo}-{hi}",
                f"export it with --bytecode {hi}" if version > hi else "re-export with a newer torch",
            )
            return str(check)
        pf.add("bytecode", OK, f"{variant.label}: bytecode {version} is within {lo}-{hi}")
        return None
    fmt = meta.get("pte_format")
    if runner.pte_identifiers and fmt and fmt not in runner.pte_identifiers:
        check = pf.add(
            "pte format",
            FAIL,
            f"{variant.label} is a .pte of format {fmt}, the runner reads {', '.join(runner.pte_identifiers)}",
            "export with the ExecuTorch release the runner was built with (--runtimes)",
        )
        return str(check)
    if fmt:
        pf.add("pte format", OK, f"{variant.label}: {fmt}")
    return None


def check_apk_alignment(pf: Preflight, apk: Path, page_size: int | None = None) -> None:
    """Each native library's LOAD alignment; on a device with larger pages than that, a refusal."""
    from ..apk.elf import read_apk_alignment

    try:
        report = read_apk_alignment(apk)
    except FermbenchError as exc:
        pf.add("apk", FAIL, str(exc), "pass the runner APK that Gradle built")
        return
    for lib in report.libraries:
        level = OK if lib.compatible_16k else (FAIL if page_size and page_size > lib.min_align else WARN)
        fix = "" if lib.compatible_16k else "build with NDK r28+ or the executorch flavor (16 KB aligned)"
        pf.add("16 KB pages", level, f"{apk.name} {lib.path}: LOAD aligned to {lib.min_align // 1024} KB", fix)
    if not report.libraries:
        pf.add("16 KB pages", OK, f"{apk.name} has no native libraries")


def check_abi(pf: Preflight, device_abis: list[str], apk_abis: Iterable[str] | None) -> None:
    if apk_abis is None:
        return
    apk_abis = sorted(apk_abis)
    if not apk_abis:
        pf.add("abi", OK, "the APK has no native libraries")
    elif not set(device_abis) & set(apk_abis):
        pf.add(
            "abi",
            FAIL,
            f"device ABIs {', '.join(device_abis)} are not in the APK's {', '.join(apk_abis)}",
            "build the runner with an abiFilters entry for this device",
        )
    else:
        pf.add("abi", OK, f"device {', '.join(device_abis)}; APK {', '.join(apk_abis)}")


def check_space(pf: Preflight, free: int | None, needed: int) -> None:
    if free is None:
        return
    want = needed + SPACE_MARGIN_BYTES
    if free < want:
        pf.add(
            "space",
            FAIL,
            f"{free / 1e6:.1f} MB free under {p.DEVICE_MODEL_DIR}, need {want / 1e6:.1f} MB",
            "free space on the device (delete files or apps) and run again",
        )
    else:
        pf.add("space", OK, f"{free / 1e6:.0f} MB free")


def check_environment(
    pf: Preflight, level: int | None, charging: bool | None, temp_c: float | None, thermal: int | None
) -> None:
    if level is not None:
        if level < LOW_BATTERY_PCT and not charging:
            pf.add("battery", WARN, f"battery at {level}%", "charge the phone: low battery may throttle the CPU")
        else:
            pf.add("battery", OK, f"battery {level}%" + (" (charging)" if charging else ""))
    if temp_c is not None:
        if temp_c > HOT_BATTERY_C:
            pf.add(
                "temperature", WARN, f"battery at {temp_c:.1f} C", "let the phone cool down: results may be throttled"
            )
        else:
            pf.add("temperature", OK, f"battery {temp_c:.1f} C")
    if thermal is not None:
        name = THERMAL_NAMES[thermal] if 0 <= thermal < len(THERMAL_NAMES) else str(thermal)
        if thermal >= 1:
            pf.add(
                "thermal",
                WARN,
                f"thermal status {name}",
                "let the phone cool down (off the charger, screen off) before measuring",
            )
        else:
            pf.add("thermal", OK, "thermal status none")


def check_build(pf: Preflight, emulator: bool, debuggable: bool, simulated: bool = False) -> None:
    if simulated:
        pf.tags.append("simulated")
        pf.add(
            "build",
            WARN,
            "fermbench simulated phone: its latencies are the host CPU's",
            "use a real phone for on-device numbers",
        )
    if emulator:
        pf.tags.append("emulator")
        pf.add("build", WARN, "emulator: latencies say nothing about a phone", "use a real phone")
    if debuggable:
        pf.tags.append("debuggable")
        pf.add(
            "build",
            WARN,
            "debuggable build (ro.debuggable=1): may run slower",
            "use a user build for published numbers",
        )
    if not (emulator or debuggable or simulated):
        pf.add("build", OK, "user build on real hardware")


ADB_FIX = (
    "install platform-tools (`sudo apt install adb`, or Android Studio's SDK Manager), or set FERMBENCH_ADB "
    "to an adb binary"
)


def check_adb_binary(pf: Preflight, path: str | None, binary: AdbBinary | None) -> None:
    """The adb binary fermbench starts servers with (the server may run without it: a warning)."""
    if path is None:
        pf.add("adb", WARN, "no adb binary found (FERMBENCH_ADB, the adbutils wheel, PATH)", ADB_FIX)
    elif binary is None:
        pf.add("adb", WARN, f"{path} does not answer `adb version`", ADB_FIX)
    else:
        pf.add("adb", OK, f"adb {binary.release} (protocol {binary.server_version}) at {path}")


def check_adb_server(pf: Preflight, port: int, version: int, binary: AdbBinary | None, host: str = "127.0.0.1") -> None:
    where = f"port {port}" if host == "127.0.0.1" else f"{host}:{port}"
    if binary is not None and version != binary.server_version:
        pf.add(
            "adb server",
            WARN,
            f"the server on {where} is adb protocol {version}, the adb binary "
            f"{binary.server_version}: each kills the other's server when it runs",
            "use one adb: stop this server with the adb that started it (`adb kill-server`), and point "
            "FERMBENCH_ADB or PATH at one adb",
        )
    else:
        pf.add("adb server", OK, f"answers on {where} (protocol {version})")


def check_build_tools(pf: Preflight, project: Path, env: Mapping[str, str]) -> None:
    """What `fermbench runner build` needs: the Gradle project, a JDK 17, the Android SDK, Gradle."""
    from ..apk import toolchain as tc
    from ..apk.build import check_project
    from ..apk.flavors import COMPILE_SDK

    try:
        project = check_project(project)
    except FermbenchError as exc:
        pf.add("runner project", FAIL, str(exc))
        return
    env = dict(env)
    jdk: tc.Jdk | None = None
    try:
        jdk = tc.find_jdk(env)
        env["JAVA_HOME"] = str(jdk.home)  # the JDK Gradle will run on
        pf.add("jdk", OK, f"JDK {jdk.version} at {jdk.home} ({jdk.source})")
    except tc.ToolchainError as exc:
        pf.add("jdk", FAIL, exc.what, exc.fix)
    try:
        sdk = tc.find_sdk(project, env)
        pf.add("android sdk", OK, f"{sdk.root} ({sdk.source}) with platforms/android-{COMPILE_SDK}")
    except tc.ToolchainError as exc:
        pf.add("android sdk", FAIL, exc.what, exc.fix)
    if jdk is None:
        pf.add("gradle", WARN, "not checked: Gradle needs the JDK first", "fix the JDK, then run this again")
        return
    try:
        gradle = tc.find_gradle(project, env)
    except tc.ToolchainError as exc:
        pf.add("gradle", FAIL, exc.what, exc.fix)
        return
    pf.add(
        "gradle",
        OK,
        f"{gradle.version}, "
        + (
            f"its wrapper generated by {gradle.generator[0]} on the first build"
            if gradle.generator
            else f"through {gradle.wrapper}"
        ),
    )


def check_runtime_packages(pf: Preflight) -> None:
    """A registered runtime whose Python modules (its exporter and host engine) are missing: the
    line that installs them. Without them the other runtimes still run."""
    for spec in runtimes.RUNTIMES.values():
        missing = runtimes.missing_modules(spec)
        if missing:
            why = f"{', '.join(missing)} not installed: --runtimes {spec.default_version} cannot run"
            pf.add(f"{spec.name} runtime", WARN, why, spec.install_hint)
