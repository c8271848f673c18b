"""`--compare A B`: per model, B's latency against A's from the raw samples.

Two results are comparable only when they measured the same thing: the same exported model
(sha256), the same runtime (name and version) and the same device. Otherwise the pair is
reported as "not comparable" with the reason, never as a ratio.

Device sameness: a real phone is the same device when its serial and identity match; the
simulated phone and the host are matched by identity alone (a simulated phone's serial is a
port number that changes between sessions).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import stats
from ..stats import Comparison, StatWarning
from ..store.records import LITE_FP32
from .formats import Block, Section, fmt_ms, fmt_text, render_csv, render_json, render_markdown, render_rich
from .results import DeviceInfo, ModelResult, ReportData

NOT_COMPARABLE = "not comparable"
IDENTITY_KEYS = ("manufacturer", "model", "soc", "abis", "release", "sdk")


@dataclass(frozen=True)
class ModelComparison:
    model: str
    device_a: str
    device_b: str
    verdict: str  # faster | slower | no change | not comparable
    reason: str | None  # why not comparable, or None
    a: ModelResult | None
    b: ModelResult | None
    comparison: Comparison | None
    warnings: tuple[StatWarning, ...] = ()


def device_key(dev: DeviceInfo) -> tuple[str | None, str | None, tuple[str, ...]]:
    ident = tuple(str(dev.identity.get(k)) for k in IDENTITY_KEYS)
    serial = dev.serial if dev.kind not in ("sim", "host") else None
    return (dev.kind, serial, ident)


def why_not_comparable(a: ModelResult, b: ModelResult) -> str | None:
    reasons = []
    if a.model_sha256 != b.model_sha256 or not a.model_sha256:
        reasons.append(f"model hash differs ({(a.model_sha256 or '?')[:12]} vs {(b.model_sha256 or '?')[:12]})")
    runtime_a, runtime_b = a.measured_by or a.device.runtime, b.measured_by or b.device.runtime
    if runtime_a != runtime_b:
        reasons.append(f"runtime differs ({runtime_a} vs {runtime_b})")
    if device_key(a.device) != device_key(b.device):
        reasons.append(f"device differs ({a.device.label} vs {b.device.label})")
    if a.latency is None or b.latency is None:
        missing = " and ".join(side for side, r in (("A", a), ("B", b)) if r.latency is None)
        reasons.append(f"no latency samples in {missing}" + _status_note(a, b))
    return "; ".join(reasons) or None


def _status_note(a: ModelResult, b: ModelResult) -> str:
    failed = [f"{side} {r.status}: {r.error}" for side, r in (("A", a), ("B", b)) if r.status != "ok" and r.error]
    return f" ({'; '.join(failed)})" if failed else ""


def _pairs(
    a_results: list[ModelResult], b_results: list[ModelResult]
) -> Iterator[tuple[str, ModelResult | None, ModelResult | None]]:
    """Pair results by variant (model, runtime, quantisation); with one device on each side pair
    across devices, else by serial. Yields the label the comparison names the pair by."""
    a_devs = {r.device.serial for r in a_results}
    b_devs = {r.device.serial for r in b_results}
    by_serial = not (len(a_devs) == 1 and len(b_devs) == 1)
    a_map = {((r.device.serial if by_serial else ""), r.variant): r for r in a_results}
    b_map = {((r.device.serial if by_serial else ""), r.variant): r for r in b_results}
    several = (
        len(
            {v for _, v in a_map.keys() | b_map.keys()}
            - {v for _, v in a_map.keys() | b_map.keys() if (v.runtime, v.quant) == LITE_FP32}
        )
        > 0
    )
    for key in sorted(a_map.keys() | b_map.keys()):
        yield (key[1].label if several else key[1].model), a_map.get(key), b_map.get(key)


def compare_sessions(
    data_a: ReportData, data_b: ReportData, confidence: float = 0.95, seed: int = 0, min_change: float = 0.02
) -> list[ModelComparison]:
    out = []
    for model, a, b in _pairs(data_a.results, data_b.results):
        dev_a = a.device.label if a else "–"
        dev_b = b.device.label if b else "–"
        if a is None or b is None:
            side = "A" if a is None else "B"
            out.append(ModelComparison(model, dev_a, dev_b, NOT_COMPARABLE, f"not measured in {side}", a, b, None))
            continue
        reason = why_not_comparable(a, b)
        if reason:
            out.append(ModelComparison(model, dev_a, dev_b, NOT_COMPARABLE, reason, a, b, None))
            continue
        assert a.latency is not None and b.latency is not None  # why_not_comparable says so otherwise
        cmp = stats.compare_medians(
            data_a.samples[a.key], data_b.samples[b.key], confidence=confidence, seed=seed, min_change=min_change
        )
        warns = tuple(stats.comparison_warnings(a.latency, b.latency))
        out.append(ModelComparison(model, dev_a, dev_b, cmp.verdict, None, a, b, cmp, warns))
    return out


COMPARE_COLUMNS = (
    "model",
    "session_a",
    "session_b",
    "device_a",
    "device_b",
    "threads_a",
    "threads_b",
    "n_a",
    "n_b",
    "median_a_ms",
    "median_b_ms",
    "ratio",
    "ci_low",
    "ci_high",
    "confidence",
    "p_value",
    "test",
    "verdict",
    "reason",
    "warnings",
    # appended later: each median's distribution-free 95% interval (order statistics)
    "median_a_ci_low_ms",
    "median_a_ci_high_ms",
    "median_b_ci_low_ms",
    "median_b_ci_high_ms",
)


def _median_ci(r: ModelResult | None, end: int) -> float | None:
    ci = r.latency.median_ci_ms if r is not None and r.latency is not None else None
    return ci[end] if ci else None


def comparison_row(c: ModelComparison) -> dict[str, Any]:
    cmp = c.comparison
    return {
        "model": c.model,
        "session_a": c.a.session if c.a else None,
        "session_b": c.b.session if c.b else None,
        "device_a": c.a.device.serial if c.a else None,
        "device_b": c.b.device.serial if c.b else None,
        "threads_a": c.a.metric("threads") if c.a else None,
        "threads_b": c.b.metric("threads") if c.b else None,
        "n_a": c.a.latency.n if c.a and c.a.latency else None,
        "n_b": c.b.latency.n if c.b and c.b.latency else None,
        "median_a_ms": c.a.latency.median_ms if c.a and c.a.latency else None,
        "median_b_ms": c.b.latency.median_ms if c.b and c.b.latency else None,
        "ratio": cmp.ratio if cmp else None,
        "ci_low": cmp.ci_low if cmp else None,
        "ci_high": cmp.ci_high if cmp else None,
        "confidence": cmp.confidence if cmp else None,
        "p_value": cmp.p_value if cmp else None,
        "test": cmp.test if cmp else None,
        "verdict": c.verdict,
        "reason": c.reason,
        "warnings": [w.code for w in c.warnings],
        "median_a_ci_low_ms": _median_ci(c.a, 0),
        "median_a_ci_high_ms": _median_ci(c.a, 1),
        "median_b_ci_low_ms": _median_ci(c.b, 0),
        "median_b_ci_high_ms": _median_ci(c.b, 1),
    }


def _fmt_median(row: dict[str, Any], side: str) -> str:
    """'7.161 [6.908-7.505]': one side's median with its 95% interval where there is one."""
    low, high = row[f"median_{side}_ci_low_ms"], row[f"median_{side}_ci_high_ms"]
    text = fmt_ms(row[f"median_{side}_ms"])
    return text if low is None or high is None else f"{text} [{low:.3f}-{high:.3f}]"


