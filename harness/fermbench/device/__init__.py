"""The device layer: the only code that talks to adb (through adbutils).

from fermbench.device import Device, list_devices
for entry in list_devices(port=5037):      # DeviceEntry(serial, state, info, fix)
    ...
dev = Device(serial)                       # facts(), shell(), push(), pull(), install(), instrument()
"""

from .adb import DEFAULT_HOST, DEFAULT_PORT, DeviceEntry, find_adb, list_devices
from .device import Device, PackageInfo, PullResult, PushResult, ShellResult, join_args
from .errors import (
    AdbServerError,
    DeviceCommandError,
    DeviceDisconnected,
    DeviceNoPermission,
    DeviceNotFound,
    DeviceOffline,
    DeviceTimeout,
    DeviceUnauthorized,
    DiskFull,
    InstallError,
    InstrumentationCancelled,
    InstrumentationCrashed,
    InstrumentationTimeout,
    RunnerNotInstalled,
    TransferError,
)
from .facts import DeviceFacts

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "AdbServerError",
    "Device",
    "DeviceCommandError",
    "DeviceDisconnected",
    "DeviceEntry",
    "DeviceFacts",
    "DeviceNoPermission",
    "DeviceNotFound",
    "DeviceOffline",
    "DeviceTimeout",
    "DeviceUnauthorized",
    "DiskFull",
    "InstallError",
    "InstrumentationCancelled",
    "InstrumentationCrashed",
    "InstrumentationTimeout",
    "PackageInfo",
    "PullResult",
    "PushResult",
    "RunnerNotInstalled",
    "ShellResult",
    "TransferError",
    "find_adb",
    "join_args",
    "list_devices",
]
