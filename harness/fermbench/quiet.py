"""Third-party noise kept out of fermbench's output: importing ExecuTorch pulls in torchao, which
warns about CUDA kernels it cannot load on a CPU build, and torch warns about its own pytree;
ExecuTorch's C++ side prints its CPU probing and every threadpool reset to stderr."""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

NOISY_LOGGERS = ("torchao", "torch.utils._pytree")


@contextmanager
def quiet_imports() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)


@contextmanager
def native_stderr() -> Iterator[list[str]]:
    """Collect what native code prints meanwhile (lines, filled on exit), keeping it off the
    terminal and out of the progress display. ExecuTorch writes to file descriptor 2, or through
    Python's sys.stderr where its bindings redirect it: catch both."""
    lines: list[str] = []
    sys.stderr.flush()
    saved_fd, saved_stream = os.dup(2), sys.stderr
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        sys.stderr = stream = io.StringIO()
        try:
            yield lines
        finally:
            sys.stderr = saved_stream
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines() + stream.getvalue().splitlines())
