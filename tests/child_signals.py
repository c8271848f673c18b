"""Children that a test interrupts with SIGINT must be able to receive it, however the suite was
started: a shell's background job, `nohup` and some CI launchers start it with SIGINT ignored, and
an ignored signal stays ignored across exec (Python then installs no KeyboardInterrupt handler)."""

from __future__ import annotations

import signal


def sigint_default() -> None:
    """preexec_fn for subprocess.Popen: SIGINT back to its default in the child before exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
