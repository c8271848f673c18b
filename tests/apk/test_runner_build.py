"""`fermbench runner build` without an Android SDK here: every missing prerequisite is a one-line
error with its fix, and the commands it runs are checked against fake `java`, `javac`, `gradle`
and `gradlew` programs in a temporary copy of android-runner/ (no real build is ever started)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.apk import toolchain as tc
from fermbench.apk.build import plan_build

ROOT = Path(__file__).resolve().parents[2]
PIN_VERSION, PIN_SHA = tc.wrapper_pin(ROOT / "android-runner")

# Writes its argv, working folder and the two variables Gradle reads to calls.jsonl beside it.
RECORD = f"""#!{sys.executable}
import json, os, sys
from pathlib import Path
here = Path(__file__).resolve().parent
with open(os.environ["FAKE_CALLS"], "a") as f:
    f.write(json.dumps({{"argv": [Path(sys.argv[0]).name, *sys.argv[1:]], "cwd": os.getcwd(),
                        "JAVA_HOME": os.environ.get("JAVA_HOME"),
                        "ANDROID_HOME": os.environ.get("ANDROID_HOME")}}) + "\\n")
"""
GRADLEW = (
    RECORD
    + """
print("BUILD " + " ".join(sys.argv[1:]))
code = int(os.environ.get("FAKE_GRADLEW_EXIT", "0"))
for task in sys.argv[1:]:
    name = task.removeprefix(":app:assemble")
    for flavor in ("PytorchLite", "Executorch", "Litert"):
        if name.startswith(flavor) and not code:
            kind = name[len(flavor):].lower()
            flavor = flavor[0].lower() + flavor[1:]
            out = Path.cwd() / "app/build/outputs/apk" / flavor / kind
            out.mkdir(parents=True, exist_ok=True)
            (out / f"app-{flavor}-{kind}.apk").write_bytes(b"PK")
sys.exit(code)
"""
)
GRADLE = (
    RECORD
    + """
if sys.argv[1:] == ["--version"]:
    print("\\n" + "-" * 60 + "\\nGradle " + os.environ["FAKE_GRADLE_VERSION"])
    sys.exit(0)
assert sys.argv[1] == "wrapper"
(Path.cwd() / "gradlew").write_text(GRADLEW_TEXT)
(Path.cwd() / "gradlew").chmod(0o755)
(Path.cwd() / "gradle/wrapper/gradle-wrapper.jar").write_bytes(b"PK")
if os.environ.get("FAKE_UNPIN"):
    (Path.cwd() / "gradle/wrapper/gradle-wrapper.properties").write_text("distributionUrl=elsewhere\\n")
"""
)


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def fake_jdk(root: Path, java_version: str = "17.0.15", javac: str | None = "same") -> Path:
    """A JDK folder whose bin/java and bin/javac print versions as the real ones do."""
    script(
        root / "bin" / "java",
        f"#!/bin/sh\necho 'openjdk version \"{java_version}\" 2025-04-15' >&2\n"
        "echo 'OpenJDK Runtime Environment' >&2\n",
    )
    if javac:
        script(root / "bin" / "javac", f"#!/bin/sh\necho 'javac {java_version if javac == 'same' else javac}'\n")
    return root


def fake_sdk(root: Path, platform: str = "android-35") -> Path:
    (root / "platforms" / platform).mkdir(parents=True)
    (root / "platforms" / platform / "android.jar").write_bytes(b"PK")
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of android-runner/ without anything Gradle generated."""
    dst = tmp_path / "android-runner"
    shutil.copytree(
        ROOT / "android-runner",
        dst,
        ignore=shutil.ignore_patterns(
            "build", ".gradle", "gradlew", "gradlew.bat", "gradle-wrapper.jar", "local.properties"
        ),
    )
    return dst


@pytest.fixture
def env(tmp_path) -> dict[str, str | None]:
    """A working JDK and SDK, an empty PATH (no java, no gradle), and where the fakes record their calls."""
    (tmp_path / "empty").mkdir()
    return {
        "JAVA_HOME": str(fake_jdk(tmp_path / "jdk")),
        "ANDROID_HOME": str(fake_sdk(tmp_path / "sdk")),
        "ANDROID_SDK_ROOT": None,
        "PATH": str(tmp_path / "empty"),
        "FAKE_CALLS": str(tmp_path / "calls.jsonl"),
        "FAKE_GRADLE_VERSION": PIN_VERSION,
    }


def build(project: Path, env: dict[str, str | None], *args: str):
    from fermbench.cli import main

    return CliRunner().invoke(main, ["runner", "build", "--project", str(project), *args], env=env)


