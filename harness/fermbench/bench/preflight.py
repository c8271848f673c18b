"""Preflight: is a device ready to benchmark? Each problem is a refusal or a warning with its fix.

Used before every session (a refusal keeps that device out) and by `fermbench doctor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..runner import protocol as p

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


def check_runner(pf: Preflight, info: p.InfoResult) -> None:
    pf.info = info
    if info.protocol_version != p.PROTOCOL_VERSION:
        pf.add("runner", FAIL, f"runner speaks protocol {info.protocol_version}, harness {p.PROTOCOL_VERSION}",
               "install the runner APK built from this repository (--apk PATH --install)")
    else:
        pf.add("runner", OK, f"{info.runner_kind} runner {info.runner_version}, protocol {info.protocol_version}, "
                             f"{info.runtime_name} {info.runtime_version} (bytecode {info.bytecode_min}-{info.bytecode_max})")


def check_bytecode(pf: Preflight, models: dict[str, dict[str, Any]]) -> dict[str, str]:
    """{model: why} for models whose bytecode the runtime cannot read; each gets a failing check."""
    if pf.info is None:
        return {}
    lo, hi = pf.info.bytecode_min, pf.info.bytecode_max
    bad = {}
    for name, meta in sorted(models.items()):
        version = meta.get("bytecode_version")
        if version is not None and not lo <= version <= hi:
            check = pf.add("bytecode", FAIL, f"{name} has bytecode {version}, the runtime reads {lo}-{hi}",
                           f"export it with --bytecode {hi}" if version > hi else "re-export with a newer torch")
            bad[name] = str(check)
    if not bad and models:
        pf.add("bytecode", OK, f"every model's bytecode is within {lo}-{hi}")
    return bad


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
