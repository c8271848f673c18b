"""`fermbench runner build`: the runner APKs built by the project's Gradle wrapper.

    plan = plan_build(["executorch"], "release")   # finds JDK, SDK, Gradle, or ToolchainError
    apks = run_build(plan)                         # [app/build/outputs/apk/executorch/release/...apk]

Planning checks every prerequisite before anything runs; the plan's commands are plain argv
lists, so a test can read them, or run them against a fake `gradlew`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from . import toolchain as tc
from .flavors import BUILD_TYPES, BY_NAME, Flavor, default_project


class BuildError(ConfigError):
    """Gradle ran and failed, or left no APK where it should."""


@dataclass(frozen=True)
class BuildPlan:
    project: Path
    flavors: tuple[Flavor, ...]
    build_type: str  # release or debug
    jdk: tc.Jdk
    sdk: tc.Sdk
    gradle: tc.Gradle
    env: dict[str, str]  # this environment with JAVA_HOME and ANDROID_HOME set to what was checked

    @property
    def commands(self) -> list[list[str]]:
        """What runs in `project`, in order: the wrapper's generation when needed, then the build."""
        generate = [list(self.gradle.generator)] if self.gradle.generator else []
        return generate + [[str(self.gradle.wrapper), *(f.task(self.build_type) for f in self.flavors)]]

    def apk_dirs(self) -> dict[str, Path]:
        return {f.name: f.apk_dir(self.project, self.build_type) for f in self.flavors}


def check_project(project: Path) -> Path:
    if not (project / "app" / "build.gradle.kts").is_file():
        raise ConfigError(
            f"{project} is not the runner's Gradle project (no app/build.gradle.kts); run from a "
            "fermbench checkout or pass --project PATH/android-runner"
        )
    return project.resolve()


def plan_build(
    flavors: Sequence[str],
    build_type: str = "release",
    project: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> BuildPlan:
    """Everything the build needs, found and checked; ToolchainError names the first thing missing."""
    if build_type not in BUILD_TYPES:
        raise ConfigError(f"unknown build type {build_type!r}: choose one of {', '.join(BUILD_TYPES)}")
    unknown = [f for f in flavors if f not in BY_NAME]
    if unknown or not flavors:
        raise ConfigError(f"unknown runner flavor {', '.join(unknown) or '(none)'}: choose from {', '.join(BY_NAME)}")
    project = check_project(project or default_project())
    env = dict(os.environ if env is None else env)
    jdk = tc.find_jdk(env)
    sdk = tc.find_sdk(project, env)
    env.update(JAVA_HOME=str(jdk.home), ANDROID_HOME=str(sdk.root))  # Gradle uses exactly what was checked
    gradle = tc.find_gradle(project, env)
    return BuildPlan(project, tuple(BY_NAME[f] for f in dict.fromkeys(flavors)), build_type, jdk, sdk, gradle, env)


def run_build(plan: BuildPlan) -> list[Path]:
    """Run the plan's commands; the APKs they built."""
    *generate, build = plan.commands
    for argv in generate:
        _run(plan, argv)
        if tc.wrapper_pin(plan.project) != (plan.gradle.version, plan.gradle.sha256):
            raise BuildError(
                f"`gradle wrapper` changed the pinned distribution in {tc.WRAPPER_PROPERTIES}; restore "
                "it with `git checkout -- android-runner/gradle` and build again"
            )
    _run(plan, build)
    apks: list[Path] = []
    for flavor, folder in plan.apk_dirs().items():
        found = sorted(folder.glob("*.apk"))
        if not found:
            raise BuildError(
                f"Gradle finished but left no {flavor} APK in {folder}; run the build again with "
                "`./gradlew --info` in android-runner/ to see why"
            )
        apks.extend(found)
    return apks


def _run(plan: BuildPlan, argv: list[str]) -> None:
    """One command in the project; its output goes to stderr as it comes, so stdout keeps only
    the APK paths (for scripts)."""
    shown = " ".join([Path(argv[0]).name, *argv[1:]])
    try:
        with subprocess.Popen(
            argv,
            cwd=plan.project,
            env=plan.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stderr.write(line)
            code = proc.wait()
    except OSError as exc:
        raise BuildError(f"`{shown}` did not start ({exc}); check {argv[0]}") from None
    if code != 0:
        raise BuildError(f"`{shown}` exited {code} in {plan.project}; its output above says why")
