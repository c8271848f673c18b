"""The runner's Gradle project as the host sees it: its product flavors, what each needs of a
device, and where Gradle leaves each APK. tests/apk/test_runner_flavors.py checks this table
against android-runner/app/build.gradle.kts, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import runtimes

COMPILE_SDK = 35  # compileSdk: the SDK must hold platforms/android-35
BUILD_TYPES = ("release", "debug")


@dataclass(frozen=True)
class Flavor:
    """A runtime's runner flavor: its name, package and device needs are the registry's (runtimes/)."""

    spec: runtimes.Runtime

    @property
    def name(self) -> str:  # the Gradle product flavor (assemble<Name><Type>)
        return self.spec.flavor

    @property
    def runtime(self) -> str:  # the runner runtime it carries
        return self.spec.name

    @property
    def abis(self) -> tuple[str, ...]:  # its ndk.abiFilters: a device needs one of them
        return self.spec.device.abis

    @property
    def min_sdk(self) -> int:
        return self.spec.device.min_sdk

    @property
    def package(self) -> str:
        return self.spec.package

    def task(self, build_type: str) -> str:
        return f":app:assemble{self.name[0].upper()}{self.name[1:]}{build_type.capitalize()}"

    def apk_dir(self, project: Path, build_type: str) -> Path:
        return project / "app" / "build" / "outputs" / "apk" / self.name / build_type


FLAVORS = tuple(Flavor(r) for r in runtimes.RUNTIMES.values())
BY_NAME = {f.name: f for f in FLAVORS}
BY_RUNTIME = {f.runtime: f for f in FLAVORS}


def default_project() -> Path:
    """android-runner/ of the checkout this fermbench runs from, else of the working directory."""
    beside = Path(__file__).resolve().parents[3] / "android-runner"
    return beside if beside.is_dir() else Path("android-runner")
