"""Command handlers of the simulated phone's shell, one module per family.

Importing this package fills COMMANDS (and the reference of what each does); a name missing
from it is "inaccessible or not found" (exit 127).
"""

from __future__ import annotations

from . import am, bugreport, dumpsys, files, logcat, pm, procs, sh_builtins, sh_control, system, text, textproc  # noqa: F401  (registration)
from .registry import BUILTINS, COMMANDS, SUMMARIES, command, reference

__all__ = ["BUILTINS", "COMMANDS", "SUMMARIES", "command", "reference"]
