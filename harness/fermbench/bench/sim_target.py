"""`--device sim`: a simulated phone started for a session, connected through the real adb server
(the one at ANDROID_ADB_SERVER_PORT when set, else a private one for the session), with the
runner package installed from an APK-shaped file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..runner import protocol as p
from ..targets import AndroidTarget
from ..tempdirs import temp_dir


def start_sim(
    stack: contextlib.ExitStack, key: str = "sim", adb_port: int | None = None, retry_wait_s: float = 5.0
) -> AndroidTarget:
    """Start a simulated phone, connect it through the real adb, install the runner on it."""
    from .. import __version__
    from ..device.adb_server import AdbServer, server_answers
    from ..sim.apk import make_apk_bytes
    from ..sim.phone import SimPhone

    if adb_port is not None and server_answers(adb_port):
        # the user's server (ANDROID_ADB_SERVER_PORT): used, never stopped here
        home = stack.enter_context(temp_dir("adbhome"))
        server = AdbServer(port=adb_port, home=home)
    else:
        server = AdbServer(port=adb_port).start()  # fermbench's own: stopped (and its HOME removed) at the end
        stack.callback(server.stop)
    phone = SimPhone().start()
    stack.callback(phone.stop)
    server.connect(phone.serial)
    stack.callback(lambda: server.disconnect(phone.serial))
    target = AndroidTarget.open(phone.serial, adb_port=server.port, key=key, kind="sim", retry_wait_s=retry_wait_s)
    for runtime in p.RUNTIMES:  # the simulated phone has both runner flavors installed
        package = p.runner_package(runtime)
        if target.device.package_version(package) is None:
            with temp_dir("runner") as tmp:
                apk = Path(tmp) / f"{package}-sim.apk"
                apk.write_bytes(make_apk_bytes(package, version_code=p.PROTOCOL_VERSION, version_name=__version__))
                target.install(apk)
    return target
