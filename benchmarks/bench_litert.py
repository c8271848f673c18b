"""LiteRT fp32 and int8 beside PyTorch Lite fp32 and ExecuTorch fp32/int8 on the host (issue 25).

For each model of the study: the conversion time of each file, its size, and the median latency
of one 1x1x48x48 image through its own runtime at 1 and 2 threads (warm-up discarded, rounds
interleaved so that a busy machine slows every variant alike). LiteRT runs through the host
engine (runner/litert_engine.py: ai-edge-litert's interpreter with XNNPACK). The CPU's
instruction-set flags are printed with the figures: int8 speed depends on them.

    python benchmarks/bench_litert.py                        # all models
    python benchmarks/bench_litert.py shallow_cnn --rounds 3 --iterations 30

Weights come from ../shared/weights/<model>.ckpt where present, else fresh (UNTRAINED, said so).
int8 calibrates on, and is gated against, the recorded FER-2013 images in ../shared/fer2013.
Files are exported into a temporary folder; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
WEIGHTS, FER = SHARED / "weights", SHARED / "fer2013"
ET = "executorch-1.4.1"
VARIANTS = ("lite fp32", "et fp32", "et int8", "litert fp32", "litert int8")
FLAG_PATTERN = re.compile(r"^(avx2|avx512\w*|\w*vnni\w*|amx\w*|fma|f16c)$")


def cpu_summary() -> str:
    """The CPU's model name and the instruction-set flags int8 and fp32 kernels choose by."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU: /proc/cpuinfo not readable"
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    wanted = sorted(f for f in (flags.group(1).split() if flags else []) if FLAG_PATTERN.match(f))
    listed = " ".join(wanted) or "none of avx2/avx512/vnni"
    return f"CPU: {model.group(1) if model else '?'}, {os.cpu_count()} CPUs; flags: {listed}"


def export_variants(name: str, out: Path) -> tuple[dict[str, Path], dict[str, float], dict[str, dict[str, Any]]]:
    """label -> accepted file, label -> conversion seconds, label -> metadata (for a file refused
    by its gates: the error, and no file)."""
    from fermbench.errors import ExportError
    from fermbench.export import DEFAULT_RUNTIME, export_model
    from fermbench.export.fer_samples import fer_samples
    from fermbench.export.litert.exporter import export_litert_module
    from fermbench.export.models import model_and_identity

    ckpt = WEIGHTS / f"{name}.ckpt"
    checkpoint = ckpt if ckpt.is_file() else None
    samples = fer_samples(FER)
    files, seconds, metas = {}, {}, {}
    for label in VARIANTS:
        runtime, quant = label.split()
        t0 = time.perf_counter()
        try:
            if runtime == "litert":
                model, identity, _ = model_and_identity(name, checkpoint, checkpoint is None, seed=0)
                result = export_litert_module(model, name, out, identity, quant=quant, samples=samples)
            else:
                result = export_model(
                    name,
                    checkpoint=checkpoint,
                    untrained=checkpoint is None,
                    out_dir=out,
                    runtime=DEFAULT_RUNTIME if runtime == "lite" else ET,
                    quant=quant,
                    fer_data=FER,
                )
        except ExportError as exc:
            if quant != "int8":
                raise
            seconds[label], metas[label] = time.perf_counter() - t0, {"refused": str(exc)}
            print(f"  {name} {label} REFUSED: {exc}", flush=True)
            continue
        seconds[label], files[label], metas[label] = time.perf_counter() - t0, result.path, result.meta
        print(f"  exported {name} {label} in {seconds[label]:.1f} s", flush=True)
    return files, seconds, metas


def runners(files: dict[str, Path], threads: int) -> dict[str, Callable[[torch.Tensor], Any]]:
    """label -> one forward through that file's own runtime, with `threads` threads."""
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

    from fermbench.export.executorch_api import load_method, load_program
    from fermbench.export.gates import load_lite
    from fermbench.quiet import native_stderr
    from fermbench.runner.litert_engine import LitertEngine

    torch.set_num_threads(threads)
    with native_stderr():
        _unsafe_reset_threadpool(threads)
    lite = load_lite(files["lite fp32"])
    run: dict[str, Callable[[torch.Tensor], Any]] = {"lite fp32": lambda x: lite(x)}

    def pte_forward(label: str) -> Callable[[torch.Tensor], Any]:
        method = load_method(load_program(files[label], label), "forward", label)
        return lambda x: method.execute([x])[0]

    def litert_forward(label: str) -> Callable[[torch.Tensor], Any]:
        engine = LitertEngine()
        engine.load_runtime()
        with engine.threads(threads):
            engine.load(files[label], files[label].name)
        return engine.forward

    for label in ("et fp32", "et int8", "litert fp32", "litert int8"):
        if label in files:  # an int8 file refused by its gate is not timed
            run[label] = pte_forward(label) if label.startswith("et") else litert_forward(label)
    return run


def latencies(
    run: dict[str, Callable[[torch.Tensor], Any]], x: torch.Tensor, args: argparse.Namespace
) -> dict[str, float]:
    """Median ms per variant over rounds x iterations, rounds interleaved, warm-up discarded."""
    samples: dict[str, list[float]] = {label: [] for label in run}
    with torch.no_grad():
        for f in run.values():
            for _ in range(args.warmup):
                f(x)
        for _ in range(args.rounds):
            for label, f in run.items():
                for _ in range(args.iterations):
                    t0 = time.perf_counter_ns()
                    f(x)
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
    with tempfile.TemporaryDirectory(prefix="bench-litert-") as tmp:
        for name in args.models:
            files, seconds, metas = export_variants(name, Path(tmp))
            ms = {n: latencies(runners(files, n), x, args) for n in args.threads}
            sizes = {v: f.stat().st_size / 1e6 for v, f in files.items()}  # before the folder goes
            rows.append((name, sizes, seconds, metas, ms))
    print(f"\n{cpu_summary()}")
    print(
        f"host; median of {args.rounds}x{args.iterations} runs after {args.warmup} warm-up; torch {torch.__version__}; "
        f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    head = "".join(f"{v:>13}" for v in VARIANTS)

    def cells(values: dict[str, float], fmt: str) -> str:
        return "".join(format(values[v], fmt) if v in values else f"{'refused':>13}" for v in VARIANTS)

    for name, sizes, seconds, metas, ms in rows:
        trained = "trained" if metas["lite fp32"]["trained"] else "UNTRAINED"
        print(f"\n{name} ({trained}){head}")
        print(f"{'  export s':24}" + "".join(f"{seconds[v]:13.1f}" for v in VARIANTS))
        print(f"{'  MB':24}" + cells(sizes, "13.1f"))
        for n in args.threads:
            print(f"{f'  ms, {n} thread(s)':24}" + cells(ms[n], "13.2f"))
        for v in ("et int8", "litert int8"):
            meta = metas[v]
            said = f"{meta['agreement']['top1_agreement']:.1%} agreement" if "agreement" in meta else meta["refused"]
            print(f"  {v}: {said}")
        print(f"  litert fp32 max |diff| vs eager: {metas['litert fp32']['max_abs_diff']:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
