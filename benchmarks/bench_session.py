"""Session cost and measurement stability, printed as figures (issue 6).

1. Wall time of a full 3-model session on the simulated phone (through the real adb), split
   into harness overhead (export, push, pull, store, process start, host predictions) and runner
   time (the `am instrument` calls). Goal: overhead under 10% of the session.
2. Run-to-run spread of each model's median latency over 5 repeats on the host runner.

    python benchmarks/bench_session.py                 # both, default sizes
    python benchmarks/bench_session.py --part spread --repeats 5 --iterations 200

Exports are made once into a temporary models folder before timing (a real session reuses
cached exports the same way); the first session run is also reported cold (exports included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

FER = Path(__file__).resolve().parents[1] / ".." / "shared" / "fer2013"


def settings_for(device: str, args, **over):
    from fermbench.bench.settings import build_settings

    base = dict(
        devices=(device,),
        warmup=args.warmup,
        warmup_seconds=0.2,
        iterations=args.iterations,
        min_seconds=args.min_seconds,
        cooldown_seconds=0.0,
        seed=0,
        untrained=True,
    )
    if FER.joinpath("test").is_dir() and args.fer_limit:
        base.update(fer_data=str(FER.resolve()), fer_limit=args.fer_limit)
    base.update(over)
    return build_settings(**base)


def part_overhead(args, work: Path) -> None:
    from fermbench.bench.start import run_benchmark

    models = work / "models"
    t0 = time.perf_counter()
    cold = run_benchmark(settings_for("sim", args), out=work / "results", model_dir=models)
    cold_wall = time.perf_counter() - t0
    print(f"cold session (exports included): {cold_wall:.2f} s wall, status {cold.status}")
    for run in range(args.sessions):
        t0 = time.perf_counter()
        outcome = run_benchmark(settings_for("sim", args), out=work / "results", model_dir=models)
        wall = time.perf_counter() - t0  # includes starting the simulated phone and the adb connect
        t = outcome.totals
        overhead = wall - t.runner_s - t.cooldown_s
        print(
            f"session {run + 1}: {wall:.2f} s wall = runner {t.runner_s:.2f} s + overhead {overhead:.2f} s "
            f"({overhead / wall:.1%}; goal < 10%) [export/cache check {t.export_s:.2f} s, inputs "
            f"{t.inputs_s:.2f} s, push {t.transfer_s:.2f} s, host predictions {t.host_predictions_s:.2f} s, "
            f"rest (sim start, adb, preflight, store) "
            f"{overhead - t.export_s - t.inputs_s - t.transfer_s - t.host_predictions_s:.2f} s]  "
            f"status {outcome.status}"
        )


def part_spread(args, work: Path) -> None:
    from fermbench.bench.start import run_benchmark
    from fermbench.stats import repeat_spread
    from fermbench.store import load_sessions

    settings = settings_for("host", args, repeats=args.repeats, fer_data=None, fer_limit=None)
    outcome = run_benchmark(settings, out=work / "results", model_dir=work / "models")
    samples = load_sessions([outcome.store.path]).samples
    timed = samples[samples.phase == "timed"]
    print(
        f"run-to-run spread on the host runner, {args.repeats} repeats, >= {args.iterations} iterations "
        f"and >= {args.min_seconds} s each, 1 thread:"
    )
    for model, rows in timed.groupby("model"):
        spread = repeat_spread([g.ns.to_numpy() for _, g in rows.groupby("repeat")])
        medians = ", ".join(f"{m / 1e6:.3f}" for m in spread.medians)
        print(f"  {model:<12} medians ms [{medians}]  range {spread.relative_range:.1%}  cv {spread.cv:.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("overhead", "spread", "all"), default="all")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=2, help="timed sessions after the cold one")
    ap.add_argument("--fer-limit", type=int, default=500, help="FER-2013 images classified (0: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fermbench-bench-") as tmp:
        work = Path(tmp)
        os.environ["FERMBENCH_CACHE"] = str(work / "cache")
        if args.part in ("overhead", "all"):
            part_overhead(args, work)
        if args.part in ("spread", "all"):
            part_spread(args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
