"""`fermbench devices`: the phones of every adb server asked, their state, and what to do about it."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from ..display import markup_safe, plain
from ..errors import ConfigError
from ..tempdirs import sweep
from .errors import AdbServerError
from .farm import Farm, ServerAddress


@click.command("devices")
@click.option(
    "--adb-server",
    "adb_servers",
    multiple=True,
    metavar="HOST:PORT",
    help="An adb server to ask; repeat for several (a device farm). Default: the local one "
    "(ANDROID_ADB_SERVER_PORT, else 5037). Reach remote ones through `ssh -L`.",
)
@click.option("--adb-port", type=int, default=None, help="Port of one adb server (a private server: `adb -P PORT`).")
@click.option("--adb-host", default=None, help="Host of that server (default 127.0.0.1).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON for scripts: {devices: [{server, serial, state, ready, model, product, fix}], unreachable}.",
)
def devices_cmd(adb_servers: tuple[str, ...], adb_port: int | None, adb_host: str | None, as_json: bool) -> None:
    """List the phones of every adb server, their state and, for any that is not ready, the fix.

    \b
    Example:
      fermbench devices
      fermbench devices --adb-port 15037
      fermbench devices --adb-server 127.0.0.1:5037 --adb-server 127.0.0.1:15037
      fermbench devices --json
    """
    sweep()  # what a killed fermbench left (its adb servers, their folders)
    if adb_port is not None and not 1 <= adb_port <= 65535:
        raise ConfigError(f"--adb-port {adb_port} is not a TCP port; give one in 1-65535 (adb's default is 5037)")
    farm = Farm.from_texts(adb_servers)
    if adb_port is not None or adb_host is not None:
        one = ServerAddress.parse(f"{adb_host or '127.0.0.1'}:{adb_port or farm.local.port}", "--adb-host/--adb-port")
        farm = Farm([*(farm.servers if adb_servers else []), one], farm.local)
    listings = farm.listings()
    down = [listing.error for listing in listings if listing.error]
    if len(down) == len(listings):
        raise AdbServerError(" | ".join(str(d) for d in down))
    console = Console()
    devices = farm.devices()
    several = len(listings) > 1
    if as_json:
        click.echo(
            json.dumps(
                {
                    "devices": [
                        {
                            "server": str(d.server),
                            "serial": farm.address(d),
                            "state": d.entry.state,
                            "ready": d.entry.ready,
                            "model": d.entry.model,
                            "product": d.entry.info.get("product"),
                            "fix": d.entry.fix,
                        }
                        for d in devices
                    ],
                    "unreachable": [str(line) for line in down],
                },
                indent=2,
            )
        )
        return
    if devices:
        table = Table(
            title=markup_safe(
                "adb servers " + ", ".join(str(s) for s in farm.servers) if several else f"adb server {farm.servers[0]}"
            )
        )
        # A serial is what the reader copies into the next command: its column (and the server's)
        # is never narrowed or cut with an ellipsis, in a pipe or an 80-column terminal; the fix
        # and the other columns wrap instead. Widths are those of the text as shown (escaped).
        widths = {
            "server": max(len(plain(d.server)) for d in devices),
            "serial": max(len(plain(farm.address(d))) for d in devices),
        }
        for col in (["server"] if several else []) + ["serial", "state", "model", "product", "fix"]:
            if col in widths:
                table.add_column(col, style="bold" if col == "serial" else None, no_wrap=True, min_width=widths[col])
            else:
                table.add_column(col, overflow="fold")
        for d in devices:
            e = d.entry
            # every cell comes from the adb server: escaped (hostile serials, escape sequences, markup)
            state = f"[green]{markup_safe(e.state)}[/green]" if e.ready else f"[red]{markup_safe(e.state)}[/red]"
            table.add_row(
                *([markup_safe(d.server)] if several else []),
                markup_safe(farm.address(d)),
                state,
                markup_safe(e.model or ""),
                markup_safe(e.info.get("product", "")),
                markup_safe(e.fix or ""),
            )
        console.print(table)
    else:
        console.print(
            f"No devices on adb server{'s' if several else ''} "
            f"{', '.join(str(s) for s in farm.servers)}. Plug in a phone with USB debugging on, or start "
            "a simulated one: `fermbench sim --port 15555` and `adb connect 127.0.0.1:15555`.",
            soft_wrap=True,
        )
    for line in down:
        console.print(f"[red]unreachable:[/red] {markup_safe(line)}", soft_wrap=True)
