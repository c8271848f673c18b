"""The suite passes however it is started: a shell's background job, `nohup` and some CI
launchers start it with SIGINT ignored, which Python then leaves ignored (no KeyboardInterrupt).
The tests that press Ctrl-C in this process run here in a pytest started that way; the ones that
interrupt a child give it SIGINT back themselves (tests/child_signals.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execvp(sys.executable, [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *sys.argv[1:]])"
)


@pytest.mark.slow
def test_tests_that_press_ctrl_c_pass_when_the_suite_starts_with_sigint_ignored():
    tests = ["tests/bench/test_threads.py", "tests/bench/test_run_signals.py"]
    out = subprocess.run([sys.executable, "-c", IGNORED, *tests], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
