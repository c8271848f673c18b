"""What building the runner needs on this computer: a JDK, the Android SDK and Gradle.

Each finder returns what it found or raises ToolchainError: one line naming what is missing
and how to get it (`fermbench runner build` stops there; `fermbench doctor --build` lists them all).
The environment is a parameter, so tests point PATH, JAVA_HOME and ANDROID_HOME at fakes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .flavors import COMPILE_SDK

# The Android Gradle Plugin 8.7 needs JDK 17; Gradle 8.10 runs on Java 23 at most.
JDK_MIN, JDK_MAX = 17, 23
GRADLE_MIN = (8, 9)  # `gradle wrapper` configures the project, and AGP 8.7 needs Gradle 8.9+
PROBE_TIMEOUT_S = 120
JDK_FIX = (
    f"install JDK {JDK_MIN} (e.g. `sudo apt install openjdk-{JDK_MIN}-jdk`, or Temurin {JDK_MIN}) "
    f"and set JAVA_HOME to it"
)
SDK_FIX = (
    "install Android Studio (or the command-line tools) and set ANDROID_HOME to the SDK folder (e.g. ~/Android/Sdk)"
)
WRAPPER_PROPERTIES = Path("gradle") / "wrapper" / "gradle-wrapper.properties"
WRAPPER_JAR = Path("gradle") / "wrapper" / "gradle-wrapper.jar"


class ToolchainError(ConfigError):
    """A build prerequisite is missing: `what` is wrong, `fix` says how to get it."""

    def __init__(self, what: str, fix: str):
        super().__init__(f"{what}; {fix}")
        self.what, self.fix = what, fix


@dataclass(frozen=True)
class Jdk:
    home: Path
    java: Path
    javac: Path
    major: int
    version: str  # as `java -version` prints it, e.g. 17.0.15
    source: str  # JAVA_HOME or PATH


@dataclass(frozen=True)
class Sdk:
    root: Path
    source: str  # local.properties, ANDROID_HOME or ANDROID_SDK_ROOT (the order Gradle uses)


@dataclass(frozen=True)
class Gradle:
    """How to run Gradle in the project: its wrapper, generated first from `generator` when absent."""

    wrapper: Path
    generator: tuple[str, ...] | None  # `gradle wrapper ...` pinned like gradle-wrapper.properties
    version: str  # the pinned distribution
    sha256: str


def _probe(argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> tuple[int, str]:
    """(exit code, stdout and stderr) of a version query (java prints its version on stderr)."""
    try:
        out = subprocess.run(
            argv,
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"`{' '.join(argv)}` did not run ({exc})", "check that it is a working program") from None
    return out.returncode, out.stdout + out.stderr


def _version_major(text: str) -> tuple[int, str] | None:
    """(major, version) from `java -version` (`version "17.0.15"`, `"1.8.0_392"`) or `javac 17.0.15`."""
    m = re.search(r'version "([^"]+)"', text) or re.search(r"^javac (\S+)", text, re.M)
    if not m:
        return None
    version = m.group(1)
    parts = re.split(r"[._+-]", version)
    major = parts[1] if parts[0] == "1" and len(parts) > 1 else parts[0]  # 1.8 is Java 8
    return (int(major), version) if major.isdigit() else None


def find_jdk(env: Mapping[str, str]) -> Jdk:
    """JAVA_HOME's JDK, else the `java` on PATH; it must be JDK 17-23 with its `javac`."""
    if env.get("JAVA_HOME"):
        home = Path(env["JAVA_HOME"])
        java, javac, source = home / "bin" / "java", home / "bin" / "javac", "JAVA_HOME"
        if not os.access(java, os.X_OK):
            raise ToolchainError(
                f"JAVA_HOME={home} has no bin/java", f"point JAVA_HOME at a JDK {JDK_MIN}, or {JDK_FIX}"
            )
    else:
        found = shutil.which("java", path=env.get("PATH", ""))
        if found is None:
            raise ToolchainError("no JDK: JAVA_HOME is not set and no `java` is on PATH", JDK_FIX)
        java = Path(os.path.realpath(found))  # /usr/bin/java -> the JDK's bin/java, where javac is too
        home, javac, source = java.parent.parent, java.parent / "javac", "PATH"
    code, text = _probe([str(java), "-version"], env)
    parsed = _version_major(text)
    if code != 0 or parsed is None:
        raise ToolchainError(f"`{java} -version` did not say its version (exit {code})", JDK_FIX)
    major, version = parsed
    if not JDK_MIN <= major <= JDK_MAX:
        why = "too old" if major < JDK_MIN else "too new for Gradle 8.10"
        raise ToolchainError(
            f"the JDK at {home} ({source}) is Java {version}, {why}: building the runner needs "
            f"JDK {JDK_MIN} to {JDK_MAX}",
            JDK_FIX,
        )
    if not os.access(javac, os.X_OK):
        raise ToolchainError(
            f"{home} ({source}) is a Java runtime without javac, not a JDK",
            f"install the full JDK (openjdk-{JDK_MIN}-jdk, not -jre) and set JAVA_HOME to it",
        )
    compiler = _version_major(_probe([str(javac), "-version"], env)[1])
    if compiler is None or compiler[0] != major:
        raise ToolchainError(
            f"{javac} is {'javac ' + compiler[1] if compiler else 'not a working javac'}, but java is {version}",
            f"set JAVA_HOME to one JDK {JDK_MIN}",
        )
    return Jdk(home, java, javac, major, version, source)


