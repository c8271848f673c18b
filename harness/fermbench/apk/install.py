"""A runner on a device: install an APK and check that it answers, and say what is installed.

One code path for `fermbench runner install`, `fermbench run --install` and `fermbench runner
status`; the runner is asked `info` exactly as a benchmark session asks it (Target.run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..checklist import Preflight
from ..errors import ConfigError, RunnerError
from ..runner import protocol as p
from ..targets import Target
from .archive import apk_runtime
from .fit import check_flavor, check_runner
from .flavors import BY_RUNTIME, FLAVORS, Flavor

if TYPE_CHECKING:
    from ..device import PackageInfo
    from ..targets import AndroidTarget

INFO_TIMEOUT_S = 120.0  # one `info` call: starts the runner process, loads no model


def install_hint(flavor: Flavor, serial: str) -> str:
    return (
        f"build it with `fermbench runner build --flavor {flavor.name}` and install it with "
        f"`fermbench runner install --device {serial}`"
    )


@dataclass(frozen=True)
class Installed:
    apk: Path
    flavor: Flavor
    info: p.InfoResult
    problem: str | None  # why this device cannot benchmark with it (e.g. Lite on 16 KB pages), with the fix


def runner_flavor(apk: Path) -> Flavor:
    """The runner flavor an APK is; ConfigError when it is not a fermbench runner."""
    runtime = apk_runtime(apk)
    if runtime is None:
        raise ConfigError(
            f"{apk} is not a fermbench runner APK (no PyTorch Lite or ExecuTorch library, package not "
            f"{' or '.join(f.package for f in FLAVORS)}); build one with `fermbench runner build`"
        )
    return BY_RUNTIME[runtime]


def runner_info(target: Target, runtime: str, timeout: float = INFO_TIMEOUT_S) -> p.InfoResult:
    """The runner's `info`; RunnerError code protocol_mismatch, with the fix, when it speaks
    another protocol than this harness."""
    flavor = BY_RUNTIME[runtime]
    try:
        info = target.run(runtime, p.info_args(run_id=f"info-{runtime}"), timeout, p.InfoResult).result
    except RunnerError as exc:
        # a runner that checks the harness's `protocol` extra refuses it (bad_arguments); one that
        # does not answers in its own protocol, which the decoder refuses
        if exc.code == "protocol_mismatch" or (exc.code == "bad_arguments" and "protocol" in str(exc)):
            spoken = re.search(r"(?:runner speaks protocol|this runner speaks) (\w+)", str(exc))
            raise RunnerError(
                f"device {target.serial}: the {flavor.name} runner ({flavor.package}) speaks protocol "
                f"{spoken.group(1) if spoken else 'unknown'}, this fermbench {p.PROTOCOL_VERSION}; "
                f"{install_hint(flavor, target.serial)} from this checkout",
                "protocol_mismatch",
            ) from None
        raise
    if info.runtime_name != runtime:
        raise RunnerError(
            f"device {target.serial}: {flavor.package} answers as a {info.runtime_name} runner, not "
            f"{runtime}; {install_hint(flavor, target.serial)}",
            "bad_result",
        )
    return info


def install_runner(target: Target, apk: Path, timeout: float = INFO_TIMEOUT_S) -> Installed:
    """Install a runner APK, then check that it answers `info` in this harness's protocol."""
    flavor = runner_flavor(apk)
    target.install(apk)
    try:
        info = runner_info(target, flavor.runtime, timeout)
    except RunnerError as exc:
        if exc.code != "not_installed":
            raise
        raise ConfigError(
            f"{apk} installed, but it has no fermbench runner instrumentation "
            f"({p.runner_component(flavor.runtime)}): it is not a runner APK; build one with "
            "`fermbench runner build`"
        ) from None
    return Installed(apk, flavor, info, check_runner(Preflight(target.serial), info, flavor.runtime))


@dataclass(frozen=True)
class RunnerStatus:
    flavor: Flavor
    package: PackageInfo | None  # None: not installed
    info: p.InfoResult | None  # None: not installed, or it did not answer
    problem: str | None  # what is off and what to do; None when it can benchmark on this device


def runner_status(target: AndroidTarget, timeout: float = INFO_TIMEOUT_S) -> list[RunnerStatus]:
    """Every runner flavor on the device: installed or not, which version, and its `info`."""
    facts = target.facts()
    out: list[RunnerStatus] = []
    for flavor in FLAVORS:
        scratch = Preflight(target.serial)  # the checks' wording, as doctor shows it
        misfit = check_flavor(scratch, flavor, facts.abis, facts.sdk)
        package = target.device.package_info(flavor.package)
        if package is None:
            hint = misfit or f"not installed; {install_hint(flavor, target.serial)}"
            out.append(RunnerStatus(flavor, None, None, hint))
            continue
        try:
            info = runner_info(target, flavor.runtime, timeout)
        except RunnerError as exc:
            why = (
                str(exc)
                if exc.code == "protocol_mismatch"
                else (f"`info` failed: {exc}; reinstall it: {install_hint(flavor, target.serial)}")
            )
            out.append(RunnerStatus(flavor, package, None, why))
            continue
        problem = check_runner(scratch, info, flavor.runtime)
        out.append(RunnerStatus(flavor, package, info, problem))
    return out
