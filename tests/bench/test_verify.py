"""`fermbench verify`: each check the emulator job asserts, shown passing and shown failing."""

from __future__ import annotations

import io
import zipfile

import pytest
from click.testing import CliRunner

from fermbench.bench.verify import check_apk, check_session
from fermbench.measures.readings import MemoryReading
from fermbench.sim.standin import elf_library, write_standin_apks
from fermbench.store.reader import load_session
from fermbench.store.records import OK, PHASE_FAILED, AccuracyPhase, Foreground, Memory, RuntimeUsed
from report.synthetic_sessions import RUNTIME, write_session

MODELS = ("shallow_cnn", "deep_cnn")


def memory(source: str, before: int, runtime: int, load: int | None, run: int, peak: int | None) -> Memory:
    """PSS readings (KiB) at the four points of a run, the peak RSS after it."""
    return Memory(
        "PSS",
        source,
        MemoryReading(pss_kb=before),
        MemoryReading(pss_kb=runtime),
        MemoryReading(pss_kb=load),
        MemoryReading(pss_kb=run, peak_rss_kb=peak),
    )


@pytest.fixture
def session(tmp_path):
    """A session whose records carry what a good phone run records (memory, foreground, agreement)."""
    sid = write_session(tmp_path, {m: [1_000_000 + i for i in range(20)] for m in MODELS})
    stored = load_session(sid, tmp_path)
    for rec in stored.records:
        for rep in rec.latency:
            rep.memory = memory("Debug.MemoryInfo", 1000, 2000, 3000, 3100, 5000)
            rep.runtime = RuntimeUsed("pytorch_lite", "2.1.0", "android", "0.1.0")
            rep.foreground = Foreground(True, 100, "foreground", True, True)
        rec.accuracy = AccuracyPhase(status=OK, n=100, agreement=0.99)
    return stored


def verify(session, **kw):
    return check_session(session, MODELS, [RUNTIME], ["fp32"], **kw)


def failed(findings):
    return [f.what for f in findings if not f.ok]


def test_a_good_phone_session_passes(session):
    findings = verify(session)
    assert len(findings) == 3 * len(MODELS) and failed(findings) == []


def test_each_fault_is_named(session):
    by_model = {r.model: r for r in session.records}
    first, second = by_model["shallow_cnn"], by_model["deep_cnn"]
    first.latency[0].memory = memory("x", 1000, 2000, None, 3100, None)  # no reading after load
    second.latency[0].foreground = Foreground(False, 200, "visible")  # the isolation activity was not on top
    second.accuracy = AccuracyPhase(status=OK, n=100, agreement=0.90)
    problems = failed(verify(session))
    assert len(problems) == 3
    assert any(p.startswith("shallow_cnn") and "after load None KiB" in p for p in problems)
    assert any(p.startswith("deep_cnn") and "isolation activity False" in p for p in problems)
    assert any("agreement 0.900 over 100 images (at least 0.95 for trained weights)" in p for p in problems)


def test_a_missing_variant_and_a_failed_record_fail(session):
    session.records[0].status, session.records[0].error = PHASE_FAILED, "export failed: boom"
    problems = failed(check_session(session, [*MODELS, "resnet9"], [RUNTIME], ["fp32"]))
    assert any("export failed: boom" in p for p in problems)
    assert any(p.startswith(f"resnet9/{RUNTIME}/fp32: no record") for p in problems)


def test_untrained_weights_have_a_lower_agreement_floor_and_may_lose_the_int8_gate(session):
    for meta in session.info.models.values():
        meta["trained"] = False
    session.records[0].accuracy = AccuracyPhase(status=OK, n=100, agreement=0.90)
    assert failed(verify(session)) == []  # 0.90 passes the untrained floor (0.80)
    assert failed(verify(session, min_agreement_untrained=0.95))
    rec = next(r for r in session.records if r.model == "deep_cnn")
    rec.runtime, rec.quant, rec.status = "executorch-1.4.1", "int8", PHASE_FAILED
    rec.error = "export failed: deep_cnn: the int8 program agrees with fp32 on 97.8% of 1000 PublicTest images"
    int8 = check_session(session, ["deep_cnn"], ["executorch-1.4.1"], ["int8"])
    assert [f.ok for f in int8] == [True] and "refused by the int8 gate" in int8[0].what
    for key in session.info.models:  # trained weights: the same refusal is a failure
        session.info.models[key]["trained"] = True
    assert failed(check_session(session, ["deep_cnn"], ["executorch-1.4.1"], ["int8"]))


def test_the_executorch_and_litert_apks_must_be_16k_aligned(tmp_path):
    lite, et, litert = write_standin_apks(tmp_path)
    assert [f.ok for f in check_apk(et)] == [True] and "all 16 KB aligned" in check_apk(et)[0].what
    assert [f.ok for f in check_apk(litert)] == [True] and "all 16 KB aligned" in check_apk(litert)[0].what
    assert "a PyTorch Lite runner, not 16 KB aligned by design" in check_apk(lite)[0].what
    buf = io.BytesIO(et.read_bytes())
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("lib/x86_64/libexecutorch_extra.so", elf_library("x86_64", 4096))
    bad = tmp_path / "bad.apk"
    bad.write_bytes(buf.getvalue())
    finding = check_apk(bad)[0]
    assert not finding.ok and "NOT 16 KB aligned: lib/x86_64/libexecutorch_extra.so" in finding.what


def test_the_command_exits_1_with_one_line(tmp_path):
    from fermbench.cli import main

    write_session(tmp_path, {"shallow_cnn": [1_000_000] * 20})
    result = CliRunner().invoke(
        main,
        ["verify", "--results", str(tmp_path), "--models", "shallow_cnn", "--runtimes", RUNTIME, "--quant", "fp32"],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert all(line.startswith(("ok   ", "FAIL ")) for line in lines[:-1]) and "FAIL shallow_cnn" in result.output
    assert lines[-1].startswith("Error: ") and "checks failed in session" in lines[-1] and "memory" in lines[-1]
