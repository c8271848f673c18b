"""The simulated phone's "operating system": identity, file system, packages, sensors.

Everything the shell commands and the adb services read or change lives in one PhoneState.
The file system is a real folder on the host (`root`); device paths map into it and can never
escape it. Services run on several threads at once, so every shared table sits behind `lock`.
"""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .logbuf import BUFFERS, INIT, SYSTEM_SERVER, LogBuffer
from .procfs import cpuinfo, meminfo

# Folders a fresh phone has; apps write under /sdcard/Android/data/<pkg>/files.
_BASE_DIRS = (
    "data/local/tmp",
    "data/app",
    "sdcard/Android/data",
    "sdcard/Download",
    "system/bin",
    "vendor/bin",
    "product/app",
    "proc",
    "dev",
)


_SYSTEM_PACKAGES = ("android", "com.android.shell", "com.android.settings")


@dataclass(frozen=True)
class SimIdentity:
    """Who the phone says it is: the properties `getprop` answers and the adb banner carries.

    By default a device that says what it is rather than a costume: a fermbench simulated phone
    whose CPU is the host's x86_64, listing arm64-v8a second as x86_64 emulator images with ARM
    translation do, built with test keys (no vendor signed it). Every property that tools read
    agrees with the rest (ABI lists, board, tags, codename, fingerprint, `uname -m`,
    /proc/cpuinfo). `--emulator` makes it report as an emulator; `--model` and `--abi` dress it."""

    model: str = "fermbench sim"
    manufacturer: str = "fermbench"
    brand: str = "fermbench"
    device: str = "fermsim"
    product: str = "fermsim_x86_64"
    abis: tuple[str, ...] = ("x86_64", "arm64-v8a")
    sdk: int = 34
    release: str = "14"
    build_id: str = "UQ1A.240205.004"
    incremental: str = "1"
    security_patch: str = "2024-02-05"
    hardware: str = "fermsim"
    soc_manufacturer: str = "fermbench"
    soc_model: str = "host CPU"
    serialno: str = "FERMSIM0001"
    is_emulator: bool = False
    debuggable: bool = False
    cpu_cores: int = 8
    cpu_governor: str = "schedutil"
    page_size: int = 4096  # 16384 imitates an Android 15+ device with 16 KB pages
    extra_props: dict[str, str] = field(default_factory=dict)

    @property
    def build_type(self) -> str:
        return "userdebug" if self.debuggable else "user"

    @property
    def fingerprint(self) -> str:
        return (
            f"{self.brand}/{self.product}/{self.device}:{self.release}/{self.build_id}/"
            f"{self.incremental}:{self.build_type}/{self.tags}"
        )

    @property
    def tags(self) -> str:
        return "test-keys" if self.brand == "fermbench" else "release-keys"

    def props(self) -> dict[str, str]:
        """The full getprop table; `extra_props` wins over the derived values."""
        abis64 = [a for a in self.abis if a in ("arm64-v8a", "x86_64")]
        abis32 = [a for a in self.abis if a not in abis64]
        description = f"{self.product}-{self.build_type} {self.release} {self.build_id} {self.incremental} {self.tags}"
        props = {
            "ro.product.model": self.model,
            "ro.product.manufacturer": self.manufacturer,
            "ro.product.brand": self.brand,
            "ro.product.device": self.device,
            "ro.product.name": self.product,
            "ro.product.board": self.hardware,
            "ro.product.cpu.abi": self.abis[0] if self.abis else "",
            "ro.product.cpu.abilist": ",".join(self.abis),
            "ro.product.cpu.abilist64": ",".join(abis64),
            "ro.product.cpu.abilist32": ",".join(abis32),
            "ro.product.first_api_level": str(self.sdk),
            "ro.product.locale": "en-US",
            "ro.build.version.sdk": str(self.sdk),
            "ro.build.version.release": self.release,
            "ro.build.version.release_or_codename": self.release,
            "ro.build.version.codename": "REL",
            "ro.build.version.all_codenames": "REL",
            "ro.build.version.preview_sdk": "0",
            "ro.build.version.incremental": self.incremental,
            "ro.build.version.security_patch": self.security_patch,
            "ro.build.id": self.build_id,
            "ro.build.display.id": f"{self.build_id} {self.tags}",
            "ro.build.type": self.build_type,
            "ro.build.tags": self.tags,
            "ro.build.flavor": f"{self.product}-{self.build_type}",
            "ro.build.product": self.device,
            "ro.build.description": description,
            "ro.build.characteristics": "emulator" if self.is_emulator else "default",
            "ro.build.fingerprint": self.fingerprint,
            "ro.system.build.fingerprint": self.fingerprint,
            "ro.vendor.build.fingerprint": self.fingerprint,
            "ro.bootimage.build.fingerprint": self.fingerprint,
            "ro.hardware": "ranchu" if self.is_emulator else self.hardware,
            "ro.board.platform": self.hardware,
            "ro.boot.hardware": "ranchu" if self.is_emulator else self.hardware,
            "ro.soc.manufacturer": self.soc_manufacturer,
            "ro.soc.model": self.soc_model,
            "ro.serialno": self.serialno,
            "ro.boot.serialno": self.serialno,
            "ro.debuggable": "1" if self.debuggable else "0",
            "ro.secure": "0" if self.debuggable else "1",
            "ro.adb.secure": "1",
            "ro.zygote": "zygote64_32" if abis32 else "zygote64",
            "ro.sf.lcd_density": str(DISPLAY_DENSITY),
            "ro.crypto.state": "encrypted",
            "ro.crypto.type": "file",
            "ro.treble.enabled": "true",
            "ro.vndk.version": str(self.sdk),
            "ro.kernel.version": "5.10",
            "ro.boot.verifiedbootstate": "orange",
            "ro.boot.flash.locked": "0",
            "ro.opengles.version": "196610",
            "ro.dalvik.vm.native.bridge": "libndk_translation.so" if "arm64-v8a" in self.abis[1:] else "0",
            "dalvik.vm.heapsize": "512m",
            "dalvik.vm.heapgrowthlimit": "256m",
            "init.svc.adbd": "running",
            "sys.usb.config": "adb",
            "sys.usb.state": "adb",
            "service.adb.root": "0",
            "sys.boot_completed": "1",
            "dev.bootcomplete": "1",
            "gsm.version.baseband": "",
            "persist.sys.timezone": "UTC",
            "persist.sys.locale": "en-US",
            "ro.fermbench.simulated": "1",  # so that reports can tell a simulated phone from a real one
        }
        if self.is_emulator:
            props["ro.kernel.qemu"] = "1"
            props["ro.boot.qemu"] = "1"
        props.update(self.extra_props)
        return props


