"""The `fermbench` command line: thin commands that parse, call one function, print.

Each step of the pipeline keeps its commands in its own module (`<step>/commands.py`);
this file only gathers them and turns any FermbenchError into a one-line error, exit 1.
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import FermbenchError

# (module, attribute) of every command; imported lazily so `fermbench --help` stays fast
# and a broken optional step cannot stop the others from working.
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("fermbench.zoo.commands", "models_cmd"),
    "export": ("fermbench.export.commands", "export_cmd"),
    "data": ("fermbench.data.commands", "data_cmd"),
    "train": ("fermbench.training.commands", "train_cmd"),
    "evaluate": ("fermbench.training.commands", "evaluate_cmd"),
    "devices": ("fermbench.device.commands", "devices_cmd"),
    "sim": ("fermbench.sim.commands", "sim_cmd"),
    "doctor": ("fermbench.bench.commands", "doctor_cmd"),
    "run": ("fermbench.bench.commands", "run_cmd"),
    "report": ("fermbench.report.commands", "report_cmd"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FermbenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fermbench")
def main() -> None:
    """Benchmark facial-expression-recognition models on Android phones over ADB.

    \b
    Typical session:
      fermbench train --model shallow_cnn --data ../shared/fer2013
      fermbench export --all
      fermbench run --device sim        # or --device SERIAL, or --device host
      fermbench report --charts charts/
    """


if __name__ == "__main__":  # pragma: no cover
    main()
