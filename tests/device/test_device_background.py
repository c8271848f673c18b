"""The device layer's background work (hashing a file on one side while it crosses the wire) is
waited for through an Event (fermbench.threads.Background), never Thread.join: a Ctrl-C during the
wait reaches the caller, and the work is still known to be running afterwards, so a later wait
really waits for its result (after an interrupted Thread.join, Python 3.11 takes a running thread
for finished, and the result is missing)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import fermbench.device
from fermbench.threads import Background


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in this test, also when the suite was started with SIGINT
    ignored (a background job, nohup)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def press_ctrl_c_when(ready: threading.Event) -> None:
    """A real SIGINT to this process once `ready` is set and the main thread is inside its wait."""

    def press() -> None:
        ready.wait(30)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press, daemon=True).start()


def test_a_ctrl_c_during_the_wait_reaches_the_caller_and_a_later_wait_gets_the_result(ctrl_c):
    started, release = threading.Event(), threading.Event()

    def hash_on_the_phone() -> tuple[str, str]:
        started.set()
        release.wait(30)
        return "sha256", "ab" * 32

    work = Background(hash_on_the_phone, "test-hash")
    press_ctrl_c_when(started)
    with pytest.raises(KeyboardInterrupt):
        work.result()
    assert not work.done(), "the interrupted wait took the running work for finished"
    release.set()
    assert work.result() == ("sha256", "ab" * 32)
    assert work.done()


def test_the_error_of_the_work_is_raised_in_the_caller():
    def fails() -> str:
        raise OSError("the link broke")

    with pytest.raises(OSError, match="the link broke"):
        Background(fails, "test-hash").result()


def test_the_work_runs_while_the_caller_goes_on():
    release = threading.Event()
    work = Background(lambda: release.wait(30), "test-hash")
    assert not work.done()  # the caller was not made to wait
    release.set()
    assert work.result() is True


def test_the_device_layer_starts_no_thread_of_its_own():
    # its threads come from fermbench.threads, whose waits are Events
    for path in Path(fermbench.device.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "threading.Thread(" not in text, path.name