def _local_sdk_dir(project: Path) -> str | None:
    """sdk.dir of local.properties (Android Studio writes it), unescaped as Java properties are."""
    path = project / "local.properties"
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "sdk.dir":
            return re.sub(r"\\(.)", r"\1", value.strip())
    return None


def find_sdk(project: Path, env: Mapping[str, str]) -> Sdk:
    """The SDK Gradle will use (local.properties sdk.dir, ANDROID_HOME, ANDROID_SDK_ROOT), with
    the platform the project compiles against."""
    candidates = [
        ("local.properties", _local_sdk_dir(project)),
        ("ANDROID_HOME", env.get("ANDROID_HOME")),
        ("ANDROID_SDK_ROOT", env.get("ANDROID_SDK_ROOT")),
    ]
    source, value = next(((s, v) for s, v in candidates if v), ("", None))
    if value is None:
        raise ToolchainError(
            "no Android SDK: ANDROID_HOME is not set and android-runner/local.properties has no sdk.dir", SDK_FIX
        )
    root = Path(value).expanduser()
    where = f"sdk.dir in {project / 'local.properties'}" if source == "local.properties" else source
    if not root.is_dir():
        raise ToolchainError(f"the Android SDK folder {root} ({where}) does not exist", SDK_FIX)
    platform = f"android-{COMPILE_SDK}"
    if not (root / "platforms" / platform / "android.jar").is_file():
        sdkmanager = root / "cmdline-tools" / "latest" / "bin" / "sdkmanager"
        raise ToolchainError(
            f"the Android SDK at {root} ({where}) has no platforms/{platform} (the runner "
            f"compiles against API {COMPILE_SDK})",
            f'install it with `{sdkmanager} "platforms;{platform}"` or Android Studio\'s SDK Manager',
        )
    return Sdk(root, source)


def wrapper_pin(project: Path) -> tuple[str, str]:
    """(Gradle version, distribution SHA-256) that gradle-wrapper.properties pins."""
    path = project / WRAPPER_PROPERTIES
    text = path.read_text() if path.is_file() else ""
    url = re.search(r"^distributionUrl=.*gradle-([0-9.]+)-bin\.zip$", text, re.M)
    sha = re.search(r"^distributionSha256Sum=([0-9a-f]{64})$", text, re.M)
    if not (url and sha):
        raise ToolchainError(
            f"{path} does not pin a Gradle distribution and its SHA-256",
            "restore it from git (`git checkout -- android-runner/gradle`)",
        )
    return url.group(1), sha.group(1)


def find_gradle(project: Path, env: Mapping[str, str]) -> Gradle:
    """The project's wrapper when it was generated; else the command that generates it with the
    `gradle` on PATH, pinned as the CI workflow pins it (android-runner/README.md)."""
    version, sha = wrapper_pin(project)
    wrapper = project / "gradlew"
    if os.access(wrapper, os.X_OK) and (project / WRAPPER_JAR).is_file():
        return Gradle(wrapper, None, version, sha)
    gradle = shutil.which("gradle", path=env.get("PATH", ""))
    if gradle is None:
        raise ToolchainError(
            f"no Gradle: {wrapper} is not generated (the repository commits no wrapper jar) and no `gradle` is on PATH",
            f"install Gradle {version} (e.g. `sdk install gradle {version}` with SDKMAN) so fermbench can generate "
            "the wrapper, or open android-runner/ in Android Studio",
        )
    code, text = _probe([gradle, "--version"], env, cwd=project)
    m = re.search(r"^Gradle (\d+)\.(\d+)", text, re.M)
    if code != 0 or m is None:
        raise ToolchainError(f"`{gradle} --version` failed (exit {code})", f"install Gradle {version}")
    if (int(m.group(1)), int(m.group(2))) < GRADLE_MIN:
        raise ToolchainError(
            f"{gradle} is Gradle {m.group(1)}.{m.group(2)}: too old to generate the wrapper of this "
            f"project (the Android Gradle Plugin 8.7 needs {GRADLE_MIN[0]}.{GRADLE_MIN[1]}+)",
            f"install Gradle {version} (e.g. `sdk install gradle {version}` with SDKMAN)",
        )
    generator = (
        gradle,
        "wrapper",
        "--gradle-version",
        version,
        "--distribution-type",
        "bin",
        "--gradle-distribution-sha256-sum",
        sha,
    )
    return Gradle(wrapper, generator, version, sha)
