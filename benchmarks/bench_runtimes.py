"""Every registered runtime x quantisation x study model on the host (issue 25): each file exported
through the registry (runtimes/) with its gates, run by its own host engine (the one the host
runner and the simulated phone use), median latency of one 1x1x48x48 image at each thread count,
rounds interleaved so that a busy machine slows every variant alike, warm-up discarded. Prints the
machine and the CPU's instruction-set features with the figures: int8 ratios depend on them.
A runtime whose optional packages are missing is skipped, said so with its install line.

    python benchmarks/bench_runtimes.py                                  # every model and runtime
    python benchmarks/bench_runtimes.py shallow_cnn --rounds 3 --iterations 20 --threads 2

Weights come from ../shared/weights/<model>.ckpt where present, else fresh (UNTRAINED, said so).
int8 calibrates on, and is gated against, the recorded FER-2013 images in ../shared/fer2013; an
int8 file refused by its gate is said so and not timed. Files go to a temporary folder; nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
WEIGHTS, FER = SHARED / "weights", SHARED / "fer2013"
# The features x86 int8 and fp32 kernels choose by (XNNPACK, oneDNN): AVX2, AVX-512, VNNI, AMX, BF16.
FEATURES = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)


def machine() -> str:
    """The CPU's model, its count, the kernel and Python, and which FEATURES /proc/cpuinfo lists."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.+)$", text, re.M).group(1).split()) if "flags" in text else set()
    have = " ".join(f"{f}{'+' if f in flags else '-'}" for f in FEATURES)
    return (
        f"{model.group(1) if model else platform.processor() or '?'}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, torch {torch.__version__}\n"
        f"features: {have}"
    )


@dataclass
class Variant:
    label: str  # "litert int8"
    version: str  # export runtime id
    runtime: str  # registry name
    quant: str
    path: Path | None = None
    seconds: float = 0.0  # export (conversion and gates)
    meta: dict[str, Any] | None = None
    refused: str = ""
    mb: float = 0.0


def plan() -> tuple[list[Variant], list[str]]:
    """Every registered runtime at each quantisation it has; the runtimes skipped, with why."""
    from fermbench import runtimes

    variants, skipped = [], []
    for spec in runtimes.RUNTIMES.values():
        missing = runtimes.missing_modules(spec)
        if missing:
            skipped.append(f"{spec.name}: {', '.join(missing)} not installed ({spec.install_hint})")
            continue
        variants += [Variant(f"{spec.name} {q}", spec.default_version, spec.name, q) for q in spec.quants]
    return variants, skipped


def export(name: str, variants: list[Variant], out: Path) -> None:
    from fermbench.errors import ExportError
    from fermbench.export import export_model

    ckpt = WEIGHTS / f"{name}.ckpt"
    checkpoint = ckpt if ckpt.is_file() else None
    for v in variants:
        t0 = time.perf_counter()
        try:
            result = export_model(
                name,
                checkpoint=checkpoint,
                untrained=checkpoint is None,
                out_dir=out,
                runtime=v.version,
                quant=v.quant,
                fer_data=FER,
            )
            v.path, v.meta, v.mb = result.path, result.meta, result.path.stat().st_size / 1e6
        except ExportError as exc:
            if v.quant == "fp32":
                raise
            v.refused = str(exc)
            print(f"  {name} {v.label} REFUSED: {exc}", flush=True)
        v.seconds = time.perf_counter() - t0
        print(f"  exported {name} {v.label} in {v.seconds:.1f} s", flush=True)


def latencies(variants: list[Variant], threads: int, x: torch.Tensor, args: argparse.Namespace) -> dict[str, float]:
    """Median ms per accepted variant over rounds x iterations, interleaved; each engine's threads
    context is entered per round (ExecuTorch's threadpool is one per process: engines take turns)."""
    from fermbench.runner.engines import make_engine

    engines = {}
    for v in variants:
        if v.path is None:
            continue
        engine = make_engine(v.runtime)
        engine.load_runtime()
        with engine.threads(threads):
            engine.load(v.path, v.path.name)
            for _ in range(args.warmup):
                engine.output(engine.forward(x))
        engines[v.label] = engine
    samples: dict[str, list[float]] = {label: [] for label in engines}
    with torch.no_grad():
        for _ in range(args.rounds):
            for label, engine in engines.items():
                with engine.threads(threads):
                    for _ in range(args.iterations):
                        t0 = time.perf_counter_ns()
                        engine.forward(x)
                        samples[label].append((time.perf_counter_ns() - t0) / 1e6)
    return {label: statistics.median(s) for label, s in samples.items()}


def main() -> int:
    from fermbench.zoo import MODEL_NAMES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=40, help="timed runs per variant per round")
    args = parser.parse_args()
    if not FER.joinpath("test").is_dir():
        print(f"FER-2013 not found at {FER}: int8 export needs it for calibration", file=sys.stderr)
        return 1
    x = torch.randn(1, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-runtimes-") as tmp:
        for name in args.models:
            variants, skipped = plan()
            export(name, variants, Path(tmp))
            rows.append((name, variants, {n: latencies(variants, n, x, args) for n in args.threads}))
    print(f"\n{machine()}")
    print(
        f"host engines; median of {args.rounds}x{args.iterations} runs after {args.warmup} warm-up, interleaved; "
        f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    for line in skipped:
        print(f"skipped {line}")
    for name, variants, ms in rows:
        trained = "trained" if variants[0].meta and variants[0].meta["trained"] else "UNTRAINED"
        base = {n: ms[n].get(variants[0].label) for n in args.threads}  # the registry's first: Lite fp32
        print(f"\n{name} ({trained})" + "".join(f"{v.label:>18}" for v in variants))
        print(f"{'  export s':22}" + "".join(f"{v.seconds:18.1f}" for v in variants))
        print(f"{'  MB':22}" + "".join(f"{v.mb:18.2f}" if v.path else f"{'refused':>18}" for v in variants))
        for n in args.threads:
            cells = [
                f"{ms[n][v.label]:10.2f} ({base[n] / ms[n][v.label]:4.1f}x)" if v.label in ms[n] else f"{'-':>18}"
                for v in variants
            ]
            print(f"{f'  ms, {n} thread(s)':22}" + "".join(f"{c:>18}" for c in cells))
    print("\n(Nx): Lite fp32's median over that variant's, at the same thread count")
    return 0


if __name__ == "__main__":
    sys.exit(main())
