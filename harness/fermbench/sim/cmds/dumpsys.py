"""`dumpsys` for the services fermbench reads: battery, thermalservice, meminfo PKG, power,
package PKG. Any other service: "Can't find service", as on a phone without it."""

from __future__ import annotations

import time

from ..process import Ctx
from .pm import dump_package
from .registry import command


def _battery(ctx: Ctx) -> int:
    with ctx.state.lock:
        b = ctx.state.battery
        ctx.write(
            "Current Battery Service state:\n"
            f"  AC powered: {str(b.ac_powered).lower()}\n"
            f"  USB powered: {str(b.usb_powered).lower()}\n"
            "  Wireless powered: false\n"
            "  Dock powered: false\n"
            "  Max charging current: 0\n"
            "  Max charging voltage: 0\n"
            "  Charge counter: 3000000\n"
            f"  status: {b.status}\n"
            f"  health: {b.health}\n"
            "  present: true\n"
            f"  level: {b.level}\n"
            "  scale: 100\n"
            f"  voltage: {b.voltage}\n"
            f"  temperature: {b.temperature}\n"
            "  technology: Li-ion\n"
        )
    return 0


def _thermal(ctx: Ctx) -> int:
    with ctx.state.lock:
        status, temp = ctx.state.thermal_status, ctx.state.battery.temperature / 10
    cpu = 35.0 + 10 * status
    ctx.write(
        "IsStatusOverride: false\n"
        "ThermalEventListeners:\n\tcallbacks: 1\n\tkilled: false\n\tbroadcasts count: -1\n"
        "ThermalStatusListeners:\n\tcallbacks: 1\n\tkilled: false\n\tbroadcasts count: -1\n"
        f"Thermal Status: {status}\n"
        "Cached temperatures:\n"
        f"\tTemperature{{mValue={temp}, mType=2, mName=battery, mStatus={status}}}\n"
        "HAL Ready: true\n"
        "HAL connection:\n\tThermalHAL AIDL 1  connected: yes\n"
        "Current temperatures from HAL:\n"
        f"\tTemperature{{mValue={cpu}, mType=0, mName=cpu0, mStatus={status}}}\n"
        f"\tTemperature{{mValue={temp}, mType=2, mName=battery, mStatus={status}}}\n"
    )
    return 0


def _host_memory_kb() -> tuple[int, int]:
    """PSS and RSS of this process: the host process is what runs the simulated app."""
    values = {"Pss": 0, "Rss": 0}
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["Pss"], values["Rss"]


def _meminfo(ctx: Ctx, args: list[str]) -> int:
    targets = [a for a in args if not a.startswith("-")]
    if not targets:
        ctx.write(
            "Applications Memory Usage (in Kilobytes):\n(the simulated phone reports single processes: "
            "dumpsys meminfo PACKAGE)\n"
        )
        return 0
    name = targets[0]
    with ctx.state.lock:
        pid = ctx.state.processes.get(name)
    if pid is None:
        ctx.write(f"No process found for: {name}\n")
        return 0
    pss, rss = _host_memory_kb()
    uptime = int((time.time() - ctx.state.boot_time) * 1000)
    ctx.write(
        "Applications Memory Usage (in Kilobytes):\n"
        f"Uptime: {uptime} Realtime: {uptime}\n\n"
        f"** MEMINFO in pid {pid} [{name}] **\n"
        "                   Pss      Rss\n"
        "                 Total    Total\n"
        "                ------   ------\n"
        f"        TOTAL {pss:>8} {rss:>8}\n\n"
        " App Summary\n"
        "                       Pss(KB)                        Rss(KB)\n"
        "                        ------                         ------\n"
        f"           TOTAL PSS: {pss:>8}            TOTAL RSS: {rss:>8}       TOTAL SWAP PSS:        0\n"
    )
    return 0


def _power(ctx: Ctx) -> int:
    on = ctx.state.screen_on
    ctx.write(
        "POWER MANAGER (dumpsys power)\n\n"
        "Power Manager State:\n"
        f"  mWakefulness={'Awake' if on else 'Asleep'}\n"
        f"  mIsPowered={str(ctx.state.battery.usb_powered or ctx.state.battery.ac_powered).lower()}\n"
        f"  mHoldingDisplaySuspendBlocker={str(on).lower()}\n"
        f"Display Power: state={'ON' if on else 'OFF'}\n"
    )
    return 0


@command("dumpsys", summary="services: battery, thermalservice, meminfo PACKAGE, power, package PACKAGE")
def dumpsys(ctx: Ctx) -> int:
    if not ctx.args:
        ctx.warn(
            "dumpsys: the simulated phone dumps one service at a time: battery, thermalservice, "
            "meminfo, power, package\n"
        )
        return 1
    service, rest = ctx.args[0], ctx.args[1:]
    if service == "battery":
        return _battery(ctx)
    if service == "thermalservice":
        return _thermal(ctx)
    if service == "meminfo":
        return _meminfo(ctx, rest)
    if service == "power":
        return _power(ctx)
    if service == "package" and rest:
        return dump_package(ctx, rest[0])
    ctx.warn(f"Can't find service: {service}\n")
    return 1