def calls(env) -> list[dict]:
    path = Path(env["FAKE_CALLS"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def fake_gradle(folder: Path) -> None:
    """A `gradle` that says its version and, asked for `wrapper`, writes the fake gradlew and a jar."""
    script(folder / "gradle", GRADLE.replace("GRADLEW_TEXT", repr(GRADLEW)))


def with_gradlew(project: Path) -> None:
    script(project / "gradlew", GRADLEW)
    (project / tc.WRAPPER_JAR).write_bytes(b"PK")


# --- refusals -------------------------------------------------------------------------------------


def test_no_jdk(project, env):
    env["JAVA_HOME"] = None
    one_line_error(build(project, env), "no JDK", "no `java` is on PATH", "install JDK 17", "JAVA_HOME")
    assert calls(env) == []


def test_java_home_without_java(project, env, tmp_path):
    env["JAVA_HOME"] = str(tmp_path / "nothing")
    one_line_error(build(project, env), f"JAVA_HOME={tmp_path / 'nothing'} has no bin/java", "JDK 17")


@pytest.mark.parametrize(
    "version, words",
    [
        ("11.0.2", ("Java 11.0.2, too old", "JDK 17 to 23")),
        ("1.8.0_392", ("Java 1.8.0_392, too old",)),
        ("25.0.3", ("Java 25.0.3, too new for Gradle 8.10",)),
    ],
)
def test_a_jdk_of_the_wrong_version(project, env, tmp_path, version, words):
    env["JAVA_HOME"] = str(fake_jdk(tmp_path / "other-jdk", version))
    one_line_error(build(project, env), *words, "install JDK 17")


def test_java_found_on_path_through_a_link_with_javac_beside_it(project, env, tmp_path):
    jdk = fake_jdk(tmp_path / "jvm" / "jdk-11", "11.0.2")
    (tmp_path / "usrbin").mkdir()
    (tmp_path / "usrbin" / "java").symlink_to(jdk / "bin" / "java")  # as /usr/bin/java -> alternatives
    env.update(JAVA_HOME=None, PATH=str(tmp_path / "usrbin"))
    one_line_error(build(project, env), f"the JDK at {jdk} (PATH) is Java 11.0.2")


def test_a_runtime_without_javac_is_not_a_jdk(project, env, tmp_path):
    env["JAVA_HOME"] = str(fake_jdk(tmp_path / "jre", javac=None))
    one_line_error(build(project, env), "a Java runtime without javac, not a JDK", "openjdk-17-jdk, not -jre")


def test_javac_of_another_jdk(project, env, tmp_path):
    env["JAVA_HOME"] = str(fake_jdk(tmp_path / "mixed", "17.0.15", javac="11.0.2"))
    one_line_error(build(project, env), "is javac 11.0.2, but java is 17.0.15")


def test_no_sdk(project, env):
    env["ANDROID_HOME"] = None
    one_line_error(
        build(project, env), "no Android SDK", "ANDROID_HOME is not set", "local.properties", "install Android Studio"
    )


def test_sdk_folder_that_does_not_exist(project, env, tmp_path):
    env["ANDROID_HOME"] = str(tmp_path / "gone")
    one_line_error(build(project, env), f"{tmp_path / 'gone'} (ANDROID_HOME) does not exist")


def test_sdk_without_the_platform(project, env, tmp_path):
    env["ANDROID_HOME"] = str(fake_sdk(tmp_path / "old-sdk", "android-34"))
    one_line_error(build(project, env), "has no platforms/android-35", "API 35", 'sdkmanager "platforms;android-35"')


def test_local_properties_wins_over_android_home_as_gradle_reads_it(project, env, tmp_path):
    (tmp_path / "sdk:x").mkdir()  # a colon, escaped the way Android Studio writes it
    (project / "local.properties").write_text(f"## written by Android Studio\nsdk.dir={tmp_path}/sdk\\:x\n")
    one_line_error(build(project, env), f"{tmp_path}/sdk:x (sdk.dir in {project}/local.properties) has no platforms")


def test_no_gradle(project, env):
    one_line_error(build(project, env), "no Gradle", "gradlew is not generated", f"install Gradle {PIN_VERSION}")
    assert calls(env) == []


def test_gradle_too_old_to_generate_the_wrapper(project, env, tmp_path):
    fake_gradle(tmp_path / "empty")
    env["FAKE_GRADLE_VERSION"] = "4.4.1"
    one_line_error(build(project, env), "is Gradle 4.4: too old", "8.9+")
    assert [c["argv"] for c in calls(env)] == [["gradle", "--version"]]  # no wrapper was generated


def test_not_the_runner_project(env, tmp_path):
    one_line_error(build(tmp_path, env), "not the runner's Gradle project", "--project")


def test_unknown_flavor_is_refused_by_the_option(project, env):
    one_line_error(build(project, env, "--flavor", "tflite"), "'tflite' is not one of", "runner build --help")


# --- the commands it runs -------------------------------------------------------------------------


def test_generates_the_pinned_wrapper_then_builds_every_flavor(project, env, tmp_path):
    fake_gradle(tmp_path / "empty")
    result = build(project, env)
    assert result.exit_code == 0, result.output
    argv = [c["argv"] for c in calls(env)]
    assert argv == [
        ["gradle", "--version"],
        [
            "gradle",
            "wrapper",
            "--gradle-version",
            PIN_VERSION,
            "--distribution-type",
            "bin",
            "--gradle-distribution-sha256-sum",
            PIN_SHA,
        ],
        ["gradlew", ":app:assemblePytorchLiteRelease", ":app:assembleExecutorchRelease", ":app:assembleLitertRelease"],
    ]
    assert {c["cwd"] for c in calls(env)} == {str(project)}
    assert {(c["JAVA_HOME"], c["ANDROID_HOME"]) for c in calls(env)} == {(env["JAVA_HOME"], env["ANDROID_HOME"])}
    out = result.stdout.splitlines()
    assert out == [
        str(project / "app/build/outputs/apk/pytorchLite/release/app-pytorchLite-release.apk"),
        str(project / "app/build/outputs/apk/executorch/release/app-executorch-release.apk"),
        str(project / "app/build/outputs/apk/litert/release/app-litert-release.apk"),
    ]
    assert "BUILD :app:assemblePytorchLiteRelease" in result.stderr  # Gradle's output, kept off stdout
    assert f"Gradle {PIN_VERSION} (generating its wrapper first)" in result.stderr


def test_an_existing_wrapper_is_used_for_one_flavor_in_debug(project, env):
    with_gradlew(project)
    result = build(project, env, "--flavor", "executorch", "--debug")
    assert result.exit_code == 0, result.output
    assert [c["argv"] for c in calls(env)] == [["gradlew", ":app:assembleExecutorchDebug"]]
    apk = project / "app/build/outputs/apk/executorch/debug/app-executorch-debug.apk"
    assert result.stdout.splitlines() == [str(apk)]
    assert "debuggable" in result.stderr


def test_a_gradle_failure_is_one_error_line_after_its_output(project, env):
    with_gradlew(project)
    env["FAKE_GRADLEW_EXIT"] = "3"
    result = build(project, env, "--flavor", "pytorchLite")
    assert result.exit_code == 1
    assert result.stdout == "" and "Traceback" not in result.output
    err = result.stderr.splitlines()
    assert err[-1].startswith("Error: `gradlew :app:assemblePytorchLiteRelease` exited 3")
    assert "its output above says why" in err[-1]


def test_a_wrapper_that_loses_the_pin_stops_before_the_build(project, env, tmp_path):
    fake_gradle(tmp_path / "empty")
    env["FAKE_UNPIN"] = "1"
    result = build(project, env)
    assert result.exit_code == 1 and "does not pin a Gradle distribution" in result.stderr
    assert [c["argv"][0] for c in calls(env)] == ["gradle", "gradle"]  # gradlew never ran


def test_the_plan_names_the_tasks_and_folders_without_running_anything(project, env):
    with_gradlew(project)
    plan = plan_build(
        ["executorch", "pytorchLite", "executorch"], "release", project, {k: v for k, v in env.items() if v is not None}
    )
    assert plan.commands == [
        [str(project / "gradlew"), ":app:assembleExecutorchRelease", ":app:assemblePytorchLiteRelease"]
    ]
    assert plan.apk_dirs()["executorch"] == project / "app/build/outputs/apk/executorch/release"
    assert plan.env["JAVA_HOME"] == env["JAVA_HOME"] and plan.jdk.major == 17
    assert calls(env) == []


def test_the_real_jdk_here_is_recognised_when_there_is_one():
    import os

    try:
        jdk = tc.find_jdk(os.environ)
    except tc.ToolchainError as exc:
        pytest.skip(f"no usable JDK on this machine: {exc}")
    assert tc.JDK_MIN <= jdk.major <= tc.JDK_MAX and jdk.javac.is_file()
