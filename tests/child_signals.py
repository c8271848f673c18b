"""Ctrl-C in tests, however the suite was started: a shell's background job, `nohup` and some CI
launchers start it with SIGINT ignored, and an ignored signal stays ignored across exec (Python
then installs no KeyboardInterrupt handler). A test that interrupts something sets the SIGINT
disposition it needs itself: in a child it starts (`sigint_default`), or in this process for
the test's length (`ctrl_c_raises`)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


def sigint_default() -> None:
    """preexec_fn for subprocess.Popen: SIGINT back to its default in the child before exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT (and `_thread.interrupt_main`, which does nothing while SIGINT is ignored) raises
    KeyboardInterrupt in this process while inside; the handler before it comes back after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
