"""Does a runner fit a device: a flavor's ABIs and minimum API level, and an installed runner's
`info` (its protocol, the page size its runtime's libraries load on). Each answer is a check
line on the device's checklist and, when it does not fit, why with the fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import runtimes
from ..checklist import OK, WARN, Preflight
from ..runner import protocol as p
from .flavors import FLAVORS, Flavor


def check_runner(pf: Preflight, info: p.InfoResult, runtime: str) -> str | None:
    """One runner flavor's `info`: None when it can run here, else why not (with a check line)."""
    pf.info = pf.info or info
    if info.protocol_version != p.PROTOCOL_VERSION:
        why = (
            f"the {runtime} runner speaks protocol {info.protocol_version}, the harness "
            f"{p.PROTOCOL_VERSION}; install the runner built from this repository (--apk PATH --install)"
        )
        pf.add("runner", WARN, why)
        return why
    too_large = check_runner_page_size(pf, runtime, info.page_size)
    if too_large:
        return too_large
    formats = (
        f"bytecode {info.bytecode_min}-{info.bytecode_max}"
        if info.bytecode_min is not None
        else f".pte {', '.join(info.pte_identifiers) or '?'}"
    )
    pf.add(
        "runner",
        OK,
        f"{runtime}: {info.runner_kind} runner {info.runner_version}, protocol "
        f"{info.protocol_version}, {info.runtime_name} {info.runtime_version} ({formats}), "
        f"pages {info.page_size // 1024} KB",
    )
    return None


def _flavor_misfit(flavor: Flavor, abis: list[str], sdk: int | None) -> tuple[str, str] | None:
    """(check name, why) when the flavor cannot install on a device with these ABIs and API level."""
    if abis and not set(abis) & set(flavor.abis):
        return "abi", (
            f"the {flavor.name} runner has native libraries for {', '.join(flavor.abis)} only, this "
            f"device runs {', '.join(abis)}"
        )
    if sdk is not None and sdk < flavor.min_sdk:
        return "android version", f"the {flavor.name} runner needs Android API {flavor.min_sdk}+, this device has {sdk}"
    return None


def check_flavor(pf: Preflight, flavor: Flavor, device_abis: Iterable[str], sdk: int | None) -> str | None:
    """Can this runner flavor install on the device at all (its ABIs, its minSdk)? None if so, else why."""
    abis = list(device_abis)
    misfit = _flavor_misfit(flavor, abis, sdk)
    if misfit is None:
        shared = ", ".join(a for a in abis if a in flavor.abis) or "device ABIs unknown"
        pf.add("abi", OK, f"the {flavor.name} runner fits: {shared}; API {sdk or '?'} (it needs {flavor.min_sdk}+)")
        return None
    name, why = misfit
    others = [f.name for f in FLAVORS if f is not flavor and _flavor_misfit(f, abis, sdk) is None]
    check = pf.add(name, WARN, why, f"use the {others[0]} flavor" if others else "benchmark on another device")
    return f"{check.message}: {check.fix}"


def check_runner_page_size(pf: Preflight, runtime: str, page_size: int) -> str | None:
    """A runtime whose native libraries are aligned below the device's page size does not load
    there (Lite's are 4 KB aligned): why not, and the runtimes that do load."""
    spec = runtimes.get(runtime)
    if page_size <= spec.device.library_align:
        return None
    fits = [r for r in runtimes.RUNTIMES.values() if page_size <= r.device.library_align]
    check = pf.add(
        "page size",
        WARN,
        f"this device uses {page_size // 1024} KB memory pages; {spec.label}'s "
        f"native libraries are aligned for {spec.device.library_align // 1024} KB and do not load there",
        f"use the {fits[0].name} runtime (--runtimes {fits[0].default_version}, the runner's {fits[0].flavor} flavor)"
        if fits
        else "benchmark on a device with smaller pages",
    )
    return f"{check.message}: {check.fix}"
