"""How small a latency the host runner can resolve: its per-iteration timing floor.

Runs the host runner (the same protocol as the APK) in `latency` mode on two lite models made
here: a no-op (x + 0, the loop's own cost: two perf_counter_ns calls, one lite-interpreter call)
and a tiny CNN, and prints the median / p99 of the raw samples next to a bare Python loop
around the same module call. Usage: python benchmarks/runner_timing_floor.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.jit.mobile
from torch import nn

from fermbench.runner.host import run_host


class NoOp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0


class TinyCnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def export(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.freeze(torch.jit.script(module.eval()))._save_for_lite_interpreter(str(path))
    return path


def bare_loop(path: Path, runs: int) -> list[int]:
    module = torch.jit.mobile._load_for_lite_interpreter(str(path))
    x = torch.zeros(1, 1, 48, 48)
    out = []
    with torch.inference_mode():
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            module(x)
            out.append(time.perf_counter_ns() - t0)
    return out


def pct(samples: list[int], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for name, module in (("no-op", NoOp()), ("tiny CNN", TinyCnn())):
            path = export(module, Path(tmp) / f"{name.replace(' ', '_')}.ptl")
            res = run_host("latency", model=path, iterations=args.runs, min_seconds=0.0, warmup=100, warmup_seconds=0.0)
            bare = bare_loop(path, args.runs)
            print(
                f"{name:9s} runner: median {statistics.median(res.samples_ns) / 1000:7.2f} us  "
                f"p99 {pct(res.samples_ns, 0.99):7.2f} us  ({len(res.samples_ns)} samples, "
                f"first {res.first_inference_ns / 1000:.1f} us, load {res.load_ns / 1e6:.2f} ms)"
            )
            print(f"{'':9s} bare loop: median {statistics.median(bare) / 1000:7.2f} us  p99 {pct(bare, 0.99):7.2f} us")
    print(f"perf_counter_ns resolution: {time.get_clock_info('perf_counter').resolution * 1e9:.0f} ns")


if __name__ == "__main__":
    main()
