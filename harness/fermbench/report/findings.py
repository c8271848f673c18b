"""The study's findings, checked against a session: statements with the numbers behind them.

FER-M compared its three CNNs and reported: the deepest plain CNN reaches the lowest training
loss but the highest validation loss (it overfits); both plain CNNs make larger files than
ResNet-9; and it ranked the models by on-device speed, FER-2013 accuracy and real-world
accuracy. Each check below says which model wins, with its number and interval, and whether the
runner-up can be told apart ("not distinguishable" when the intervals overlap or the latency
comparison finds no change). Untrained models take no part in accuracy or loss claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import stats
from ..intervals import Interval
from ..store.records import LITE_FP32
from .results import ModelResult, ReportData

SUPPORTS, CONTRADICTS, NOT_DISTINGUISHABLE, UNKNOWN = "supports", "contradicts", "not distinguishable", "cannot say"


@dataclass(frozen=True)
class Finding:
    claim: str  # what the study says, or the question it answers
    verdict: str  # supports | contradicts | not distinguishable | cannot say | a plain answer
    evidence: str  # the numbers

    def __str__(self) -> str:
        return f"{self.claim}: {self.verdict}. {self.evidence}"

    def to_dict(self) -> dict[str, str]:
        return {"claim": self.claim, "verdict": self.verdict, "evidence": self.evidence}


def _trained(results: Sequence[ModelResult]) -> list[ModelResult]:
    return [r for r in results if r.trained and r.training is not None]


def training_findings(results: Sequence[ModelResult]) -> list[Finding]:
    """Lowest training loss and highest validation loss (overfitting), from the checkpoints."""
    trained = {r.model: r for r in _trained(results)}.values()
    claim = "the model with the lowest training loss has the highest validation loss (it overfits)"
    if len(trained) < 2:
        return [Finding(claim, UNKNOWN, "needs at least two trained models with their training figures")]
    losses = ", ".join(f"{r.model} train {r.training.train_loss:.3f} / val {r.training.val_loss:.3f}"
                       for r in sorted(trained, key=lambda r: r.model) if r.training)
    low = min(trained, key=lambda r: r.training.train_loss if r.training else 0.0)
    high = max(trained, key=lambda r: r.training.val_loss if r.training else 0.0)
    verdict = SUPPORTS if low.model == high.model else CONTRADICTS
    return [Finding(claim, verdict, f"lowest training loss: {low.model}; highest validation loss: {high.model} "
                                    f"({losses}; final epochs of each checkpoint's own run)")]


def size_findings(results: Sequence[ModelResult]) -> list[Finding]:
    sizes = {r.model: r.model_bytes for r in results if r.model_bytes is not None}
    claim = "both plain CNN files are larger than ResNet-9's"
    if not {"shallow_cnn", "deep_cnn", "resnet9"} <= set(sizes):
        return [Finding(claim, UNKNOWN, "needs shallow_cnn, deep_cnn and resnet9 exported in the session")]
    larger = sizes["shallow_cnn"] > sizes["resnet9"] and sizes["deep_cnn"] > sizes["resnet9"]
    shown = ", ".join(f"{m} {sizes[m] / 1e6:.1f} MB" for m in ("shallow_cnn", "deep_cnn", "resnet9"))
    return [Finding(claim, SUPPORTS if larger else CONTRADICTS, shown)]


def speed_finding(results: Sequence[ModelResult], samples: dict[tuple[str, str, str], np.ndarray[Any, Any]]) -> Finding:
    timed = [r for r in results if r.latency is not None and r.key in samples]
    question = "fastest model on this device"
    if not timed:
        return Finding(question, UNKNOWN, "no latency samples")
    ranked = sorted(timed, key=lambda r: r.latency.median if r.latency else 0.0)
    best = ranked[0]
    assert best.latency is not None
    text = ", ".join(f"{r.model} {r.latency.median_ms:.3f} ms (n={r.latency.n})" for r in ranked if r.latency)
    if len(ranked) == 1:
        return Finding(question, best.model, text)
    cmp = stats.compare_medians(samples[best.key], samples[ranked[1].key])
    evidence = f"{text}; {ranked[1].model}/{best.model} median ratio {cmp.ratio:.2f} [{cmp.ci_low:.2f}-{cmp.ci_high:.2f}]"
    if cmp.verdict == "no change":
        return Finding(question, f"{NOT_DISTINGUISHABLE} ({best.model} and {ranked[1].model})", evidence)
    return Finding(question, best.model, evidence)


def _best_by_interval(question: str, rows: list[tuple[ModelResult, Interval]], what: str) -> Finding:
    if not rows:
        return Finding(question, UNKNOWN, f"no {what} measured for a trained model")
    ranked = sorted(rows, key=lambda t: -t[1].value)
    text = ", ".join(f"{r.model} {iv.text()} (n={iv.n:,})" for r, iv in ranked)
    best, best_iv = ranked[0]
    if len(ranked) == 1:
        return Finding(question, f"{best.model} (the only trained model measured)", text + "; 95% Wilson interval")
    if best_iv.overlaps(ranked[1][1]):
        return Finding(question, f"{NOT_DISTINGUISHABLE} ({best.model} and {ranked[1][0].model})",
                       text + "; 95% Wilson intervals overlap")
    return Finding(question, best.model, text + "; 95% Wilson intervals")


def accuracy_findings(results: Sequence[ModelResult]) -> list[Finding]:
    trained = [r for r in results if r.trained]
    pick: Callable[[ModelResult], Interval | None]
    out = []
    for question, pick, what in (
        ("most accurate on FER-2013 (on the device)", lambda r: r.fer_interval, "FER-2013 accuracy"),
        ("most accurate on the real-world photos", lambda r: r.rw_interval, "real-world accuracy"),
    ):
        rows = [(r, iv) for r in trained if (iv := pick(r)) is not None]
        out.append(_best_by_interval(question, rows, what))
    return out


def study_view(results: Sequence[ModelResult]) -> list[ModelResult]:
    """One result per model, as the study measured it: PyTorch Lite fp32 where the session has it,
    else the model's first fp32 variant, else its first variant."""
    def rank(r: ModelResult) -> tuple[bool, bool, str]:
        return ((r.runtime, r.quant) != LITE_FP32, r.quant != "fp32", r.runtime)

    chosen: dict[str, ModelResult] = {}
    for r in sorted(results, key=rank):
        chosen.setdefault(r.model, r)
    return list(chosen.values())


def findings(data: ReportData) -> list[tuple[str, list[Finding]]]:
    """(heading, findings) per session and device: training and size once per session. The study
    compared models, so each model takes part with its study-like variant (see study_view)."""
    out: list[tuple[str, list[Finding]]] = []
    seen_sessions: set[str] = set()
    for session, dev, all_variants in data.groups():
        group = study_view(all_variants)
        items: list[Finding] = []
        if session not in seen_sessions:
            seen_sessions.add(session)
            everything = study_view([r for r in data.results if r.session == session and r.device == dev])
            items += training_findings(everything) + size_findings(everything)
        items.append(speed_finding(group, data.samples))
        items += accuracy_findings(group)
        out.append((f"{dev.label} · session {session}", items))
    return out
