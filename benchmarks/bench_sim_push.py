"""The simulated phone itself: start+stop time, and what plain adb and adbutils get from it.

    python benchmarks/bench_sim_push.py [--mib 50] [--repeats 5] [--shells 50] [--adb PATH]

For the same file to the same in-process simulated phone through one private adb server:
plain `adb push` and adbutils' sync push (the phone's own ceiling, without fermbench), and one
shell round trip through `adb shell` and adbutils' shell2. fermbench's Device against plain adb
(the issue's 20% goal) is measured by benchmarks/bench_device_push.py, with the phone in its own
process. Figures are medians over the repeats; every sample is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import adbutils

from fermbench.device.adb_server import AdbServer, find_adb
from fermbench.sim.phone import SimPhone

REMOTE = "/data/local/tmp/bench_push.bin"


def timed(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def show(label: str, samples: list[float], size: int | None = None) -> float:
    med = statistics.median(samples)
    if size:
        rates = ", ".join(f"{size / s / 1e6:.0f}" for s in samples)
        print(f"{label:<42} {size / med / 1e6:8.1f} MB/s  (median of {len(samples)}: {rates})")
    else:
        print(
            f"{label:<42} {med * 1e3:8.2f} ms    (median of {len(samples)}, "
            f"min {min(samples) * 1e3:.2f}, max {max(samples) * 1e3:.2f})"
        )
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shells", type=int, default=50)
    ap.add_argument("--adb", default=None, help="adb binary (default: find_adb())")
    args = ap.parse_args()
    adb = args.adb or find_adb()
    size = args.mib * 1024 * 1024

    starts = timed(lambda: SimPhone().start().stop(), 20)
    with tempfile.TemporaryDirectory() as tmp, SimPhone() as phone, AdbServer(adb_path=adb) as server:
        version = server.adb("version").stdout.splitlines()[1]
        print(f"adb: {adb} ({version}); file: {args.mib} MiB; phone {phone.serial}")
        show("simulated phone start+stop", starts)
        server.connect(phone.serial)
        src = Path(tmp) / "bench.bin"
        src.write_bytes(os.urandom(size))
        d = adbutils.AdbClient(host="127.0.0.1", port=server.port).device(phone.serial)
        on_phone = phone.state.host_path(REMOTE)

        def fresh():
            on_phone.unlink(missing_ok=True)

        def adb_push():
            fresh()
            server.adb("-s", phone.serial, "push", str(src), REMOTE)

        def adbutils_push():
            fresh()
            d.sync.push(src, REMOTE, mode=0o644)

        print("\n-- push --")
        show("adb push (client process)", timed(adb_push, args.repeats), size)
        show("adbutils sync.push", timed(adbutils_push, args.repeats), size)

        print("\n-- one shell round trip (`true`) --")
        show("adb shell (client process)", timed(lambda: server.adb("-s", phone.serial, "shell", "true"), args.shells))
        show("adbutils shell2 v2", timed(lambda: d.shell2("true", v2=True), args.shells))
        server.disconnect(phone.serial)


if __name__ == "__main__":
    main()
