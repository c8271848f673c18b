"""One error family. The CLI turns any FermbenchError into `Error: <message>` and exit code 1.

Messages are one line that names the thing and the fix, e.g.
"unknown model 'resnet18': choose one of deep_cnn, resnet9, shallow_cnn (see `fermbench models`)".
"""

from __future__ import annotations


class FermbenchError(Exception):
    """Base of every error a user can cause or fix. Never raised for programming bugs."""


class ConfigError(FermbenchError):
    """Bad option, unknown config key, missing file the user named."""


class ModelError(FermbenchError):
    """Unknown architecture, checkpoint mismatch, corrupt checkpoint."""


class ExportError(FermbenchError):
    """An export gate failed (lite vs eager mismatch, bytecode out of range, unwritable folder)."""


class DataError(FermbenchError):
    """Dataset layout or content problems (wrong size, unknown class, unreadable image)."""


class DeviceError(FermbenchError):
    """Anything about a phone: not found, unauthorized, offline, a shell command that failed."""

    def __init__(self, message: str, serial: str | None = None):
        super().__init__(f"device {serial}: {message}" if serial else message)
        self.serial = serial


class RunnerError(FermbenchError):
    """The on-device (or host) runner answered with a coded error, crashed, or hung."""

    def __init__(self, message: str, code: str = "runner_error"):
        super().__init__(message)
        self.code = code


class ResultsError(FermbenchError):
    """Results store problems: unknown session, unsupported schema version, corrupt file."""


class StorageError(FermbenchError):
    """A file could not be written (disk full, read-only, no permission): the path, the free space, the fix."""


class LockError(FermbenchError):
    """A lock file or fermbench's runtime folder is unsafe (another owner, open permissions, a link)
    or cannot be written."""
