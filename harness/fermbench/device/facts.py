"""What a phone says about itself, gathered in one shell round trip and parsed into DeviceFacts.

The probe prints each section after a marker line; every part may fail on some phone (no
thermalservice before Android 10, no cpufreq readable), and a missing part becomes None, never
a guess.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

TMP_DIR = "/data/local/tmp"
_MARK = "=== fermbench:"
EMULATOR_HARDWARE = {"ranchu", "goldfish", "vbox86", "gce_x86", "cutf_cvm"}
THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")

# One shell command; each section starts with a marker so that a failing part cannot shift
# the others. `2>/dev/null` because absent services print to stderr and we only parse stdout.
PROBE = "; ".join(
    f"echo '{_MARK}{name} ==='; {cmd} 2>/dev/null"
    for name, cmd in (
        ("getprop", "getprop"),
        ("df", f"df -k {TMP_DIR}"),
        ("battery", "dumpsys battery"),
        ("thermal", "dumpsys thermalservice"),
        ("power", "dumpsys power"),
        ("cpus", "cat /sys/devices/system/cpu/possible"),
        ("governors", "grep . /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor"),
    )
)


@dataclass(frozen=True)
class DeviceFacts:
    """A phone's identity and state at one moment. None: the phone did not say."""

    serial: str
    model: str
    manufacturer: str
    brand: str
    device: str
    hardware: str  # ro.hardware (e.g. "ranchu" on emulators)
    soc: str  # "Google GS201", or the board platform where ro.soc.* are absent (before Android 12)
    abis: tuple[str, ...]
    release: str
    sdk: int | None
    fingerprint: str
    build_type: str
    is_emulator: bool
    is_simulated: bool  # fermbench's simulated phone
    debuggable: bool
    free_tmp_bytes: int | None  # free space under /data/local/tmp
    battery_level: int | None  # percent
    battery_temp_c: float | None
    charging: bool | None
    thermal_status: int | None  # PowerManager.THERMAL_STATUS_* (0 none .. 6 shutdown)
    screen_on: bool | None
    cpu_cores: int | None
    cpu_governors: dict[int, str] = field(default_factory=dict)  # cpu index -> scaling_governor

    @property
    def thermal_status_name(self) -> str | None:
        if self.thermal_status is None or not 0 <= self.thermal_status < len(THERMAL_NAMES):
            return None
        return THERMAL_NAMES[self.thermal_status]

    def warnings(self) -> list[str]:
        """Conditions that make timings less trustworthy, each with its advice."""
        out = []
        if self.is_simulated:
            out.append("simulated phone: timings are the host CPU's, not a phone's")
        elif self.is_emulator:
            out.append("emulator: timings do not represent a phone")
        if self.debuggable:
            out.append("debuggable build: runtime checks may slow inference; prefer a user build")
        if self.battery_level is not None and self.battery_level < 20 and not self.charging:
            out.append(f"battery at {self.battery_level}%: power saving may throttle the CPU; charge it")
        if self.thermal_status is not None and self.thermal_status >= 2:
            out.append(f"thermal status {self.thermal_status_name}: the phone is throttling; let it cool")
        if self.screen_on is False:
            out.append(
                "screen off: the phone may sleep mid-run; keep it awake (`settings put global "
                "stay_on_while_plugged_in 7`)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["abis"] = list(self.abis)
        d["cpu_governors"] = {str(k): v for k, v in self.cpu_governors.items()}
        d["thermal_status_name"] = self.thermal_status_name
        return d


def split_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(_MARK) and line.endswith("==="):
            current = sections.setdefault(line[len(_MARK) : -3].strip(), [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def parse_getprop(text: str) -> dict[str, str]:
    """`[key]: [value]` lines; a value may span lines (rare, but real)."""
    props: dict[str, str] = {}
    for m in re.finditer(r"^\[([^\]]+)\]: \[(.*?)\]$", text, re.M | re.S):
        props[m.group(1)] = m.group(2)
    return props


def parse_df_available(text: str) -> int | None:
    """Bytes available from `df -k PATH` (toybox columns: ... Available Use% Mounted-on)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    tokens = " ".join(lines[1:]).split()  # a long device name may wrap onto its own line
    try:
        return int(tokens[-3]) * 1024
    except (IndexError, ValueError):
        return None


def _int_after(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text, re.M)
    return int(m.group(1)) if m else None


def parse_battery(text: str) -> tuple[int | None, float | None, bool | None]:
    level = _int_after(r"^\s*level:\s*(-?\d+)", text)
    temp = _int_after(r"^\s*temperature:\s*(-?\d+)", text)
    status = _int_after(r"^\s*status:\s*(\d+)", text)
    powered = re.findall(r"^\s*(?:AC|USB|Wireless) powered:\s*(true|false)", text, re.M)
    charging = None
    if status is not None:
        charging = status in (2, 5)  # BATTERY_STATUS_CHARGING, _FULL (on power)
    elif powered:
        charging = "true" in powered
    return level, (temp / 10 if temp is not None else None), charging


def parse_thermal(text: str) -> int | None:
    return _int_after(r"^Thermal Status:\s*(\d+)", text)


def parse_screen(text: str) -> bool | None:
    m = re.search(r"mWakefulness=(\w+)", text)
    if m:
        return m.group(1) == "Awake"
    m = re.search(r"Display Power: state=(\w+)", text)
    return m.group(1) == "ON" if m else None


def parse_cpu_count(text: str) -> int | None:
    """`0-7` or `0-3,4-7` (sysfs cpu list) -> 8."""
    total = 0
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            total += (int(hi) if hi else int(lo)) - int(lo) + 1
        except ValueError:
            return None
    return total or None


def parse_governors(text: str) -> dict[int, str]:
    out = {}
    for m in re.finditer(r"/cpu(\d+)/cpufreq/scaling_governor:(\S+)", text):
        out[int(m.group(1))] = m.group(2)
    return dict(sorted(out.items()))


def build_facts(serial: str, probe_output: str) -> DeviceFacts:
    s = split_sections(probe_output)
    props = parse_getprop(s.get("getprop", ""))
    level, temp_c, charging = parse_battery(s.get("battery", ""))
    hardware = props.get("ro.hardware", "")
    soc_parts = [props.get("ro.soc.manufacturer", ""), props.get("ro.soc.model", "")]
    soc = " ".join(p for p in soc_parts if p) or props.get("ro.board.platform", "") or hardware
    abis = props.get("ro.product.cpu.abilist") or props.get("ro.product.cpu.abi", "")
    sdk = props.get("ro.build.version.sdk", "")
    return DeviceFacts(
        serial=serial,
        model=props.get("ro.product.model", ""),
        manufacturer=props.get("ro.product.manufacturer", ""),
        brand=props.get("ro.product.brand", ""),
        device=props.get("ro.product.device", ""),
        hardware=hardware,
        soc=soc,
        abis=tuple(a for a in abis.split(",") if a),
        release=props.get("ro.build.version.release", ""),
        sdk=int(sdk) if sdk.isdigit() else None,
        fingerprint=props.get("ro.build.fingerprint", ""),
        build_type=props.get("ro.build.type", ""),
        is_emulator=props.get("ro.kernel.qemu") == "1"
        or props.get("ro.boot.qemu") == "1"
        or hardware in EMULATOR_HARDWARE,
        is_simulated=props.get("ro.fermbench.simulated") == "1",
        debuggable=props.get("ro.debuggable") == "1",
        free_tmp_bytes=parse_df_available(s.get("df", "")),
        battery_level=level,
        battery_temp_c=temp_c,
        charging=charging,
        thermal_status=parse_thermal(s.get("thermal", "")),
        screen_on=parse_screen(s.get("power", "")),
        cpu_cores=parse_cpu_count(s.get("cpus", "")),
        cpu_governors=parse_governors(s.get("governors", "")),
    )