@dataclass
class Faults:
    """Fault injection. Mutable on purpose: a test may flip one while the phone runs."""

    offline_after_bytes: int | None = None  # drop the transport after this many bytes received
    unauthorized: bool = False  # answer CNXN with AUTH that never succeeds
    transfer_delay_s_per_mib: float = 0.0  # slow sync transfers
    disk_free_bytes: int | None = None  # free space under /data (None: the host's)
    runner_crash: bool = False  # the runner process dies part way
    runner_hang: bool = False  # the runner never finishes
    advertise_cmd: bool = True  # without `cmd`, adb installs through push + `pm install`
    reboot_delay_s: float = 5.0  # how long a reboot keeps the phone offline


@dataclass
class Package:
    """One installed package, as `pm` knows it."""

    name: str
    version_code: int
    version_name: str
    apk_path: str  # device path of base.apk
    installed_size: int
    system: bool = False  # system packages cannot be uninstalled
    installed_at: float = field(default_factory=time.time)


@dataclass
class Battery:
    level: int = 87  # percent
    temperature: int = 291  # tenths of a degree Celsius, as dumpsys reports it
    voltage: int = 4123  # mV
    status: int = 3  # BatteryManager.BATTERY_STATUS_DISCHARGING
    health: int = 2  # BATTERY_HEALTH_GOOD
    ac_powered: bool = False
    usb_powered: bool = True


# Properties the `shell` user may set (SELinux on a user build refuses the rest).
SHELL_WRITABLE_PROPS = ("debug.", "log.tag.", "persist.log.tag.")

