"""The study's findings, checked against a session: statements with the numbers behind them.

FER-M compared its three CNNs and reported: the deep CNN overfits (its validation loss rises
while its training loss keeps falling, leaving a large gap); both plain CNNs make larger files
than ResNet-9; and it ranked the models by on-device speed, FER-2013 accuracy and real-world
accuracy. Each check below says which model wins, with its number and interval, and whether the
runner-up can be told apart: accuracies by a paired comparison on the same images (report/
paired.py; "not distinguishable" only when the paired difference's 95% interval holds zero),
latency when the comparison of medians finds no change. Overfitting is read per model from the
curve its checkpoint carries. Untrained models take no part in accuracy or loss claims.

Each model in a session is one checkpoint, i.e. one training run. Two passes of the study's
protocol on the same machine differed by 0.2-0.7 points of PublicTest accuracy (65.0/67.0/69.1%
against 64.8/67.3/68.4%; README, "Measured figures"): RUN_TO_RUN_SPREAD rounds that up to one
point, and a difference below it is flagged as no evidence of a model difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import stats
from ..intervals import Interval
from ..labels import CLASS_NAMES, STUDY_MODELS
from ..store.records import LITE_FP32
from .paired import ModelPair, compare_pair
from .results import ModelResult, ReportData
from .training import TrainingRun

SUPPORTS, CONTRADICTS, NOT_DISTINGUISHABLE, UNKNOWN = "supports", "contradicts", "not distinguishable", "cannot say"
RUN_TO_RUN_SPREAD = 0.01  # accuracy, between two training runs of the same protocol (see the module's doc)
OVERFIT_MODEL = "deep_cnn"  # the model the study says overfits
OVERFIT_RISE = 0.02  # validation loss this far above its minimum at the last epoch: rising, not epoch noise


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


@dataclass(frozen=True)
class Overfitting:
    """What a model's own curve says about overfitting."""

    best_epoch: int  # the epoch of the lowest validation loss
    last_epoch: int
    best_val_loss: float
    last_val_loss: float
    train_loss_at_best: float
    last_train_loss: float

    @property
    def gap(self) -> float:
        """Validation minus training loss at the last epoch."""
        return self.last_val_loss - self.last_train_loss

    @property
    def overfits(self) -> bool:
        """Validation loss rose past its minimum while training loss kept falling."""
        return (
            self.best_epoch < self.last_epoch
            and self.last_val_loss - self.best_val_loss >= OVERFIT_RISE
            and self.last_train_loss < self.train_loss_at_best
        )

    def text(self) -> str:
        return (
            f"validation loss lowest at epoch {self.best_epoch} of {self.last_epoch} ({self.best_val_loss:.3f}), "
            f"{self.last_val_loss:.3f} at the last; training loss {self.train_loss_at_best:.3f} -> "
            f"{self.last_train_loss:.3f}; final gap (validation - training) {self.gap:.3f}"
        )


def overfitting(curve: TrainingRun) -> Overfitting | None:
    """The curve's overfitting figures; None for an empty curve."""
    if not curve.epochs:
        return None
    best = min(range(len(curve.epochs)), key=lambda i: (curve.val_loss[i], i))
    return Overfitting(
        curve.epochs[best],
        curve.epochs[-1],
        curve.val_loss[best],
        curve.val_loss[-1],
        curve.train_loss[best],
        curve.train_loss[-1],
    )


def training_findings(results: Sequence[ModelResult]) -> list[Finding]:
    """Overfitting as the study claimed it, per trained model, from each checkpoint's own curve."""
    out = []
    trained = sorted(
        {r.model: r for r in results if r.trained}.values(), key=lambda r: (r.model != OVERFIT_MODEL, r.model)
    )
    for r in trained:
        study = r.model == OVERFIT_MODEL
        claim = (
            f"{r.model} overfits: validation loss rises while training loss keeps falling (the study's claim)"
            if study
            else f"does {r.model} overfit (validation loss rising while training loss falls)"
        )
        found = overfitting(r.curve) if r.curve is not None else None
        if found is None:
            why = r.training_missing or "its checkpoint carries no training curve"
            out.append(Finding(claim, UNKNOWN, f"{why}; run {r.training.run_id if r.training else 'unknown'}"))
            continue
        verdict = (SUPPORTS if found.overfits else CONTRADICTS) if study else ("yes" if found.overfits else "no")
        assert r.curve is not None
        out.append(
            Finding(
                claim,
                verdict,
                f"{found.text()} (one training run, {r.curve.run_id}; validation in {r.curve.val_precision})",
            )
        )
    if OVERFIT_MODEL not in {r.model for r in trained}:
        out.insert(
            0,
            Finding(
                f"{OVERFIT_MODEL} overfits: validation loss rises while training loss keeps falling "
                f"(the study's claim)",
                UNKNOWN,
                f"{OVERFIT_MODEL} is not a trained model of this session",
            ),
        )
    return out


def size_findings(results: Sequence[ModelResult]) -> list[Finding]:
    sizes = {r.model: r.model_bytes for r in results if r.model_bytes is not None}
    claim = "both plain CNN files are larger than ResNet-9's"
    if not {"shallow_cnn", "deep_cnn", "resnet9"} <= set(sizes):
        return [Finding(claim, UNKNOWN, "needs shallow_cnn, deep_cnn and resnet9 exported in the session")]
    larger = sizes["shallow_cnn"] > sizes["resnet9"] and sizes["deep_cnn"] > sizes["resnet9"]
    shown = ", ".join(f"{m} {sizes[m] / 1e6:.1f} MB" for m in ("shallow_cnn", "deep_cnn", "resnet9"))
    return [Finding(claim, SUPPORTS if larger else CONTRADICTS, shown)]


