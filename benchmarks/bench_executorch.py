"""ExecuTorch (XNNPACK) fp32 and int8 against PyTorch Lite fp32 on the host (issue 10).

For each model of the study: median latency of one 1x1x48x48 image in the lite interpreter and
in executorch.runtime (same thread count, same input, warm-up discarded, rounds interleaved so
that a busy machine slows every variant alike), file sizes, and with trained weights the
FER-2013 PublicTest accuracy of each file, run through its own runtime.

Goals: int8 at least 5x faster than Lite fp32 for every model, at least 3.5x smaller, and
accuracy within 1 point of fp32.

    python benchmarks/bench_executorch.py                       # all models, 2 threads
    python benchmarks/bench_executorch.py shallow_cnn --threads 1 --rounds 5 --iterations 50

Weights come from ../shared/weights/<model>.ckpt where present, else fresh (UNTRAINED, said so:
their accuracy means nothing and is not measured). Files are exported into a temporary folder.
An int8 file refused by the agreement gate is said so; its latency is then measured on the
same program built without the gates (quantised the same way), marked "ungated", because
int8 speed does not depend on what the weights are.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
WEIGHTS, FER = SHARED / "weights", SHARED / "fer2013"
ET = "executorch-1.4.1"


def export_variants(name: str, out: Path) -> tuple[dict[str, Path], dict[str, dict[str, Any]], list[str]]:
    """label -> accepted (or, for a refused int8 file, ungated) file; label -> metadata; notes."""
    from fermbench.errors import ExportError
    from fermbench.export import DEFAULT_RUNTIME, export_model

    ckpt = WEIGHTS / f"{name}.ckpt"
    weights: dict[str, Any] = {"checkpoint": ckpt} if ckpt.is_file() else {"untrained": True}
    files, metas, notes = {}, {}, []
    for label, runtime, quant in (
        ("lite fp32", DEFAULT_RUNTIME, "fp32"),
        ("et fp32", ET, "fp32"),
        ("et int8", ET, "int8"),
    ):
        t0 = time.perf_counter()
        try:
            result = export_model(name, out_dir=out, runtime=runtime, quant=quant, fer_data=FER, **weights)
            files[label], metas[label] = result.path, result.meta
        except ExportError as exc:
            if quant != "int8":
                raise
            notes.append(f"{name} int8 REFUSED: {exc}")
            files[label] = ungated_int8(name, out, weights)
        print(f"  exported {name} {label} in {time.perf_counter() - t0:.0f} s", flush=True)
    return files, metas, notes


def ungated_int8(name: str, out: Path, weights: dict[str, Any]) -> Path:
    """The int8 program the exporter would have written, without its gates: for latency only."""
    from fermbench.export.fer_samples import fer_samples
    from fermbench.export.models import model_and_identity
    from fermbench.export.pte import export_graph, lower_to_xnnpack
    from fermbench.export.quantize import quantize_int8

    model, _, _ = model_and_identity(name, weights.get("checkpoint"), weights.get("untrained", False), seed=0)
    quantized = quantize_int8(model.eval(), fer_samples(FER).calibration.inputs(), name)
    path = out / f"{name}.int8.ungated.pte"
    path.write_bytes(lower_to_xnnpack(export_graph(quantized, name), "{}", name).to_executorch().buffer)
    return path


def runners(files: dict[str, Path]) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """label -> a function running an input through that file's own runtime."""
    from fermbench.export.executorch_api import load_method, load_program
    from fermbench.export.gates import load_lite

    lite = load_lite(files["lite fp32"])
    out: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"lite fp32": lambda x: lite(x)}
    for label in ("et fp32", "et int8"):
        method = load_method(load_program(files[label], label), "forward", label)
        out[label] = lambda x, m=method: m.execute([x])[0]
    return out