DISPLAY_SIZE = (1080, 2400)
DISPLAY_DENSITY = 420


class PhoneState:
    """The phone's OS state. Create one per simulated phone; share it between threads.

    What a reboot keeps: files, packages, settings and persist.* properties. What it loses:
    processes, the log buffers, other properties set since boot, overrides of `wm`."""

    def __init__(self, root: Path, identity: SimIdentity | None = None, faults: Faults | None = None):
        self.root = Path(root).resolve()
        self.identity = identity or SimIdentity()
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self.logs = LogBuffer()
        # Who carries out a reboot asked for from inside the phone (`reboot`); the SimPhone
        # sets it, so that its connections drop. Without one, only the OS state reboots.
        self.reboot_handler: Callable[[str], None] | None = None
        self.props: dict[str, str] = {}
        self.packages: dict[str, Package] = {
            name: Package(name, 34, "14", f"/system/app/{name}/{name}.apk", 0, system=True) for name in _SYSTEM_PACKAGES
        }
        self.processes: dict[str, int] = {}  # running app processes: package -> pid
        # `pm install-create` sessions: id -> {split name: its bytes}, until commit or abandon
        self.install_sessions: dict[int, dict[str, bytes]] = {}
        self._next_pid = 4200
        self.battery = Battery()
        self.thermal_status = 0  # PowerManager.THERMAL_STATUS_NONE .. SHUTDOWN (0..6)
        self.screen_on = True
        self.settings: dict[str, dict[str, str]] = {
            "system": {"screen_off_timeout": "60000", "screen_brightness": "102"},
            "secure": {},
            "global": {"stay_on_while_plugged_in": "0", "adb_enabled": "1"},
        }
        self.display_size_override: tuple[int, int] | None = None
        self.density_override: int | None = None
        self.boot_time = time.time()
        self.boot_count = 0
        self._make_file_system()
        self._boot()

    def _boot(self, reboot_reason: str = "") -> None:
        """What every boot sets up afresh (the first, and each after a reboot)."""
        with self.lock:
            persisted = {k: v for k, v in self.props.items() if k.startswith("persist.")}
            self.props = {**self.identity.props(), **persisted}
            self.processes.clear()
            self.display_size_override = None
            self.density_override = None
            self.boot_time = time.time()
            self.boot_count += 1
            self.props["sys.boot.reason"] = f"reboot,{reboot_reason}" if reboot_reason else "cold,powerkey"
        self.logs.clear(BUFFERS)
        self.logs.write("I", "init", "init second stage started!", buffer="main", pid=INIT[0], uid=INIT[1])
        self.log(
            "I",
            "fermsim",
            f"booted {self.identity.model} (sdk {self.identity.sdk}), boot #{self.boot_count}",
            buffer="main",
        )
        self.log("I", "ActivityManager", "System now ready", buffer="system")

    def reboot(self, reason: str = "") -> None:
        """The OS side of a reboot: processes end, memory (logs, properties) starts afresh,
        files stay. The SimPhone does the adb side (connections drop, offline for a while)."""
        self._boot(reason or "adb")

    def request_reboot(self, reason: str) -> None:
        """A reboot asked for from inside the phone (the `reboot` command)."""
        handler = self.reboot_handler
        if handler is not None:
            handler(reason)
        else:
            self.reboot(reason)

    # -- file system -------------------------------------------------------------------------

    def _make_file_system(self) -> None:
        for d in _BASE_DIRS:
            (self.root / d).mkdir(parents=True, exist_ok=True)
        # CPU topology as sysfs shows it, so the device layer reads it with plain `cat`.
        cores = self.identity.cpu_cores
        cpu = self.root / "sys/devices/system/cpu"
        cpu.mkdir(parents=True, exist_ok=True)
        (cpu / "possible").write_text(f"0-{cores - 1}\n")
        (cpu / "online").write_text(f"0-{cores - 1}\n")
        for i in range(cores):
            freq = cpu / f"cpu{i}" / "cpufreq"
            freq.mkdir(parents=True, exist_ok=True)
            (freq / "scaling_governor").write_text(self.identity.cpu_governor + "\n")
            max_khz = 1803000 if i < cores // 2 else 2850000
            (freq / "cpuinfo_max_freq").write_text(f"{max_khz}\n")
            (freq / "scaling_cur_freq").write_text(f"{max_khz // 2}\n")
        (self.root / "proc/meminfo").write_text(meminfo())
        abi = self.identity.abis[0] if self.identity.abis else "arm64-v8a"
        (self.root / "proc/cpuinfo").write_text(cpuinfo(abi, cores))

    def host_path(self, device_path: str) -> Path:
        """Map an absolute device path into the root; refuse anything that would leave it.

        Symlinks are resolved first, so a link pointing outside the root is refused too.
        Relative paths are taken from `/`, as adbd's shell starts there.
        """
        parts = [p for p in PurePosixPath("/" + device_path).parts[1:] if p not in ("", ".")]
        clean: list[str] = []
        for p in parts:
            if p == "..":
                if clean:
                    clean.pop()
            else:
                clean.append(p)
        host = self.root.joinpath(*clean) if clean else self.root
        resolved = host.resolve()
        if resolved != self.root and not resolved.is_relative_to(self.root):
            # what a phone's SELinux says; the host folder outside the root is never touched
            raise PermissionError(errno.EACCES, "Permission denied", device_path)
        return host

    def device_path(self, host: Path) -> str:
        """The inverse of host_path, for messages and listings."""
        rel = Path(host).resolve().relative_to(self.root)
        return "/" + rel.as_posix() if str(rel) != "." else "/"

    def free_bytes(self) -> int:
        """Free space under /data; a disk-full fault fixes it to a given number."""
        if self.faults.disk_free_bytes is not None:
            return max(0, int(self.faults.disk_free_bytes))
        return shutil.disk_usage(self.root).free

    def total_bytes(self) -> int:
        return max(shutil.disk_usage(self.root).total, self.free_bytes())

    # -- packages ----------------------------------------------------------------------------

    def install_package(self, pkg: Package) -> None:
        with self.lock:
            self.packages[pkg.name] = pkg
        self.log("I", "PackageManager", f"installed {pkg.name} versionCode={pkg.version_code}", buffer="system")

    def uninstall_package(self, name: str) -> Package | None:
        with self.lock:
            pkg = self.packages.pop(name, None)
        if pkg is not None and pkg.system:
            with self.lock:
                self.packages[name] = pkg
            raise PermissionError(f"{name} is a system package")
        if pkg is not None:
            apk_dir = self.host_path(pkg.apk_path).parent
            shutil.rmtree(apk_dir, ignore_errors=True)
            self.log("I", "PackageManager", f"uninstalled {name}", buffer="system")
        return pkg

    def package(self, name: str) -> Package | None:
        with self.lock:
            return self.packages.get(name)

    # -- processes ---------------------------------------------------------------------------

    def start_process(self, package: str) -> int:
        with self.lock:
            self._next_pid += 1
            self.processes[package] = self._next_pid
            pid = self._next_pid
        self.log(
            "I",
            "ActivityManager",
            f"Start proc {pid}:{package}/u0a201 for added application {package}",
            buffer="system",
        )
        return pid

    def end_process(self, package: str, reason: str = "") -> None:
        with self.lock:
            pid = self.processes.pop(package, None)
        if pid is not None:
            self.log(
                "I",
                "ActivityManager",
                f"Process {package} (pid {pid}) has died{': ' + reason if reason else ''}",
                buffer="system",
            )

    # -- properties, settings, log ------------------------------------------------------------

    def getprop(self, key: str) -> str:
        with self.lock:
            return self.props.get(key, "")

    def setprop(self, key: str, value: str) -> None:
        with self.lock:
            self.props[key] = value

    def log(
        self,
        level: str,
        tag: str,
        message: str,
        *,
        buffer: str = "main",
        pid: int = SYSTEM_SERVER[0],
        uid: int = SYSTEM_SERVER[1],
    ) -> None:
        """Write one entry to the log buffers (`logcat` reads them)."""
        self.logs.write(level, tag, message, buffer=buffer, pid=pid, uid=uid)
