"""Daemon threads whose end is waited for through an Event, never through Thread.join.

Why: on Python 3.11, a Ctrl-C (KeyboardInterrupt, also SIGTERM here) that lands inside
`Thread.join` marks a thread that is still running as stopped (the bpo-45274 handler in
`_wait_for_tstate_lock` releases the running thread's state lock). Every later join then returns
at once, and the process exits while that thread is inside torch: it aborts ("terminate called
without an active exception", exit -6) instead of stopping cleanly. An interrupted Event.wait has
no such side effect.
"""

from __future__ import annotations

import threading
from typing import Callable


class Worker:
    """One daemon thread running `target`; `done` is set when it has returned or raised."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.done = threading.Event()
        self.name = name

        def run() -> None:
            try:
                target()
            finally:
                self.done.set()

        self._thread = threading.Thread(target=run, name=name, daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def alive(self) -> bool:
        return not self.done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the thread has finished; False if `timeout` passed first."""
        return self.done.wait(timeout)
