"""Third-party noise kept out of fermbench's output: importing ExecuTorch pulls in torchao, which
warns about CUDA kernels it cannot load on a CPU build, and torch warns about its own pytree."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from typing import Iterator

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
