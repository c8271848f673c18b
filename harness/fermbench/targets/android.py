"""An Android device as a benchmark target, through `fermbench.device` (the only adb code).

A simulated phone is one too, once connected to adb (bench/sim_target.py starts one for
`--device sim`).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import threading
import time
from pathlib import Path

from ..device import DEFAULT_HOST, DEFAULT_PORT, Device, DeviceFacts, InstrumentationCancelled, InstrumentationTimeout
from ..errors import DeviceError, RunnerError
from ..fileio import sha256_file
from ..runner import protocol as p
from ..runner.instrument_output import InstrumentRun
from ..tempdirs import temp_dir
from .target import HOST_CPU, Description, Environment, Target


def adb_port_from_env() -> int | None:
    """The adb server port ANDROID_ADB_SERVER_PORT names (adb's own variable), if any."""
    from ..device.adb import env_server_port

    return env_server_port() if os.environ.get("ANDROID_ADB_SERVER_PORT", "").strip() else None


class AndroidTarget(Target):
    """A phone, an emulator or a simulated phone known to adb. `serial` is the key the results
    use; for a simulated phone started per session it is "sim" (stable across --resume)."""

    def __init__(self, device: Device, key: str | None = None, kind: str | None = None):
        self.device = device
        self.serial = key or device.serial
        self.kind = kind or "android"
        self._facts: DeviceFacts | None = None

    @classmethod
    def open(
        cls,
        serial: str,
        adb_port: int | None = None,
        *,
        adb_host: str = DEFAULT_HOST,
        retry_wait_s: float = 5.0,
        key: str | None = None,
        kind: str | None = None,
    ) -> AndroidTarget:
        """The device, ready for commands; DeviceUnauthorized/DeviceOffline/... with the fix otherwise.

        The device layer retries a blip once for up to `retry_wait_s`; longer outages are the
        session's to wait out (its reconnect budget), phase by phase.
        """
        device = Device(
            serial, adb_port=adb_port or DEFAULT_PORT, adb_host=adb_host, retries=1, retry_wait_s=retry_wait_s
        )
        device.require_ready()
        return cls(device, key=key, kind=kind)

    def facts(self) -> DeviceFacts:
        self._facts = self.device.facts()
        return self._facts

    def describe(self) -> Description:
        facts = self.facts()
        tags = [
            t
            for t, on in (
                ("emulator", facts.is_emulator),
                ("debuggable", facts.debuggable),
                ("simulated", facts.is_simulated),
            )
            if on
        ]
        props = facts.to_dict()
        props["adb_serial"] = self.device.serial
        props["adb_server"] = self.device.server
        props["runner_package_versions"] = {rt: self.device.package_version(p.runner_package(rt)) for rt in p.RUNTIMES}
        if facts.is_simulated:
            self.kind = "sim"  # its runner runs on this machine's CPU
        kind = self.kind
        return Description(
            kind=kind,
            identity={
                "model": facts.model,
                "manufacturer": facts.manufacturer,
                "soc": facts.soc,
                "abis": list(facts.abis),
                "release": facts.release,
                "sdk": facts.sdk,
                "fingerprint": facts.fingerprint,
            },
            properties=props,
            tags=tags,
        )

    def put_file(self, local: Path, name: str) -> str:
        remote = f"{p.DEVICE_MODEL_DIR}/{name}"
        self.device.push(local, remote)  # skips an identical file; verified; world-readable
        return remote

    def _fetch(self, remote: str) -> bytes:
        with temp_dir("pull") as tmp:
            local = Path(tmp) / posixpath.basename(remote)
            self.device.pull(remote, local)
            data = local.read_bytes()
        self.device.shell(["rm", "-f", remote], check=False, retry=True)
        return data

    def _instrument(
        self, runtime: str, extras: dict[str, str], timeout: float, stop: threading.Event | None
    ) -> tuple[InstrumentRun, float]:
        t0 = time.perf_counter()
        try:
            with HOST_CPU if self.kind == "sim" else contextlib.nullcontext():
                t0 = time.perf_counter()  # the wait for the CPU is not runner time
                run = self.device.instrument(p.runner_component(runtime), extras, timeout, cancel=stop)
        except (InstrumentationTimeout, InstrumentationCancelled) as exc:
            # The stream is closed; make sure the runner process does not linger on the phone.
            with contextlib.suppress(DeviceError):
                self.device.shell(["am", "force-stop", p.runner_package(runtime)], check=False, timeout=15)
            if isinstance(exc, InstrumentationCancelled):
                raise RunnerError(str(exc), "interrupted") from None
            raise
        return run, time.perf_counter() - t0

    def environment(self) -> Environment:
        f = self.facts()
        return Environment(
            thermal_status=f.thermal_status, battery_temp_c=f.battery_temp_c, battery_level_pct=f.battery_level
        )

    def free_bytes(self) -> int | None:
        return self.device.free_bytes()

    def installed_size(self, apk: Path | None, runtime: str = p.RUNTIME_LITE) -> tuple[int | None, str]:
        """Bytes the runner takes on the device, when the installed runner is this very APK."""
        if apk is None:
            return None, "no --apk given"
        package = p.runner_package(runtime)
        if self.device.package_info(package) is None:
            return None, f"runner {package} not installed on the device"
        out = self.device.shell(["pm", "path", package], check=False, retry=True).stdout
        m = re.search(r"package:(\S+base\.apk)", out)
        if not m:
            return None, f"`pm path` did not name the runner's base.apk ({out.strip()[:80]})"
        base = m.group(1)
        digest = self.device.shell(["sha256sum", base], check=False, retry=True).stdout.split()
        if not digest or digest[0] != sha256_file(apk):
            return None, "the installed runner is not this APK (install it with --install)"
        du = self.device.shell(["du", "-sk", posixpath.dirname(base)], check=False, retry=True)
        if du.exit_code == 0 and du.stdout.split() and du.stdout.split()[0].isdigit():
            return int(du.stdout.split()[0]) * 1024, f"du -sk {posixpath.dirname(base)}"
        size = self.device.shell(["stat", "-c", "%s", base], check=False, retry=True).stdout.strip()
        if size.isdigit():
            return int(size), "base.apk only (du not available on the device)"
        return None, "the device did not report the installed size"

    def connected(self) -> bool:
        try:
            return self.device.state() == "device"
        except DeviceError:
            return False

    def reconnect(self) -> bool:
        # adb brings a TCP device back by itself and a USB phone reappears when re-plugged:
        # waiting and looking is all the host can do.
        return self.connected()

    def install(self, apk: Path) -> str:
        return self.device.install(apk)
