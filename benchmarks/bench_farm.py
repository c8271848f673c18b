"""A device farm on one host: a sharded 4-phone session against the same session on one phone (issue 14).

Two private adb servers on loopback ports, each connected to two simulated phones (identical:
same model and build fingerprint, so they form one --shard pool). The same full 3-model session
(Lite, fp32, `--repeats R`) runs on one phone, then with --shard over the four; wall times and
where the time went (session.json totals) are printed, with the harness overhead per device.

What a pool of *simulated* phones can show. A simulated phone runs its models on this host's CPU,
and fermbench lets only one runner measure on the host CPU at a time (targets/target.py HOST_CPU):
four simulated phones therefore run their runner calls one after another, and this 2-core host
could not run them side by side anyway. So the benchmark keeps the runner's work minimal (no
warm-up, one timed iteration: each call is a model load and two inferences) and, in the
`device-bound` pair, gives every unit of work device-side time that does not use the host: the
fixed cool-down between models (`--cooldown fixed`, as ExecuTorch's device-farm jobs use), standing
in for what a real phone spends on its own (its runner and its cool-down). That pair measures what
sharding is for: spreading units over a pool and overlapping the phones' own time, with the
harness's per-unit work (push check, runner call, store writes) in the way. The `host-bound` pair
(no cool-down) shows the other side honestly: when the runner's compute is the host's, a pool of
simulated phones cannot finish sooner than one phone.

    python benchmarks/bench_farm.py                      # R=4 (12 latency units), cool-down 3 s
    python benchmarks/bench_farm.py --repeats 2 --cooldown-seconds 1 --skip-host-bound
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("shallow_cnn", "deep_cnn", "resnet9")


def start_farm(stack: contextlib.ExitStack, work: Path) -> tuple[list[str], list[str]]:
    """Two adb servers with two connected simulated phones each; returns (servers, device addresses)."""
    from fermbench.device.adb_server import AdbServer
    from fermbench.runner.protocol import PROTOCOL_VERSION, RUNNER_PACKAGE
    from fermbench.sim.apk import make_apk_bytes
    from fermbench.sim.phone import SimPhone

    apk = work / "runner.apk"
    apk.write_bytes(make_apk_bytes(RUNNER_PACKAGE, version_code=PROTOCOL_VERSION, version_name="bench"))
    servers, devices = [], []
    for _ in range(2):
        server = AdbServer().start()
        stack.callback(server.stop)
        servers.append(f"127.0.0.1:{server.port}")
        for _ in range(2):
            phone = SimPhone().start()
            stack.callback(phone.stop)
            server.connect(phone.serial)
            stack.callback(server.disconnect, phone.serial)  # before the phone stops (runs first)
            server.adb("-s", phone.serial, "install", str(apk))
            devices.append(f"{servers[-1]}/{phone.serial}")
    return servers, devices


def export_models(models: Path) -> None:
    from fermbench.bench.exports import ensure_export
    from fermbench.export.runtimes import DEFAULT_RUNTIME
    from fermbench.store import Variant

    for name in MODELS:
        ensure_export(
            Variant(name, DEFAULT_RUNTIME, "fp32"), checkpoint=None, private_dir=models / ".links", out_dir=models
        )


def session(work: Path, servers: list[str], devices: list[str], args, *, cooldown: float, shard: bool) -> dict:
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import run_benchmark

    settings = build_settings(
        devices=tuple(devices),
        adb_servers=tuple(servers),
        models=MODELS,
        warmup=0,
        warmup_seconds=0.0,
        iterations=1,
        min_seconds=0.0,
        repeats=args.repeats,
        cooldown="fixed" if cooldown else "none",
        cooldown_seconds=cooldown,
        seed=0,
        untrained=True,
        shard=shard,
        timeout_seconds=300.0,
    )
    t0 = time.perf_counter()
    outcome = run_benchmark(settings, out=work / "results", model_dir=work / "models")
    wall = time.perf_counter() - t0
    t = outcome.totals
    n = len(devices)
    units = len(MODELS) * (args.repeats + 3)  # latency repeats, then accuracy, real-world, app size per model
    setup = wall - t.wall_s - t.export_s - t.inputs_s  # opening and preflighting the devices, one after another
    # device-seconds of the session spent neither in the runner nor cooling down: pushes, store writes,
    # environment reads, and (a pool of simulated phones) waiting for the host CPU's turn, idle at the end
    outside = n * t.wall_s - t.runner_s - t.cooldown_s
    return dict(
        status=outcome.status,
        wall=wall,
        session=t.wall_s,
        runner=t.runner_s,
        transfer=t.transfer_s,
        cooldown=t.cooldown_s,
        setup_per_device=setup / n,
        push_per_device=t.transfer_s / n,
        outside_per_device=outside / n,
        outside_per_unit=outside / units,
        n=n,
    )


def show(label: str, r: dict) -> None:
    print(
        f"  {label:<18} {r['wall']:6.2f} s wall ({r['status']}); session {r['session']:.2f} s: runner "
        f"{r['runner']:.2f} s + cool-down {r['cooldown']:.2f} s summed over devices, push {r['transfer']:.2f} s"
    )
    print(
        f"  {'':<18} per device: setup {r['setup_per_device']:.2f} s (open + preflight), push "
        f"{r['push_per_device']:.2f} s, outside runner and cool-down {r['outside_per_device']:.2f} s of the "
        f"session ({r['outside_per_unit']:.3f} s per unit of work)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=4, help="latency repeats per model (units: 3 x repeats)")
    ap.add_argument(
        "--cooldown-seconds",
        type=float,
        default=3.0,
        help="device-side time per unit in the device-bound pair (fixed cool-down)",
    )
    ap.add_argument("--skip-host-bound", action="store_true", help="only the device-bound pair")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fermbench-farm-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        os.environ["FERMBENCH_CACHE"] = str(work / "cache")
        export_models(work / "models")  # once, before timing (a real session reuses cached exports)
        servers, devices = start_farm(stack, work)
        print(
            f"farm: adb servers {', '.join(servers)}; 4 simulated phones; {len(MODELS)} models x "
            f"{args.repeats} repeats; 1 timed iteration, no warm-up"
        )
        pairs = [("device-bound", args.cooldown_seconds)] + ([] if args.skip_host_bound else [("host-bound", 0.0)])
        for name, cooldown in pairs:
            print(f"{name} (cool-down {cooldown:g} s per unit):")
            one = session(work, servers[:1], devices[:1], args, cooldown=cooldown, shard=False)
            show("one phone", one)
            pool = session(work, servers, devices, args, cooldown=cooldown, shard=True)
            show("4 phones, --shard", pool)
            print(
                f"  -> {one['wall'] / pool['wall']:.2f}x shorter wall time with the pool "
                f"(session part alone: {one['session'] / pool['session']:.2f}x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
