"""fermbench's device layer against plain adb, with the simulated phone in its own process.

    python benchmarks/bench_device_push.py [--mib 50] [--repeats 5] [--shells 100] [--adb PATH]

The phone runs as `fermbench sim` in a child process (so it does not share this process's
GIL with the code being measured, as a real phone would not), behind a private adb server.
Prints, for the same file to the same phone, medians and every sample of:
  - `adb push` (the adb client process),
  - Device.push(verify=False) and Device.push() (sha256 checked on the phone),
  - Device.push of an identical file (skipped after comparing digests),
  - Device.pull() (verified),
and the cost of one shell round trip: `adb shell true` vs Device.shell("true").
Goal (issue 4): Device.push within 20% of `adb push`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fermbench.device import Device
from fermbench.device.adb_server import AdbServer, free_port

REMOTE = "/data/local/tmp/bench/blob.bin"


def show(label: str, samples: list[float], size: int | None = None) -> float:
    med = statistics.median(samples)
    if size:
        each = ", ".join(f"{size / s / 1e6:.0f}" for s in samples)
        print(f"{label:<40} {med * 1e3:8.1f} ms  {size / med / 1e6:7.0f} MB/s  (samples MB/s: {each})")
    else:
        print(
            f"{label:<40} {med * 1e3:8.2f} ms  (median of {len(samples)}; min {min(samples) * 1e3:.2f}, "
            f"max {max(samples) * 1e3:.2f})"
        )
    return med


def start_sim(root: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fermbench.cli", "sim", "--port", str(port), "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()  # "simulated phone ... listening as 127.0.0.1:PORT"
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"simulated phone did not start: {line!r}")
    return proc, port


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shells", type=int, default=100)
    ap.add_argument("--adb", default=None, help="adb binary (default: find_adb())")
    args = ap.parse_args()
    size = args.mib * 1024 * 1024

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "phone"
        proc, port = start_sim(root)
        try:
            with AdbServer(adb_path=args.adb) as server:
                serial = f"127.0.0.1:{port}"
                server.connect(serial)
                print(
                    f"adb {server.adb('version').stdout.splitlines()[1]}; phone {serial} (own process); "
                    f"file {args.mib} MiB; {os.cpu_count()} CPUs"
                )
                dev = Device(serial, adb_port=server.port)
                src = Path(tmp) / "blob.bin"
                src.write_bytes(os.urandom(size))
                on_phone = root / REMOTE.lstrip("/")

                runs: dict[str, list[float]] = {k: [] for k in ("adb", "raw", "verified", "skip", "pull")}
                for _ in range(args.repeats):  # interleaved, so drift in a shared machine hits all alike
                    on_phone.unlink(missing_ok=True)
                    dev.shell(["mkdir", "-p", os.path.dirname(REMOTE)])
                    t0 = time.perf_counter()
                    server.adb("-s", serial, "push", str(src), REMOTE)
                    runs["adb"].append(time.perf_counter() - t0)
                    on_phone.unlink()
                    runs["raw"].append(dev.push(src, REMOTE, verify=False).seconds)
                    on_phone.unlink()
                    runs["verified"].append(dev.push(src, REMOTE).seconds)
                    skipped = dev.push(src, REMOTE)
                    assert skipped.skipped
                    runs["skip"].append(skipped.seconds)
                    runs["pull"].append(dev.pull(REMOTE, Path(tmp) / "back.bin").seconds)

                print("\n-- push / pull --")
                adb = show("adb push (client process)", runs["adb"], size)
                raw = show("Device.push(verify=False)", runs["raw"], size)
                ver = show("Device.push (sha256 verified)", runs["verified"], size)
                show("Device.push, identical file (skipped)", runs["skip"])
                show("Device.pull (sha256 verified)", runs["pull"], size)
                print(f"time ratio vs adb push: unverified {raw / adb:.2f}, verified {ver / adb:.2f} (goal <= 1.20)")

                print("\n-- one shell round trip --")
                adb_sh, dev_sh = [], []
                for _ in range(args.shells):
                    t0 = time.perf_counter()
                    server.adb("-s", serial, "shell", "true")
                    adb_sh.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    dev.shell("true")
                    dev_sh.append(time.perf_counter() - t0)
                show("adb shell true (client process)", adb_sh)
                show("Device.shell('true')", dev_sh)
                t0 = time.perf_counter()
                dev.facts()
                print(f"{'Device.facts() (one round trip)':<40} {(time.perf_counter() - t0) * 1e3:8.2f} ms")
                server.disconnect(serial)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
