"""Every adb command fermbench sends, logged at DEBUG on the `fermbench.device` logger with the
serial it went to (as mobly logs each adb call with its device). `fermbench -v ...` prints them:

    [127.0.0.1:15555] shell: ls -l /data/local/tmp
    [127.0.0.1:15555] exit 0 in 0.031 s: ls -l /data/local/tmp
    [adb server 127.0.0.1:5037] host:devices-l

The serial is also the record's `serial` attribute, for a handler that sorts logs by phone.
"""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("fermbench.device")
LOCAL = "adb binary"  # what stands for the serial where fermbench asks the adb binary itself (`adb version`)
LIMIT = 300  # characters of one command in the log: a shell script or a long argument list stays readable


def command(serial: str, text: str) -> None:
    """`text` was sent to `serial` (a phone's serial, or server(...) for the adb server itself)."""
    if LOGGER.isEnabledFor(logging.DEBUG):
        LOGGER.debug("[%s] %s", serial, _short(text), extra={"serial": serial})


def finished(serial: str, text: str, exit_code: int, seconds: float) -> None:
    if LOGGER.isEnabledFor(logging.DEBUG):
        LOGGER.debug("[%s] exit %d in %.3f s: %s", serial, exit_code, seconds, _short(text), extra={"serial": serial})


def server(host: str, port: int) -> str:
    """What stands for the serial in a command to the adb server itself."""
    return f"adb server {host}:{port}"


def _short(text: str) -> str:
    return text if len(text) <= LIMIT else text[: LIMIT - 3] + "..."
