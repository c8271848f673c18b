"""Preflight: is a device ready to benchmark? Each problem is a refusal or a warning with its fix.

Used before every session (a refusal keeps that device out) and by `fermbench doctor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import FermbenchError
from ..runner import protocol as p
from ..store import RunnerInfo, Variant

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_BATTERY_PCT = 20
HOT_BATTERY_C = 40.0
SPACE_MARGIN_BYTES = 16 << 20  # results, logs and a second copy while pushing
THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")


@dataclass
class Check:
    name: str
    level: str  # ok | warn | fail
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" + (f"; {self.fix}" if self.fix else "")


@dataclass
class Preflight:
    serial: str
    checks: list[Check] = field(default_factory=list)
    info: p.InfoResult | None = None
    tags: list[str] = field(default_factory=list)

    def add(self, name: str, level: str, message: str, fix: str = "") -> Check:
        check = Check(name, level, message, fix)
        self.checks.append(check)
        return check

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.level == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.level == WARN]

    @property
    def ok(self) -> bool:
        return not self.failed

    def refusal(self) -> str:
        """One line naming the device, what is wrong and the fix (for DeviceError)."""
        return "; ".join(str(c) for c in self.failed)


def check_runner(pf: Preflight, info: p.InfoResult, runtime: str) -> str | None:
    """One runner flavor's `info`: None when it can run here, else why not (with a check line)."""
    pf.info = pf.info or info
    if info.protocol_version != p.PROTOCOL_VERSION:
        why = (f"the {runtime} runner speaks protocol {info.protocol_version}, the harness "
               f"{p.PROTOCOL_VERSION}; install the runner built from this repository (--apk PATH --install)")
        pf.add("runner", WARN, why)
        return why
    if runtime == p.RUNTIME_LITE and info.page_size > p.PAGE_SIZE_4K:
        why = (f"this device uses {info.page_size // 1024} KB memory pages; pytorch_android_lite's native libraries "
               f"are aligned for 4 KB and do not load there: use the executorch runtime "
               f"(--runtimes executorch-1.4.1, the runner's executorch flavor)")
        pf.add("page size", WARN, why)
        return why
    formats = (f"bytecode {info.bytecode_min}-{info.bytecode_max}" if info.bytecode_min is not None
               else f".pte {', '.join(info.pte_identifiers) or '?'}")
    pf.add("runner", OK, f"{runtime}: {info.runner_kind} runner {info.runner_version}, protocol "
                         f"{info.protocol_version}, {info.runtime_name} {info.runtime_version} ({formats}), "
                         f"pages {info.page_size // 1024} KB")
    return None


def check_model_file(pf: Preflight, runner: RunnerInfo | None, variant: Variant, meta: dict[str, Any]) -> str | None:
    """Can this runner read this exported file? None if so; else why (a failing check, the variant skipped)."""
    if runner is None:
        return None
    if runner.bytecode_min is not None and runner.bytecode_max is not None:
        lo, hi = runner.bytecode_min, runner.bytecode_max
        version = meta.get("bytecode_version")
        if version is not None and not lo <= version <= hi:
            check = pf.add("bytecode", FAIL, f"{variant.label} has bytecode {version}, the runtime reads {lo}-{hi}",
                           f"export it with --bytecode {hi}" if version > hi else "re-export with a newer torch")
            return str(check)
        pf.add("bytecode", OK, f"{variant.label}: bytecode {version} is within {lo}-{hi}")
        return None
    fmt = meta.get("pte_format")
    if runner.pte_identifiers and fmt and fmt not in runner.pte_identifiers:
        check = pf.add("pte format", FAIL, f"{variant.label} is a .pte of format {fmt}, the runner reads "
                                           f"{', '.join(runner.pte_identifiers)}",
                       "export with the ExecuTorch release the runner was built with (--runtimes)")
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
        pf.add("abi", FAIL, f"device ABIs {', '.join(device_abis)} are not in the APK's {', '.join(apk_abis)}",
               "build the runner with an abiFilters entry for this device")
    else:
        pf.add("abi", OK, f"device {', '.join(device_abis)}; APK {', '.join(apk_abis)}")


def check_space(pf: Preflight, free: int | None, needed: int) -> None:
    if free is None:
        return
    want = needed + SPACE_MARGIN_BYTES
    if free < want:
        pf.add("space", FAIL, f"{free / 1e6:.1f} MB free under {p.DEVICE_MODEL_DIR}, need {want / 1e6:.1f} MB",
               "free space on the device (delete files or apps) and run again")
    else:
        pf.add("space", OK, f"{free / 1e6:.0f} MB free")


def check_environment(pf: Preflight, level: int | None, charging: bool | None, temp_c: float | None,
                      thermal: int | None) -> None:
    if level is not None:
        if level < LOW_BATTERY_PCT and not charging:
            pf.add("battery", WARN, f"battery at {level}%", "charge the phone: low battery may throttle the CPU")
        else:
            pf.add("battery", OK, f"battery {level}%" + (" (charging)" if charging else ""))
    if temp_c is not None:
        if temp_c > HOT_BATTERY_C:
            pf.add("temperature", WARN, f"battery at {temp_c:.1f} C",
                   "let the phone cool down: results may be throttled")
        else:
            pf.add("temperature", OK, f"battery {temp_c:.1f} C")
    if thermal is not None:
        name = THERMAL_NAMES[thermal] if 0 <= thermal < len(THERMAL_NAMES) else str(thermal)
        if thermal >= 1:
            pf.add("thermal", WARN, f"thermal status {name}",
                   "let the phone cool down (off the charger, screen off) before measuring")
        else:
            pf.add("thermal", OK, "thermal status none")


def check_build(pf: Preflight, emulator: bool, debuggable: bool, simulated: bool = False) -> None:
    if simulated:
        pf.tags.append("simulated")
        pf.add("build", WARN, "fermbench simulated phone: its latencies are the host CPU's",
               "use a real phone for on-device numbers")
    if emulator:
        pf.tags.append("emulator")
        pf.add("build", WARN, "emulator: latencies say nothing about a phone", "use a real phone")
    if debuggable:
        pf.tags.append("debuggable")
        pf.add("build", WARN, "debuggable build (ro.debuggable=1): may run slower",
               "use a user build for published numbers")
    if not (emulator or debuggable or simulated):
        pf.add("build", OK, "user build on real hardware")
