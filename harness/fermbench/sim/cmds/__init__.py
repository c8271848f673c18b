"""Command handlers of the simulated phone's shell, one module per family.

Importing this package fills COMMANDS; a name missing from it is "not found" (exit 127).
"""

from __future__ import annotations

from . import am, basic, dumpsys, files, pm  # noqa: F401  (registration)
from .base import COMMANDS, Ctx, UsageError, command

__all__ = ["COMMANDS", "Ctx", "UsageError", "command"]
