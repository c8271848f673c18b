"""`fermbench run`'s signal handling: the first Ctrl-C or SIGTERM stops the session, later ones
change nothing, and after an interrupt both stay ignored until the process exits (exit 130, never
killed by a late SIGTERM); a run that ends normally gives the handlers back."""

from __future__ import annotations

import os
import signal
import time

import pytest

from child_signals import ctrl_c_raises  # tests/ is on pytest's pythonpath
from fermbench.bench.commands import interrupt_once


@pytest.fixture(autouse=True)
def _handlers_kept():
    """Whatever a test does, the suite's own handlers come back (SIGINT raising, as by default)."""
    sigterm = signal.getsignal(signal.SIGTERM)
    with ctrl_c_raises():
        yield
    signal.signal(signal.SIGTERM, sigterm)


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_interrupts_and_later_ones_are_harmless(first):
    late = []
    with pytest.raises(KeyboardInterrupt):
        with interrupt_once():
            try:
                os.kill(os.getpid(), first)
                time.sleep(5)  # not reached: the handler raises at once
            except KeyboardInterrupt:
                for sig in (signal.SIGTERM, signal.SIGINT):  # impatient: again while it winds down
                    os.kill(os.getpid(), sig)
                    late.append(sig)
                raise
    assert late == [signal.SIGTERM, signal.SIGINT]  # the winding down was not cut short
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_a_run_that_ends_gives_the_handlers_back():
    def mine(signum, frame):
        raise AssertionError("not called")

    signal.signal(signal.SIGTERM, mine)
    with interrupt_once():
        assert signal.getsignal(signal.SIGTERM) is not mine
    assert signal.getsignal(signal.SIGTERM) is mine
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_sigint_ignored_from_the_start_stays_ignored():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup
    with pytest.raises(KeyboardInterrupt):
        with interrupt_once():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # not reached: the handler raises at once
