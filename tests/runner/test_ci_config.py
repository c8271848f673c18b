"""What the emulator workflow and its script must keep, checked here because they run on GitHub only:
the pinned and checksummed Gradle, a validated wrapper, snapshot-free emulators with cached AVDs,
a CPU-only torch, and the three runner flavors built and run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = (ROOT / ".github" / "workflows" / "android-emulator.yml").read_text()
SCRIPT = (ROOT / "ci" / "android-emulator.sh").read_text()
RUNNER = ROOT / "android-runner"


def _properties() -> dict[str, str]:
    lines = (RUNNER / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_gradle_is_pinned_by_checksum_and_the_workflow_uses_the_same_one():
    props = _properties()
    version = re.fullmatch(
        r"https\\://services\.gradle\.org/distributions/gradle-([0-9.]+)-bin\.zip", props["distributionUrl"]
    ).group(1)
    assert re.fullmatch(r"[0-9a-f]{64}", props["distributionSha256Sum"])
    assert f'GRADLE_VERSION: "{version}"' in WORKFLOW
    assert f'GRADLE_SHA256: "{props["distributionSha256Sum"]}"' in WORKFLOW
    assert "--gradle-distribution-sha256-sum" in WORKFLOW  # the generated wrapper keeps the checksum
    assert "uses: gradle/actions/wrapper-validation@v4" in WORKFLOW
    # validated before `runner build` runs it
    assert WORKFLOW.index("wrapper-validation") < WORKFLOW.index("bash ci/android-emulator.sh")


def test_no_unvalidated_wrapper_jar_is_committed():
    ignored = (RUNNER / ".gitignore").read_text().splitlines()
    assert {"/gradlew", "/gradlew.bat", "/gradle/wrapper/gradle-wrapper.jar"} <= set(ignored)
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list tracked files")
    tracked = subprocess.run(
        ["git", "ls-files", "android-runner"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [f for f in tracked if f.endswith(("gradle-wrapper.jar", "gradlew", "gradlew.bat"))]


def test_every_emulator_boots_without_a_snapshot_and_avds_and_gradle_are_cached():
    options = re.findall(r"emulator-options: (.*)", WORKFLOW)
    assert len(options) == 2 and all("-no-snapshot" in o.split() for o in options)
    assert "uses: gradle/actions/setup-gradle@v4" in WORKFLOW  # caches ~/.gradle
    assert "uses: actions/cache/restore@v4" in WORKFLOW and "uses: actions/cache/save@v4" in WORKFLOW
    assert WORKFLOW.count("~/.android/avd/*") == 2 and WORKFLOW.count("force-avd-creation: false") == 2


GRADLE_FLAVORS = re.findall(r'create\("(\w+)"\)', (RUNNER / "app" / "build.gradle.kts").read_text())


def test_every_flavor_is_built_and_run():
    # The script builds with `fermbench runner build` (every flavor fermbench knows) and runs the
    # flavors FLAVORS names; the workflow names every flavor of the Gradle project, and uploads each APK.
    assert GRADLE_FLAVORS == ["pytorchLite", "executorch", "litert"]
    assert 'gradle) fermbench runner build --project "$PROJECT" ;;' in SCRIPT
    assert f'FLAVORS: "{",".join(GRADLE_FLAVORS)}"' in WORKFLOW
    for flavor in GRADLE_FLAVORS:
        assert f"apk/{flavor}/release/app-{flavor}-release.apk" in WORKFLOW  # uploaded
        assert re.search(rf"^        {flavor}\) echo \S+ ;;$", SCRIPT, re.M)  # its runtime for `run`
    assert 'apk="$PROJECT/app/build/outputs/apk/$flavor/release/app-$flavor-release.apk"' in SCRIPT
    assert "bash ci/android-emulator.sh" in WORKFLOW
    assert WORKFLOW.index("wrapper-validation") < WORKFLOW.index("bash ci/android-emulator.sh")


def test_the_cpu_torch_index_is_required_before_anything_is_installed():
    python_tests = (ROOT / ".github" / "workflows" / "python-tests.yml").read_text()
    for workflow in (WORKFLOW, python_tests):
        assert "TORCH_INDEX: ${{ vars.TORCH_INDEX }}" in workflow
        first_step = workflow[workflow.index("steps:") :].split("- ", 2)[1]
        assert 'if [ -z "$TORCH_INDEX" ]' in first_step and "::error::TORCH_INDEX is not set" in first_step
    assert 'torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}' in SCRIPT
    assert 'torch==2.13.0 ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}' in (ROOT / ".ci" / "run").read_text()


def test_every_step_has_a_time_limit_and_the_avd_room_for_the_apks():
    python_tests = (ROOT / ".github" / "workflows" / "python-tests.yml").read_text()
    for workflow in (WORKFLOW, python_tests):
        steps = re.split(r"\n      - ", workflow[workflow.index("steps:") :])[1:]
        plain_uses = ("uses: actions/", "uses: gradle/")  # setup and cache actions end by themselves
        for step in steps:
            if step.startswith(plain_uses) or "\n        uses: actions/cache" in step:
                continue
            assert "timeout-minutes:" in step, step.splitlines()[0]
    # three APKs, the zoo's exports for three runtimes and their results; the cached AVD's key
    # names the size, so a cache made with a smaller disk is not reused
    assert WORKFLOW.count("disk-size: 8G") == 2 and WORKFLOW.count("key: avd-api30-x86_64-default-8g-") == 2
    assert int(re.search(r"^    timeout-minutes: (\d+)", WORKFLOW, re.M).group(1)) >= 120
    assert "svc power stayon true" in WORKFLOW and "wm dismiss-keyguard" in WORKFLOW


def test_the_emulator_script_installs_cpu_torch_and_the_executorch_of_the_aar():
    # The CPU-only index comes from the workflow (a repository variable), the script only uses it.
    assert "TORCH_INDEX: ${{ vars.TORCH_INDEX }}" in WORKFLOW
    engine = (RUNNER / "app/src/executorch/java/org/fermbench/runner/ExecutorchEngine.java").read_text()
    version = re.search(r'static final String VERSION = "([^"]+)";', engine).group(1)
    assert (
        f'"executorchImplementation"("org.pytorch:executorch-android:{version}")'
        in (RUNNER / "app" / "build.gradle.kts").read_text()
    )
    assert "android.useAndroidX=true" in (RUNNER / "gradle.properties").read_text().splitlines()


def test_the_python_workflow_runs_on_the_oldest_python_setup_cfg_allows_and_on_311():
    python_tests = (ROOT / ".github" / "workflows" / "python-tests.yml").read_text()
    oldest = re.search(r"python_requires = >=(\d+\.\d+)", (ROOT / "setup.cfg").read_text()).group(1)
    versions = re.findall(r'"(\d+\.\d+)"', re.search(r"python-version: \[(.*)\]", python_tests).group(1))
    assert oldest in versions and "3.11" in versions
    assert "python-version: ${{ matrix.python-version }}" in python_tests  # the job installs the matrix's Python
    assert "fail-fast: false" in python_tests  # a 3.10 failure does not cancel (and hide) the 3.11 result


def test_ci_lints_and_checks_the_format_before_the_tests():
    ci_run = (ROOT / ".ci" / "run").read_text()
    folders = "harness tests benchmarks examples"
    check, fmt = f"python3 -m ruff check {folders}", f"python3 -m ruff format --check {folders}"
    assert check in ci_run and fmt in ci_run
    assert ci_run.index(fmt) < ci_run.index("python3 -m pytest")
    # pinned: the same rules here and in CI
    assert re.search(r"^\s+ruff==\d+\.\d+\.\d+$", (ROOT / "setup.cfg").read_text(), re.M)


def test_mypy_runs_on_311_and_later_only():
    # numpy 2.2, the last for Python 3.10, has stubs that refuse the package's `np.ndarray` annotations
    ci_run = (ROOT / ".ci" / "run").read_text()
    guard = "if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then\n    python3 -m mypy\n"
    assert guard in ci_run
    assert ci_run.count("python3 -m mypy") == 1
