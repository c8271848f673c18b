"""`fermbench runner build|install|status`: the runner APK from source to a phone."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ConfigError
from .flavors import BY_NAME, FLAVORS, default_project

if TYPE_CHECKING:
    from ..targets import AndroidTarget

PROJECT_HELP = "the runner's Gradle project (default: android-runner/ of this checkout)"


@click.group("runner")
def runner_cmd() -> None:
    """Build the runner APKs, install them on a phone, and show what is installed.

    \b
    Examples:
      fermbench runner build --flavor executorch
      fermbench runner install --device SERIAL
      fermbench runner status --device SERIAL
    """


@runner_cmd.command("build")
@click.option(
    "--flavor",
    type=click.Choice([*BY_NAME, "all"]),
    default="all",
    show_default=True,
    help=", ".join(
        f"{f.name} (.{f.spec.file_format}, {f.spec.device.library_align // 1024} KB pages and smaller)" for f in FLAVORS
    ),
)
@click.option(
    "--release/--debug",
    default=True,
    show_default=True,
    help="release: signed with the debug key, not debuggable (what benchmarks want)",
)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None, help=PROJECT_HELP)
def build_cmd(flavor: str, release: bool, project: Path | None) -> None:
    """Build runner APKs with the project's Gradle wrapper; print their paths.

    Needs JDK 17, the Android SDK (ANDROID_HOME, with platforms/android-35) and Gradle: the
    wrapper is generated from a `gradle` on PATH when android-runner/gradlew is absent. The
    first build downloads Gradle, the Android Gradle Plugin and the runtimes (network needed).

    \b
    Examples:
      fermbench runner build
      fermbench runner build --flavor executorch --debug
    """
    from .build import plan_build, run_build

    flavors = [f.name for f in FLAVORS] if flavor == "all" else [flavor]
    plan = plan_build(flavors, "release" if release else "debug", project)
    click.echo(
        f"JDK {plan.jdk.version} ({plan.jdk.home}), Android SDK {plan.sdk.root}, Gradle {plan.gradle.version}"
        + (" (generating its wrapper first)" if plan.gradle.generator else ""),
        err=True,
    )
    for apk in run_build(plan):
        click.echo(str(apk))
    if not release:
        click.echo("note: debug builds are debuggable and may run slower; benchmark release builds", err=True)
    click.echo("next: fermbench runner install --device SERIAL" + ("" if release else " --apk PATH"), err=True)


def _open(serial: str) -> AndroidTarget:
    from ..targets import AndroidTarget, adb_port_from_env

    if serial in ("host", "sim"):
        raise ConfigError(
            f"`{serial}` has no runner to manage: `host` runs the host runner and `sim` starts a "
            "simulated phone with both runners; pass an adb serial (see `fermbench devices`)"
        )
    return AndroidTarget.open(serial, adb_port=adb_port_from_env())


def built_apks(project: Path) -> list[Path]:
    """The release APKs `fermbench runner build` left in the project, one per flavor built."""
    return [apk for f in FLAVORS for apk in sorted(f.apk_dir(project, "release").glob("*.apk"))]


@runner_cmd.command("install")
@click.option("--device", required=True, help="adb serial (see `fermbench devices`)")
@click.option(
    "--apk",
    "apks",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="runner APK, repeat for both flavors (default: the release APKs `runner build` made)",
)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=None, help=PROJECT_HELP)
def install_cmd(device: str, apks: tuple[Path, ...], project: Path | None) -> None:
    """Install runner APKs, then check that each answers `info` in this fermbench's protocol.

    \b
    Examples:
      fermbench runner install --device SERIAL
      fermbench runner install --device SERIAL --apk app-executorch-release.apk
    """
    from .install import install_runner

    chosen = list(apks) or built_apks(project or default_project())
    if not chosen:
        raise ConfigError("no runner APK built yet; build one with `fermbench runner build`, or pass --apk PATH")
    target = _open(device)
    try:
        for apk in chosen:
            done = install_runner(target, apk)
            info = done.info
            click.echo(
                f"installed {apk.name} on {target.serial}: {done.flavor.package} {info.runner_version}, "
                f"{info.runtime_name} {info.runtime_version}, protocol {info.protocol_version}"
            )
            if done.problem:
                click.echo(f"warning: {done.problem}", err=True)
    finally:
        target.close()


@runner_cmd.command("status")
@click.option("--device", required=True, help="adb serial (see `fermbench devices`)")
def status_cmd(device: str) -> None:
    """Each runner flavor on a device: installed?, version, runtime, protocol, ABIs, page size.

    \b
    Example:
      fermbench runner status --device SERIAL
    """
    from ..runner.protocol import PROTOCOL_VERSION
    from .install import runner_status

    target = _open(device)
    try:
        statuses = runner_status(target)
    finally:
        target.close()
    for s in statuses:
        click.echo(f"{s.flavor.package} ({s.flavor.name} flavor): {'ok' if s.problem is None else 'needs attention'}")
        rows: list[tuple[str, str]] = []
        if s.package is None:
            rows.append(("installed", "no"))
        else:
            rows.append(("installed", f"{s.package.version_name or '?'} (versionCode {s.package.version_code})"))
        if s.info is not None:
            i = s.info
            formats = (
                f"bytecode {i.bytecode_min}-{i.bytecode_max}"
                if i.bytecode_min is not None
                else f".pte {', '.join(i.pte_identifiers) or '?'}"
            )
            rows += [
                ("runtime", f"{i.runtime_name} {i.runtime_version} ({formats})"),
                ("protocol", f"{i.protocol_version} (this fermbench: {PROTOCOL_VERSION})"),
                ("ABIs", ", ".join(i.abis)),
                ("page size", f"{i.page_size // 1024} KB"),
            ]
        if s.problem:
            rows.append(("to do", s.problem))
        for key, value in rows:
            click.echo(f"  {key:<10} {value}")
