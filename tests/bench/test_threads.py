"""Ctrl-C in the main thread while it waits for a worker or a runner call: the thread it waits
for is still known to be running afterwards, and a runner call is cancelled and waited for
before the interrupt goes on (a process exiting under a runner thread inside torch aborts)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from child_signals import ctrl_c_raises  # tests/ is on pytest's pythonpath
from fermbench.targets import run_with_timeout
from fermbench.threads import Worker


@pytest.fixture(autouse=True)
def _ctrl_c_raises():
    """Each test presses Ctrl-C: it must raise here even when the suite started with SIGINT ignored."""
    with ctrl_c_raises():
        yield


def ctrl_c_when(ready: threading.Event) -> None:
    """Press Ctrl-C once `ready` is set: a real SIGINT, which (unlike _thread.interrupt_main)
    interrupts the main thread inside a blocking wait, as the user's Ctrl-C or SIGTERM does."""

    def press() -> None:
        ready.wait(30)
        time.sleep(0.2)  # the main thread is inside its wait by now
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press, daemon=True).start()


def test_an_interrupted_wait_does_not_mark_a_running_worker_finished():
    release, started = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait(30)

    worker = Worker(busy, "test-worker").start()
    ctrl_c_when(started)
    with pytest.raises(KeyboardInterrupt):
        worker.wait(30)
    assert worker.alive(), "the interrupted wait took a running worker for finished"
    release.set()
    assert worker.wait(30) and not worker.alive()


def test_ctrl_c_during_a_runner_call_cancels_the_runner_and_waits_for_it():
    started, seen_cancel, finished = threading.Event(), threading.Event(), threading.Event()

    def runner(emit, cancel: threading.Event) -> None:
        started.set()
        try:
            while not cancel.wait(0.01):  # a timed loop that stops at the next iteration once cancelled
                pass
            seen_cancel.set()
            time.sleep(0.3)  # winding down takes a moment: the interrupt must wait for it
        finally:
            finished.set()

    ctrl_c_when(started)
    with pytest.raises(KeyboardInterrupt):
        run_with_timeout(runner, timeout=60)
    assert seen_cancel.is_set(), "the runner was not cancelled when its caller was interrupted"
    assert finished.is_set(), "the interrupt went on while the runner thread was still running"
