"""`fermbench devices`: the phones the adb server knows, their state, and what to do about it."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from .adb import DEFAULT_PORT, list_devices


@click.command("devices")
@click.option("--adb-port", type=int, default=DEFAULT_PORT, show_default=True,
              help="Port of the adb server to ask (a private server: `adb -P PORT`).")
@click.option("--adb-host", default="127.0.0.1", show_default=True, help="Host of the adb server.")
def devices_cmd(adb_port: int, adb_host: str) -> None:
    """List attached phones, their state and, for any that is not ready, the fix.

    \b
    Example:
      fermbench devices
      fermbench devices --adb-port 15037
    """
    entries = list_devices(port=adb_port, host=adb_host)
    console = Console()
    if not entries:
        console.print(f"No devices on the adb server at {adb_host}:{adb_port}. Plug in a phone with USB "
                      "debugging on, or start a simulated one: `fermbench sim --port 15555` and "
                      "`adb connect 127.0.0.1:15555`.")
        return
    table = Table(title=f"adb server {adb_host}:{adb_port}")
    table.add_column("serial", style="bold")
    table.add_column("state")
    table.add_column("model")
    table.add_column("product")
    table.add_column("fix")
    for e in entries:
        state = f"[green]{e.state}[/green]" if e.ready else f"[red]{e.state}[/red]"
        table.add_row(e.serial, state, e.model or "", e.info.get("product", ""), e.fix or "")
    console.print(table)
