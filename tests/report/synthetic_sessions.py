"""Benchmark sessions made of synthetic latency samples, written through the real results store.

Report tests that check a statistical verdict (compare verdicts and intervals, spread, tail and
repeat-spread warnings) build their sessions here, never from a live run: the samples come from
a seeded generator with a known distribution, so the expected verdict is the same on a quiet
machine and on a busy one. The session is written the way `fermbench run` writes it
(bench/phases.py, bench/session.py): SessionStore, a Record per model, write_samples per repeat.

Every direct call into fermbench.store made by the tests' synthetic sessions lives in this one
module, so a change of the store's API is adapted here once.

    sid = write_session(tmp_path, {"shallow_cnn": lognormal_ns(1, 100, median_ms=4.0),
                                   "deep_cnn": [lognormal_ns(2, 50, 9.0), lognormal_ns(3, 50, 9.9)]})
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fermbench.stats import summarize_ns
from fermbench.store import (
    COMPLETE,
    OK,
    PHASE_TYPES,
    SKIPPED,
    LatencyRepeat,
    RunnerInfo,
    SessionStore,
    Variant,
    now_iso,
)

Samples = Sequence[int]
Repeats = Sequence[Samples]

# A host target as `fermbench run --device host` describes it (bench/start.py's device entry).
HOST_ENTRY = {
    "kind": "host",
    "identity": {
        "manufacturer": "synthetic",
        "model": "host",
        "soc": None,
        "abis": ["x86_64"],
        "release": None,
        "sdk": None,
    },
    "properties": {},
    "runners": {
        "pytorch_lite": RunnerInfo(
            runner_kind="host",
            runner_version="synthetic",
            protocol_version=2,
            runtime="pytorch_lite",
            runtime_version="synthetic",
        )
    },
    "tags": ["host"],
    "warnings": [],
    "status": "ok",
    "error": None,
}
RUNTIME = "pytorch_android_lite-2.1.0"
LATER_PHASES = ("accuracy", "realworld", "appsize")  # not measured: latency is what is synthetic


def lognormal_ns(seed: int, n: int, median_ms: float, sigma: float = 0.05) -> list[int]:
    """n latencies (ns) from a log-normal distribution with that median and log-spread sigma."""
    rng = np.random.default_rng(seed)
    return [int(round(v)) for v in rng.lognormal(math.log(median_ms * 1e6), sigma, n)]


def model_sha256(model: str) -> str:
    """A stand-in export hash: the same model name gives the same hash in every session."""
    return hashlib.sha256(f"synthetic export of {model}".encode()).hexdigest()


def _repeats(samples: Samples | Repeats) -> list[list[int]]:
    """One flat list of numbers is one repeat; a list of lists is one list per repeat."""
    if len(samples) and not isinstance(samples[0], (int, float, np.integer, np.floating)):
        return [[int(v) for v in r] for r in samples]  # type: ignore[union-attr]
    return [[int(v) for v in samples]]  # type: ignore[union-attr]


def write_session(root: Path, models: dict[str, Samples | Repeats], *, session_id: str | None = None) -> str:
    """Write a complete host session under `root` whose latency samples are exactly `models`'.

    models:     model name -> its timed samples (ns), or a list of them, one per latency repeat
    session_id: the folder name (default: a fresh id, as `fermbench run` picks)
    Returns the session id. Accuracy, real-world and app-size phases are recorded as skipped.
    """
    store = SessionStore.create(
        {"source": "tests/report/synthetic_sessions.py"}, root=Path(root), session_id=session_id, seed=0
    )
    device = "host"
    store.set_device(device, **HOST_ENTRY)
    for model in models:
        store.set_model(
            Variant(model, RUNTIME, "fp32"),
            {"sha256": model_sha256(model), "bytes": 1_000_000, "params": 250_000, "trained": True},
        )
    for model, samples in models.items():
        repeats = _repeats(samples)
        variant = Variant(model, RUNTIME, "fp32")
        record = store.record(device, variant)
        for repeat, timed in enumerate(repeats):
            rel = store.write_samples(device, variant, repeat, timed, first_ns=2 * timed[0])
            record.set_phase(
                "latency",
                LatencyRepeat(
                    status=OK,
                    threads=1,
                    summary=summarize_ns(timed),
                    samples=rel,
                    load_ms=5.0,
                    first_inference_ms=2 * timed[0] / 1e6,
                    stop_reason="count_and_time",
                ),
                now_iso(),
                repeat,
            )
        for phase in LATER_PHASES:
            record.set_phase(phase, PHASE_TYPES[phase](status=SKIPPED, reason="synthetic session"), now_iso())
        record.finish([("latency", r) for r in range(len(repeats))] + [(p, None) for p in LATER_PHASES])
        store.save_record(record)
    store.set_status(COMPLETE)
    store.close()
    return store.session_id