def _fmt_ratio(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}x"


def _fmt_p(v: float | None) -> str:
    return "–" if v is None else (f"{v:.2g}" if v >= 1e-4 else "<1e-4")


def render_comparison(
    comparisons: list[ModelComparison],
    label_a: str,
    label_b: str,
    fmt: str,
    min_change: float = 0.02,
    width: int | None = None,
) -> str:
    rows = [comparison_row(c) for c in comparisons]
    if fmt == "csv":
        return render_csv(COMPARE_COLUMNS, rows)
    if fmt == "json":
        return render_json(
            {
                "format_version": 1,
                "a": label_a,
                "b": label_b,
                "columns": list(COMPARE_COLUMNS),
                "comparisons": [
                    {**row, "warnings": [w.to_dict() for w in c.warnings]} for row, c in zip(rows, comparisons)
                ],
            }
        )
    conf = next((c.comparison.confidence for c in comparisons if c.comparison), 0.95)
    headers = [
        "Model",
        "Device A",
        "Device B",
        "Median A ms [95% CI]",
        "Median B ms [95% CI]",
        "B/A",
        f"{conf:.0%} CI",
        "p",
        "Verdict",
    ]
    section = Section(
        "Latency, B against A (ratio of medians from the raw samples)", headers, [], numeric={3, 4, 5, 6, 7}
    )
    for c, row in zip(comparisons, rows):
        ci = f"{row['ci_low']:.3f}–{row['ci_high']:.3f}" if c.comparison else "–"
        section.rows.append(
            [
                c.model,
                c.device_a,
                c.device_b,
                _fmt_median(row, "a"),
                _fmt_median(row, "b"),
                _fmt_ratio(row["ratio"]),
                ci,
                _fmt_p(row["p_value"]),
                fmt_text(c.verdict),
            ]
        )
        if c.reason:
            section.notes.append(f"{c.model}: not comparable: {c.reason}")
        for w in c.warnings:
            section.notes.append(f"{c.model}: {w}")
    block = Block(
        f"Compare A = {label_a} with B = {label_b}",
        [
            "B/A below 1: B is faster. A verdict needs the interval to exclude 1, the Mann-Whitney "
            f"test to agree, and a change of at least {min_change:.0%}."
        ],
        [section],
    )
    return render_markdown([block]) if fmt == "markdown" else render_rich([block], width=width)
