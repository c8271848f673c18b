"""`fermbench models`: the zoo at a glance."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table


@click.command("models")
def models_cmd() -> None:
    """List the model zoo: parameters, multiply-accumulates and fp32 size.

    \b
    Example:
      fermbench models
    """
    from .registry import MODEL_NAMES, model_info

    table = Table(title="fermbench model zoo (input 1x1x48x48, 7 classes)")
    table.add_column("model")
    table.add_column("parameters", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("fp32 size", justify="right")
    for name in MODEL_NAMES:
        info = model_info(name)
        table.add_row(
            name, f"{info.params / 1e6:.2f} M", f"{info.macs / 1e6:.1f} M", f"{info.fp32_bytes / 2**20:.1f} MiB"
        )
    Console().print(table)
