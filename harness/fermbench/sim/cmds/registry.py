"""The command table of the simulated phone's shell, and the reference generated from it.

Every handler registers here with a one-line summary of what the simulation does; the
summaries are the reference that `fermbench sim --help-commands` prints, so it cannot drift
from the handlers. A name missing from COMMANDS is "inaccessible or not found" (exit 127).
"""

from __future__ import annotations

from collections.abc import Callable

from ..process import Ctx, Handler

COMMANDS: dict[str, Handler] = {}  # what the shell runs, by name
SUMMARIES: dict[str, str] = {}  # name -> what the simulated command does
BUILTINS: set[str] = set()  # names that are shell builtins, not files in /system/bin


def command(*names: str, summary: str, builtin: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler under one or more names. A tool (not a builtin) answers `--help`
    with its summary, as toybox tools answer it with their help text."""

    def register(fn: Handler) -> Handler:
        def run(ctx: Ctx) -> int:
            if not builtin and ctx.args[:1] == ["--help"]:
                ctx.write(f"usage: {ctx.name}: {SUMMARIES[ctx.name]}\n")
                return 0
            return fn(ctx)

        for name in names:
            COMMANDS[name] = run
            SUMMARIES[name] = summary
            if builtin:
                BUILTINS.add(name)
        return fn

    return register


def reference() -> str:
    """The reference of every registered command, one line each, sorted."""
    width = max(len(n) for n in SUMMARIES)
    lines = [
        f"  {name:<{width}}  {'(shell builtin) ' if name in BUILTINS else ''}{SUMMARIES[name]}"
        for name in sorted(SUMMARIES)
    ]
    return "\n".join(lines) + "\n"
