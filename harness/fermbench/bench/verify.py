"""`fermbench verify`: what a phone session must show before its numbers are trusted.

The emulator job ends with it (ci/android-emulator.sh), and a phone owner can run it after
`fermbench run`: every model ran on every runtime and quantisation asked for; every latency
repeat carries its memory readings and, on a real runner, held the foreground; the phone's
predictions agree with the host's on the same file; the ExecuTorch runner's native libraries are
16 KB aligned. Each check is one Finding; any failed one makes the command exit 1.

Untrained weights give near-tied logits, where the float noise between two builds of one runtime
(the phone's kernels against the host's) flips an argmax: their agreement is held to a lower
floor (`min_agreement_untrained`), trained weights to `min_agreement`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from .. import runtimes
from ..apk.archive import apk_runtime
from ..apk.elf import read_apk_alignment
from ..errors import ResultsError
from ..runtimes import by_version
from ..store.reader import StoredSession, latest_session, load_session
from ..store.records import OK, Record

MIN_AGREEMENT = 0.95
MIN_AGREEMENT_UNTRAINED = 0.80


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str  # one line: the thing checked and what was found


def _trained(session: StoredSession, rec: Record) -> bool:
    """Whether the model's weights were trained; a variant whose export failed has no metadata of
    its own, so any exported variant of the same model answers (unknown counts as trained: strict)."""
    metas = [m for key, m in session.info.models.items() if key.split("/", 1)[0] == rec.model]
    return not metas or any(m.get("trained") is not False for m in metas)  # None: a factory's, unknown


INT8_GATE = "int8 program agrees with fp32 on"  # export/pte_gates.py's refusal


def check_record(
    session: StoredSession, rec: Record, min_agreement: float, min_agreement_untrained: float
) -> list[Finding]:
    """The record's status, each latency repeat's memory and foreground, device/host agreement."""
    name = rec.key
    if rec.status != OK:
        if rec.quant == "int8" and INT8_GATE in (rec.error or "") and not _trained(session, rec):
            # Documented (README, "Runtimes and int8"): untrained weights may lose the int8 gate.
            return [Finding(True, f"{name}: refused by the int8 gate, as untrained weights may be: {rec.error}")]
        return [Finding(False, f"{name}: {rec.status}: {rec.error}")]
    found: list[Finding] = []
    for rep in rec.latency:
        m, fg = rep.memory, rep.foreground
        where = f"{name} latency[{rep.repeat}]"
        if not rep.ok or rep.summary is None:
            found.append(Finding(False, f"{where}: {rep.status} {rep.error or 'no summary'}"))
            continue
        after_load, after_run = (m.kb("after_load"), m.kb("after_run")) if m else (None, None)
        memory_ok = m is not None and None not in (after_load, after_run, m.peak_rss_kb)
        found.append(
            Finding(
                memory_ok,
                f"{where}: memory ({m.counter if m else 'none'}) after load "
                f"{after_load} KiB, after run "
                f"{after_run} KiB, peak RSS "
                f"{m.peak_rss_kb if m else None} KiB",
            )
        )
        on_phone = rep.runtime is not None and rep.runtime.runner == "android"
        if fg is None:
            found.append(Finding(False, f"{where}: no foreground record"))
        elif on_phone:  # a real runner must have shown its isolation activity and been the top app
            held = bool(fg.isolation_activity) and fg.importance_name == "foreground"
            found.append(
                Finding(
                    held,
                    f"{where}: foreground: isolation activity {fg.isolation_activity}, "
                    f"importance {fg.importance} ({fg.importance_name}), sustained "
                    f"performance supported {fg.sustained_performance_supported}",
                )
            )
        else:
            found.append(Finding(True, f"{where}: foreground not applicable ({fg.note or 'host-side runner'})"))
    acc = rec.accuracy
    if acc is None:
        found.append(Finding(False, f"{name}: no on-device FER-2013 result"))
    elif not acc.ok or acc.agreement is None:
        found.append(Finding(False, f"{name}: FER-2013 on the device {acc.status}: {acc.error}"))
    else:
        trained = _trained(session, rec)
        floor = min_agreement if trained else min_agreement_untrained
        found.append(
            Finding(
                acc.agreement >= floor,
                f"{name}: device/host agreement {acc.agreement:.3f} over {acc.n} images "
                f"(at least {floor} for {'trained' if trained else 'untrained'} weights)",
            )
        )
    return found


def check_session(
    session: StoredSession,
    models: Sequence[str],
    runtimes: Sequence[str],
    quants: Sequence[str],
    min_agreement: float = MIN_AGREEMENT,
    min_agreement_untrained: float = MIN_AGREEMENT_UNTRAINED,
) -> list[Finding]:
    """Every asked-for model x runtime x quant has a record, and each record passes check_record."""
    found: list[Finding] = []
    by_key = {r.key: r for r in session.records}
    for model in models:
        for runtime in runtimes:
            for quant in quants:
                if quant not in by_version(runtime).quants:
                    continue  # Lite runs fp32 only
                key = f"{model}/{runtime}/{quant}"
                rec = by_key.get(key)
                if rec is None:
                    found.append(Finding(False, f"{key}: no record in session {session.id}"))
                else:
                    found += check_record(session, rec, min_agreement, min_agreement_untrained)
    return found


def check_apk(apk: Path) -> list[Finding]:
    """A runner APK whose runtime loads on 16 KB-page phones (runtimes/: ExecuTorch, LiteRT) must
    carry native libraries, every one 16 KB aligned; a Lite one is reported (its 4 KB libraries are
    known, and the run skips it on 16 KB-page phones)."""
    result = read_apk_alignment(apk)
    lines = [f"{lib.path} LOAD align {lib.min_align}" for lib in result.libraries]
    runtime = apk_runtime(apk)
    spec = runtimes.get(runtime) if runtime is not None else None
    if spec is None or spec.device.library_align < PAGE_16K:
        what = f"a {spec.label} runner" if spec else "no known runner"
        return [
            Finding(True, f"{apk.name}: {what}, not 16 KB aligned by design; libraries: {', '.join(lines) or 'none'}")
        ]
    bad = [lib.path for lib in result.incompatible()]
    return [
        Finding(
            not bad,
            f"{apk.name}: {len(result.libraries)} native libraries, "
            + ("all 16 KB aligned" if not bad else f"NOT 16 KB aligned: {', '.join(bad)}"),
        )
    ]


PAGE_16K = 16384


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@click.command("verify")
@click.argument("session", required=False)
@click.option(
    "--results",
    "results",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="results folder holding the session (default results/)",
)
@click.option("--models", default=None, help="comma-separated models that must be there (default: the zoo)")
@click.option(
    "--runtimes",
    default="pytorch_android_lite-2.1.0,executorch-1.4.1",
    show_default=True,
    help="comma-separated runtimes that must be there",
)
@click.option("--quant", default="fp32,int8", show_default=True, help="comma-separated quantisations")
@click.option(
    "--apk",
    "apks",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="runner APK whose native libraries to check (repeat for both flavors)",
)
@click.option(
    "--min-agreement",
    type=float,
    default=MIN_AGREEMENT,
    show_default=True,
    help="device/host agreement that trained weights must reach",
)
@click.option(
    "--min-agreement-untrained",
    type=float,
    default=MIN_AGREEMENT_UNTRAINED,
    show_default=True,
    help="the floor for untrained weights (near-tied logits flip between builds)",
)
def verify_cmd(
    session: str | None,
    results: Path | None,
    models: str | None,
    runtimes: str,
    quant: str,
    apks: tuple[Path, ...],
    min_agreement: float,
    min_agreement_untrained: float,
) -> None:
    """Check a session (default: the newest) as the emulator job does; exit 1 if any check fails.

    \b
    Examples:
      fermbench verify --apk android-runner/app/build/outputs/apk/executorch/release/app-executorch-release.apk
      fermbench verify SESSION --models shallow_cnn --quant fp32
    """
    from ..zoo import MODEL_NAMES

    for runtime in _split(runtimes):
        by_version(runtime)  # an unknown name: one line naming the known ones, before any session is read
    stored = load_session(session if session is not None else latest_session(results), results)
    findings = [f for apk in apks for f in check_apk(apk)]
    findings += check_session(
        stored,
        _split(models) if models else list(MODEL_NAMES),
        _split(runtimes),
        _split(quant),
        min_agreement,
        min_agreement_untrained,
    )
    for f in findings:
        click.echo(f"{'ok  ' if f.ok else 'FAIL'} {f.what}")
    failed = [f for f in findings if not f.ok]
    if failed:
        raise ResultsError(
            f"{len(failed)} of {len(findings)} checks failed in session {stored.id}, the first: {failed[0].what}"
        )
    click.echo(f"all {len(findings)} checks passed (session {stored.id})")
