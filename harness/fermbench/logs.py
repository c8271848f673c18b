"""Where fermbench's own logs go: nowhere extra by default; with `fermbench -v`, everything from
DEBUG up (every adb command with its serial, the simulated phone's events) to stderr."""

from __future__ import annotations

import logging
import sys

ROOT = logging.getLogger("fermbench")
FORMAT = "%(asctime)s %(name)s: %(message)s"


class _Verbose(logging.StreamHandler):  # type: ignore[type-arg]  # generic in the stubs only
    """The handler `-v` adds; a class of its own so that the next command can find and remove it."""


def set_verbose(verbose: bool) -> None:
    """DEBUG logs to the current stderr, or back to none. Called once per command: a second
    command in the same process (a test's CliRunner) starts from a clean state."""
    for handler in [h for h in ROOT.handlers if isinstance(h, _Verbose)]:
        ROOT.removeHandler(handler)
    if not verbose:
        ROOT.setLevel(logging.NOTSET)
        return
    handler = _Verbose(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    ROOT.addHandler(handler)
    ROOT.setLevel(logging.DEBUG)
