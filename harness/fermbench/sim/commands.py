"""`fermbench sim`: run simulated phones by hand until Ctrl-C or SIGTERM."""

from __future__ import annotations

import dataclasses
import signal
import threading
from pathlib import Path

import click

from ..errors import ConfigError
from ..tempdirs import sweep
from . import services
from .cmds import reference
from .phone import SimPhone, consecutive_ports
from .state import Faults, SimIdentity

NO_AUTH_NOTE = (
    "note: a simulated phone accepts any adb connection without authentication (it is a test "
    "double); it listens on 127.0.0.1 only"
)


def reference_text() -> str:
    """What the simulated phone supports, generated from its handlers and services."""
    return (
        "Shell commands of the simulated phone (anything else: `/system/bin/sh: NAME: inaccessible "
        "or not found`, exit 127):\n"
        + reference()
        + "\nadb services (anything else is refused, as a phone refuses what it does not offer):\n"
        + services.reference()
    )


@click.command("sim")
@click.option(
    "--port",
    type=int,
    default=15555,
    show_default=True,
    help="TCP port of the (first) phone; 0: any free port. Not 5554-5585: adb scans those.",
)
@click.option(
    "--count",
    type=int,
    default=1,
    show_default=True,
    help="How many phones, on consecutive ports from --port (a farm on one host).",
)
@click.option("--model", default=None, help="ro.product.model the phones report.")
@click.option("--abi", "abis", multiple=True, help="ABI, repeatable, first is primary (default x86_64, arm64-v8a).")
@click.option("--sdk", type=int, default=None, help="Android SDK level (ro.build.version.sdk).")
@click.option("--release", default=None, help="Android release (ro.build.version.release).")
@click.option("--emulator", is_flag=True, help="Report itself as an emulator (ro.kernel.qemu=1).")
@click.option(
    "--page-size",
    type=click.Choice(["4096", "16384"]),
    default=None,
    help="Memory page size; 16384 imitates an Android 15+ phone, where the Lite runner cannot load.",
)
@click.option("--no-cmd", is_flag=True, help="Do not advertise `cmd`: adb installs by push + `pm install`.")
@click.option("--unauthorized", is_flag=True, help="Answer adb with AUTH only, so it shows `unauthorized`.")
@click.option(
    "--reboot-delay",
    type=float,
    default=Faults().reboot_delay_s,
    show_default=True,
    help="Seconds `adb reboot` keeps a phone offline.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the phone's file system in this folder (one subfolder per phone with --count; "
    "default: a temp folder, removed at exit).",
)
@click.option(
    "--help-commands",
    is_flag=True,
    help="Print the shell commands and adb services the simulated phone supports, and exit.",
)
def sim_cmd(
    port: int,
    count: int,
    model: str | None,
    abis: tuple[str, ...],
    sdk: int | None,
    release: str | None,
    emulator: bool,
    page_size: str | None,
    no_cmd: bool,
    unauthorized: bool,
    reboot_delay: float,
    root: str | None,
    help_commands: bool,
) -> None:
    """Run simulated Android phones that the real adb server can connect to.

    A simulated phone accepts any adb connection WITHOUT authentication (it is a test double,
    not a phone) and listens on 127.0.0.1 only: reach it from elsewhere through an SSH tunnel.

    \b
    Example:
      fermbench sim --port 15555 --model "Pixel 8"
      adb connect 127.0.0.1:15555 && adb -s 127.0.0.1:15555 shell getprop ro.product.model
      fermbench sim --port 15555 --count 4        # 127.0.0.1:15555 .. 127.0.0.1:15558
    """
    if help_commands:
        click.echo(reference_text(), nl=False)
        return
    sweep()  # the phones and adb servers of a killed fermbench: stopped, their folders removed
    ports = consecutive_ports(port, count)
    if not 0 <= reboot_delay <= 3600:  # also refuses nan and inf
        raise ConfigError(f"--reboot-delay {reboot_delay}: give 0 seconds or more (at most 3600)")
    if sdk is not None and not 1 <= sdk <= 99:
        raise ConfigError(f"--sdk {sdk} is not an Android SDK level; give one in 1-99 (e.g. 34)")
    if any(not abi.strip() for abi in abis):
        raise ConfigError("--abi is empty; give an ABI such as arm64-v8a or x86_64")
    base = SimIdentity()
    template = dataclasses.replace(
        base,
        model=model or base.model,
        abis=tuple(abis) or base.abis,
        sdk=base.sdk if sdk is None else sdk,
        release=release or base.release,
        is_emulator=emulator,
        page_size=int(page_size) if page_size else base.page_size,
    )

    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    phones: list[SimPhone] = []
    try:
        for k, p in enumerate(ports, 1):
            identity = dataclasses.replace(template, serialno=f"FERMSIM{k:04d}")
            faults = Faults(advertise_cmd=not no_cmd, unauthorized=unauthorized, reboot_delay_s=reboot_delay)
            folder = None if root is None else Path(root) if count == 1 else Path(root) / f"phone-{k}"
            phones.append(SimPhone(identity=identity, faults=faults, port=p, root=folder).start())
            click.echo(f"simulated phone {identity.model!r} listening as {phones[-1].serial}")
            click.echo(f"connect with:  adb connect {phones[-1].serial}")
        click.echo(NO_AUTH_NOTE, err=True)
        click.echo("stop with Ctrl-C (run `adb disconnect` first, or adb keeps them offline a while)", err=True)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for phone in phones:
            phone.stop()
        signal.signal(signal.SIGTERM, previous)
        if phones:
            click.echo(f"simulated phone{'s' if len(phones) > 1 else ''} stopped", err=True)
