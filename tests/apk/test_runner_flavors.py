"""The host's table of runner flavors (apk/flavors.py) against the Gradle project it describes,
and the emulator workflow's task names and APK paths against what `runner build` runs and prints."""

from __future__ import annotations

import re
from pathlib import Path

from fermbench.apk.flavors import COMPILE_SDK, FLAVORS, default_project
from fermbench.runner import protocol as p

ROOT = Path(__file__).resolve().parents[2]
GRADLE = (ROOT / "android-runner" / "app" / "build.gradle.kts").read_text()
WORKFLOW = (ROOT / ".github" / "workflows" / "android-emulator.yml").read_text()


def flavor_block(name: str) -> str:
    return re.search(rf'create\("{name}"\) \{{(.*?)\n        \}}', GRADLE, re.S).group(1)


def test_compile_sdk_and_every_flavor_match_build_gradle():
    assert f"compileSdk = {COMPILE_SDK}" in GRADLE
    default_min = int(re.search(r"defaultConfig \{[^}]*minSdk = (\d+)", GRADLE, re.S).group(1))
    gradle_flavors = re.findall(r'create\("(\w+)"\)', GRADLE)
    assert [name for name in gradle_flavors if name in {f.name for f in FLAVORS}] == [f.name for f in FLAVORS]
    # A Gradle flavor the host's table lacks must be one whose runtime the harness does not know
    # yet (litert until the runtime registry of issue 25 lists it; tests/runner/test_litert_flavor.py
    # checks its block meanwhile): a known runtime without its flavor here is a drift.
    assert set(gradle_flavors) - {f.name for f in FLAVORS} <= {"litert"} - set(p.RUNTIMES)
    for flavor in FLAVORS:
        block = flavor_block(flavor.name)
        abis = re.search(r"abiFilters \+= listOf\(([^)]*)\)", block).group(1)
        assert tuple(re.findall(r'"([^"]+)"', abis)) == flavor.abis
        min_sdk = re.search(r"minSdk = (\d+)", block)
        assert (int(min_sdk.group(1)) if min_sdk else default_min) == flavor.min_sdk
        suffix = re.search(r'applicationIdSuffix = "([^"]+)"', block)
        base = re.search(r'applicationId = "([^"]+)"', GRADLE).group(1)
        assert base + (suffix.group(1) if suffix else "") == flavor.package == p.runner_package(flavor.runtime)
    assert {f.runtime for f in FLAVORS} == set(p.RUNTIMES)


def test_tasks_and_apk_folders_are_the_ones_the_workflow_builds_and_uploads(tmp_path):
    lite, et = FLAVORS[:2]
    # The workflow's script builds every flavor with `fermbench runner build` (no --flavor: all),
    # whose Gradle tasks are these flavors' (tests/apk/test_runner_build.py runs them on a fake gradlew).
    script = (Path(__file__).resolve().parents[2] / "ci" / "android-emulator.sh").read_text()
    assert 'fermbench runner build --project "$PROJECT"' in script and "--flavor" not in script
    # and finds each flavor's APK where Gradle leaves it
    apk = 'apk="$PROJECT/app/build/outputs/apk/$flavor/release/app-$flavor-release.apk"'
    assert apk in script
    assert (lite.task("release"), et.task("release")) == (
        ":app:assemblePytorchLiteRelease",
        ":app:assembleExecutorchRelease",
    )
    for flavor in FLAVORS:
        folder = flavor.apk_dir(Path("android-runner"), "release")
        assert f"{folder}/app-{flavor.name}-release.apk" in WORKFLOW  # uploaded as artifacts
        assert apk.replace("$flavor", flavor.name).endswith(
            f'{folder.relative_to("android-runner")}/app-{flavor.name}-release.apk"'
        )
    assert lite.task("debug") == ":app:assemblePytorchLiteDebug"


def test_the_default_project_is_this_checkouts():
    assert default_project() == ROOT / "android-runner"