def _median_text(lat: stats.LatencySummary) -> str:
    """'7.161 ms [6.908-7.505]': a median with its 95% interval where there is one."""
    ci = lat.median_ci_ms
    return f"{lat.median_ms:.3f} ms" + (f" [{ci[0]:.3f}-{ci[1]:.3f}]" if ci else "")


def speed_finding(results: Sequence[ModelResult], samples: dict[tuple[str, str, str], np.ndarray[Any, Any]]) -> Finding:
    timed = [r for r in results if r.latency is not None and r.key in samples]
    question = "fastest model on this device"
    if not timed:
        return Finding(question, UNKNOWN, "no latency samples")
    ranked = sorted(timed, key=lambda r: r.latency.median if r.latency else 0.0)
    best = ranked[0]
    assert best.latency is not None
    text = ", ".join(f"{r.model} {_median_text(r.latency)} (n={r.latency.n})" for r in ranked if r.latency)
    if len(ranked) == 1:
        return Finding(question, best.model, text)
    cmp = stats.compare_medians(samples[best.key], samples[ranked[1].key])
    evidence = (
        f"{text}; {ranked[1].model}/{best.model} median ratio {cmp.ratio:.2f} [{cmp.ci_low:.2f}-{cmp.ci_high:.2f}]"
    )
    if cmp.verdict == "no change":
        return Finding(question, f"{NOT_DISTINGUISHABLE} ({best.model} and {ranked[1].model})", evidence)
    return Finding(question, best.model, evidence)


def _runs(r: ModelResult) -> str:
    """How many training runs stand behind a model's figure (one checkpoint: one run)."""
    run = r.curve.run_id if r.curve is not None else r.training.run_id if r.training is not None else None
    return f"1 ({run})" if run else "1 (run not recorded)"


def _best_by_pairs(
    question: str, rows: list[tuple[ModelResult, Interval]], what: str, dataset: str, predictions: Any
) -> Finding:
    if not rows:
        return Finding(question, UNKNOWN, f"no {what} measured for a trained model")
    ranked = sorted(rows, key=lambda t: -t[1].value)
    text = ", ".join(f"{r.model} {iv.text()} (n={iv.n:,})" for r, iv in ranked)
    best, best_iv = ranked[0]
    if len(ranked) == 1:
        return Finding(question, f"{best.model} (the only trained model measured)", text + "; 95% Wilson interval")
    text += "; 95% Wilson intervals"
    runner_up = ranked[1][0]
    runs = "; training runs behind each model: " + ", ".join(f"{r.model} {_runs(r)}" for r, _ in ranked)
    pair: ModelPair = compare_pair(predictions, runner_up, best, dataset)
    if pair.comparison is None:
        return Finding(
            question,
            f"{UNKNOWN} whether {best.model} and {runner_up.model} differ",
            f"{text}; no paired comparison: {pair.problem}{runs}",
        )
    cmp = pair.comparison
    evidence = f"{text}; paired on the same images, {best.model} - {runner_up.model}: {cmp.text()}{runs}"
    if not cmp.distinguishable:
        return Finding(
            question,
            f"{NOT_DISTINGUISHABLE} ({best.model} and {runner_up.model})",
            evidence + "; the paired 95% interval includes zero",
        )
    if abs(cmp.difference.value) < RUN_TO_RUN_SPREAD:
        return Finding(
            question,
            f"{best.model} on these images, by less than the run-to-run spread",
            evidence + f"; the difference is below the protocol's run-to-run spread of about "
            f"{100 * RUN_TO_RUN_SPREAD:.0f} point between training runs: with one run per model "
            f"it is not evidence of a model difference",
        )
    return Finding(question, best.model, evidence)


def accuracy_findings(results: Sequence[ModelResult], predictions: Any = None) -> list[Finding]:
    trained = [r for r in results if r.trained]
    pick: Callable[[ModelResult], Interval | None]
    out = []
    for question, pick, what, dataset in (
        ("most accurate on FER-2013 (on the device)", lambda r: r.fer_interval, "FER-2013 accuracy", "fer2013"),
        ("most accurate on the real-world photos", lambda r: r.rw_interval, "real-world accuracy", "photos"),
    ):
        rows = [(r, iv) for r in trained if (iv := pick(r)) is not None]
        out.append(_best_by_pairs(question, rows, what, dataset, predictions))
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


def is_study_model(r: ModelResult) -> bool:
    """One of the study's FER-2013 models as the study built it: its name, exported by fermbench
    (not a ready file that happens to share the name), with FER-2013's classes."""
    return r.model in STUDY_MODELS and r.source != "file" and tuple(r.classes) == CLASS_NAMES


def findings(data: ReportData) -> list[tuple[str, list[Finding]]]:
    """(heading, findings) per session and device that measured the study's models, about those
    models only (others are in the tables and paired comparisons): training and size once per
    session. The study compared models, so each takes part with its study-like variant (see
    study_view)."""
    out: list[tuple[str, list[Finding]]] = []
    seen_sessions: set[str] = set()
    for session, dev, all_variants in data.groups():
        group = study_view([r for r in all_variants if is_study_model(r)])
        if not group:
            continue
        items: list[Finding] = []
        if session not in seen_sessions:
            seen_sessions.add(session)
            everything = study_view(
                [r for r in data.results if r.session == session and r.device == dev and is_study_model(r)]
            )
            items += training_findings(everything) + size_findings(everything)
        items.append(speed_finding(group, data.samples))
        items += accuracy_findings(group, data.predictions)
        out.append((f"{dev.label} · session {session}", items))
    return out