def latencies(
    run: dict[str, Callable[[torch.Tensor], torch.Tensor]], x: torch.Tensor, args: argparse.Namespace
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


def accuracy(
    run: dict[str, Callable[[torch.Tensor], torch.Tensor]], images: torch.Tensor, labels: torch.Tensor
) -> dict[str, np.ndarray]:
    """label -> bool per image: correct or not. The .pte programs take one image at a time;
    the lite interpreter takes batches, which gives the same predictions faster."""
    from fermbench.training.augment import normalize

    x, y = normalize(images), labels.numpy()
    out = {}
    with torch.no_grad():
        for label, f in run.items():
            step = 256 if label.startswith("lite") else 1
            predicted = torch.cat([f(x[i : i + step]).argmax(1) for i in range(0, len(x), step)])
            out[label] = predicted.numpy() == y
    return out


def paired_ci(a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of mean(a) - mean(b) over the same images, in points."""
    rng = np.random.default_rng(seed)
    diff = a.astype(float) - b.astype(float)
    means = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))].mean(1)
    return 100 * float(np.quantile(means, 0.025)), 100 * float(np.quantile(means, 0.975))


def main() -> int:
    from fermbench.quiet import native_stderr, quiet_imports
    from fermbench.zoo import MODEL_NAMES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=40, help="timed runs per variant per round")
    parser.add_argument("--no-accuracy", action="store_true")
    args = parser.parse_args()
    if not FER.joinpath("test").is_dir():
        print(f"FER-2013 not found at {FER}: int8 export needs it for calibration", file=sys.stderr)
        return 1
    with quiet_imports():
        from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
    torch.set_num_threads(args.threads)
    with native_stderr():  # the pool's reset prints cpuinfo probes on stderr
        _unsafe_reset_threadpool(args.threads)
    from fermbench.data.fer2013 import load_split

    test = None if args.no_accuracy else load_split(FER, "PublicTest")
    x = torch.randn(1, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    rows, notes = [], []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-et-") as tmp:
        for name in args.models:
            files, metas, model_notes = export_variants(name, Path(tmp))
            notes += model_notes
            run = runners(files)
            ms = latencies(run, x, args)
            trained = metas["lite fp32"]["trained"]
            int8 = metas.get("et int8")
            row = {
                "model": name,
                "trained": trained,
                "ms": ms,
                "bytes": {k: f.stat().st_size for k, f in files.items()},
                "agreement": int8["agreement"]["top1_agreement"] if int8 else None,
            }
            if test is not None and trained and int8:
                correct = accuracy(run, test.images, test.labels)
                row["acc"] = {label: 100 * float(c.mean()) for label, c in correct.items()}
                row["acc_ci"] = paired_ci(correct["et int8"], correct["et fp32"])
            rows.append(row)
            print(f"  {name}: {ms}", flush=True)
    print(
        f"\nhost, {args.threads} threads, median of {args.rounds}x{args.iterations} runs after {args.warmup} warm-up; "
        f"torch {torch.__version__}; load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end "
        f"on {os.cpu_count()} CPUs"
    )
    for note in notes:
        print(f"NOTE {note}")
    print(
        f"{'model':12} {'weights':9} {'Lite fp32':>10} {'ET fp32':>9} {'ET int8':>9} {'int8 speed-up':>14} "
        f"{'Lite MB':>8} {'ET fp32 MB':>10} {'int8 MB':>8} {'smaller':>8}"
    )
    for r in rows:
        ms, b = r["ms"], r["bytes"]
        ungated = "*" if r["agreement"] is None else " "  # refused by the agreement gate: see NOTE
        print(
            f"{r['model']:12} {'trained' if r['trained'] else 'UNTRAINED':9} {ms['lite fp32']:8.2f}ms {ms['et fp32']:7.2f}ms "
            f"{ms['et int8']:7.2f}ms{ungated}{ms['lite fp32'] / ms['et int8']:12.1f}x {b['lite fp32'] / 1e6:8.1f} "
            f"{b['et fp32'] / 1e6:10.1f} {b['et int8'] / 1e6:8.1f} {b['lite fp32'] / b['et int8']:7.1f}x"
        )
    if any(r["agreement"] is None for r in rows):
        print("* int8 refused by the agreement gate: latency and size of the same program built without the gates")
    if any("acc" in r for r in rows):
        assert test is not None
        print(f"\nFER-2013 PublicTest accuracy ({len(test)} images, each through its runtime; trained models only)")
        print(
            f"{'model':12} {'weights':9} {'Lite fp32':>9} {'ET fp32':>8} {'ET int8':>8} {'int8 - fp32':>12} {'95% CI':>16} {'agree':>7}"
        )
        for r in (r for r in rows if "acc" in r):
            a, (lo, hi) = r["acc"], r["acc_ci"]
            print(
                f"{r['model']:12} {'trained' if r['trained'] else 'UNTRAINED':9} {a['lite fp32']:8.2f}% {a['et fp32']:7.2f}% "
                f"{a['et int8']:7.2f}% {a['et int8'] - a['et fp32']:+10.2f}pt [{lo:+.2f}, {hi:+.2f}] {r['agreement']:6.1%}"
            )
    print("\ngoals: int8 >= 5x faster than Lite fp32, >= 3.5x smaller, accuracy within 1 point of fp32")
    for r in rows:
        speed, small = r["ms"]["lite fp32"] / r["ms"]["et int8"], r["bytes"]["lite fp32"] / r["bytes"]["et int8"]
        verdicts = [
            f"speed {'met' if speed >= 5 else 'MISSED'} ({speed:.1f}x)",
            f"size {'met' if small >= 3.5 else 'MISSED'} ({small:.1f}x)",
        ]
        if "acc" in r:
            delta = r["acc"]["et int8"] - r["acc"]["et fp32"]
            verdicts.append(f"accuracy {'met' if abs(delta) <= 1 else 'MISSED'} ({delta:+.2f} pt)")
        else:
            why = "--no-accuracy" if test is None else "int8 refused" if r["trained"] else "UNTRAINED weights"
            verdicts.append(f"accuracy not measured ({why})")
        print(f"  {r['model']}: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
