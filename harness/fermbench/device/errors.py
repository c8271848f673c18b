"""Typed device errors. Every one is a DeviceError: one line naming the device and the fix.

Callers catch the family (`except DeviceError`) or one member; the CLI prints any of them as
`Error: device SERIAL: ...` and exits 1.
"""

from __future__ import annotations

from ..errors import DeviceError as DeviceError
from ..errors import RunnerError


class AdbServerError(DeviceError):
    """No adb server where we looked, or it answered nonsense."""


class DeviceNotFound(DeviceError):
    """The server does not know this serial."""


class DeviceUnauthorized(DeviceError):
    """The phone has not accepted this computer's RSA key."""


class DeviceNoPermission(DeviceError):
    """The host user may not open the USB device (udev rules)."""


class DeviceOffline(DeviceError):
    """The server knows the phone but cannot talk to it now."""

    def __init__(self, message: str, serial: str | None = None, *, started: bool = False):
        super().__init__(message, serial)
        self.started = started  # True: the command may have run on the phone before the link broke


class DeviceDisconnected(DeviceOffline):
    """The link broke while a command or transfer was under way: its effect is unknown."""

    def __init__(self, message: str, serial: str | None = None, *, output: str = ""):
        super().__init__(message, serial, started=True)
        self.output = output


class DeviceCommandError(DeviceError):
    """A shell command exited non-zero. Carries serial, command, exit code, stdout and stderr."""

    def __init__(self, serial: str, command: str, exit_code: int, stdout: str, stderr: str):
        detail = (stderr.strip() or stdout.strip()).splitlines()
        reason = detail[-1] if detail else "no output"
        short = command if len(command) <= 120 else command[:117] + "..."
        super().__init__(f"`{short}` exited {exit_code}: {reason}", serial)
        self.command, self.exit_code, self.stdout, self.stderr = command, exit_code, stdout, stderr


class DeviceTimeout(DeviceError):
    """A command did not finish in time (it was ended by closing its stream)."""

    def __init__(self, message: str, serial: str | None = None, *, output: str = ""):
        super().__init__(message, serial)
        self.output = output


class TransferError(DeviceError):
    """A push or pull failed, or the file on the other side differs from the one sent."""


class DiskFull(TransferError):
    """Not enough free space on the phone."""


class InstallError(DeviceError):
    """The package manager refused an APK; `code` is its failure name (INSTALL_FAILED_...)."""

    def __init__(self, message: str, serial: str | None = None, code: str = "unknown"):
        super().__init__(message, serial)
        self.code = code


class _RunnerDeviceError(DeviceError, RunnerError):
    """Both a device problem (it names the phone) and a runner outcome (it has a runner code)."""

    runner_code = "runner_error"

    def __init__(self, message: str, serial: str | None = None, *, output: str = ""):
        DeviceError.__init__(self, message, serial)
        self.code = self.runner_code
        self.output = output


class InstrumentationCrashed(_RunnerDeviceError):
    """The runner process died (`INSTRUMENTATION_RESULT: shortMsg=Process crashed.`)."""

    runner_code = "crashed"


class InstrumentationTimeout(_RunnerDeviceError, DeviceTimeout):
    """The runner did not finish in time; its process was ended by closing the stream."""

    runner_code = "timeout"


class InstrumentationCancelled(_RunnerDeviceError):
    """The caller stopped the run (the session is stopping); its stream was closed."""

    runner_code = "interrupted"


class RunnerNotInstalled(_RunnerDeviceError):
    """No instrumentation of that name on the phone (the runner APK is not installed)."""

    runner_code = "not_installed"
