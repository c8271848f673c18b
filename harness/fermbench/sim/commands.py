"""`fermbench sim`: run one simulated phone by hand until Ctrl-C."""

from __future__ import annotations

import dataclasses
import signal
import threading

import click

from .state import Faults, SimIdentity


@click.command("sim")
@click.option("--port", type=int, default=15555, show_default=True,
              help="TCP port to listen on (0: any free port). Not 5554-5585: adb scans those.")
@click.option("--model", default=None, help="ro.product.model the phone reports.")
@click.option("--abi", "abis", multiple=True, help="ABI, repeatable, first is primary (default x86_64, arm64-v8a).")
@click.option("--sdk", type=int, default=None, help="Android SDK level (ro.build.version.sdk).")
@click.option("--release", default=None, help="Android release (ro.build.version.release).")
@click.option("--emulator", is_flag=True, help="Report itself as an emulator (ro.kernel.qemu=1).")
@click.option("--no-cmd", is_flag=True, help="Do not advertise `cmd`: adb installs by push + `pm install`.")
@click.option("--unauthorized", is_flag=True, help="Answer adb with AUTH only, so it shows `unauthorized`.")
@click.option("--root", type=click.Path(file_okay=False), default=None,
              help="Keep the phone's file system in this folder (default: a temp folder, removed at exit).")
def sim_cmd(port, model, abis, sdk, release, emulator, no_cmd, unauthorized, root) -> None:
    """Run a simulated Android phone that the real adb server can connect to.

    \b
    Example:
      fermbench sim --port 15555 --model "Pixel 8"
      adb connect 127.0.0.1:15555 && adb -s 127.0.0.1:15555 shell getprop ro.product.model
    """
    from .phone import SimPhone

    changes: dict = {}
    if model:
        changes["model"] = model
    if abis:
        changes["abis"] = tuple(abis)
    if sdk is not None:
        changes["sdk"] = sdk
    if release:
        changes["release"] = release
    if emulator:
        changes["is_emulator"] = True
    identity = dataclasses.replace(SimIdentity(), **changes)
    faults = Faults(advertise_cmd=not no_cmd, unauthorized=unauthorized)

    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    phone = SimPhone(identity=identity, faults=faults, port=port, root=root).start()
    try:
        click.echo(f"simulated phone {identity.model!r} listening as {phone.serial}")
        click.echo(f"connect with:  adb connect {phone.serial}")
        click.echo("stop with Ctrl-C (run `adb disconnect` first, or adb keeps it offline a while)",
                   err=True)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        phone.stop()
        signal.signal(signal.SIGTERM, previous)
        click.echo("simulated phone stopped", err=True)
