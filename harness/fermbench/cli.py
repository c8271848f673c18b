"""The `fermbench` command line: thin commands that parse, call one function, print.

Each step of the pipeline keeps its commands in its own module (`<step>/commands.py`);
this file only gathers them and turns any FermbenchError into a one-line error, exit 1.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from . import __version__
from .display import plain
from .errors import FermbenchError
from .logs import set_verbose

# (module, attribute) of every command; imported lazily so `fermbench --help` stays fast
# and a broken optional step cannot stop the others from working.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "models": ("fermbench.zoo.commands", "models_cmd", "List the model zoo: parameters, MACs, size."),
    "export": ("fermbench.export.commands", "export_cmd", "Export models (.ptl, .pte) with their gates."),
    "data": ("fermbench.data.commands", "data_cmd", "Inspect a FER-2013 copy (counts, duplicates, overlap)."),
    "train": ("fermbench.training.commands", "train_cmd", "Train a model with the study's protocol."),
    "evaluate": ("fermbench.training.commands", "evaluate_cmd", "Accuracy and confusion matrix of a checkpoint."),
    "devices": ("fermbench.device.commands", "devices_cmd", "List attached phones, their state and fixes."),
    "sim": ("fermbench.sim.commands", "sim_cmd", "Run a simulated phone that adb can connect to."),
    "runner": ("fermbench.apk.commands", "runner_cmd", "Build, install and inspect the runner APKs."),
    "doctor": ("fermbench.bench.commands", "doctor_cmd", "Check this computer and a device before a run, with fixes."),
    "run": ("fermbench.bench.commands", "run_cmd", "Benchmark models on devices and store the results."),
    "report": ("fermbench.report.commands", "report_cmd", "Tables, charts and comparisons from stored results."),
    "verify": (
        "fermbench.bench.verify",
        "verify_cmd",
        "Check a phone session as the emulator job does; exit 1 if not.",
    ),
}


class OneLineUsageError(click.ClickException):
    """A mistyped option or value: one line and exit 1, like every other user mistake (click's
    own usage errors print three lines and exit 2)."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def one_line(exc: click.UsageError) -> OneLineUsageError:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return OneLineUsageError(plain(exc.format_message()).rstrip(".") + where)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Static one-liners: listing commands must not import torch or every step.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a bare `fermbench` or `fermbench runner`: the help, as click prints it
        except click.UsageError as exc:  # `fermbench --bogus`
            raise one_line(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # a subcommand's option or value
            raise one_line(exc) from exc
        except FermbenchError as exc:
            click.echo(f"Error: {plain(exc)}", err=True)  # it may quote a serial from an adb server
            sys.exit(1)
        except KeyboardInterrupt:
            # Everything is written atomically as it goes, so an interrupt loses no finished work.
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fermbench")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log every adb command, with the serial of its device, to stderr (before the command: "
    "`fermbench -v devices`).",
)
def main(verbose: bool) -> None:
    """Benchmark facial-expression-recognition models on Android phones over ADB.

    \b
    Typical session:
      fermbench train --model shallow_cnn --data ../shared/fer2013
      fermbench export shallow_cnn
      fermbench run --device sim --models shallow_cnn   # or --device host
      fermbench report --charts charts/

    \b
    With a phone (USB debugging on; JDK 17 and the Android SDK build the runner):
      fermbench runner build
      fermbench runner install --device SERIAL
      fermbench doctor --device SERIAL
      fermbench run --device SERIAL --models shallow_cnn
    """
    set_verbose(verbose)


if __name__ == "__main__":  # pragma: no cover
    main()
