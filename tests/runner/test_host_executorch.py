"""The host runner on ExecuTorch programs (.pte): the same protocol as on .ptl files, the
runtime's own answers, its threads, and the coded errors of files it cannot run."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import torch

from fermbench.fileio import sha256_file
from fermbench.runner import host
from fermbench.runner import protocol as p
from fermbench.runner.instrument_output import parse_instrument_output

EXECUTORCH = "executorch"


def run(extras: dict[str, str], **kw) -> str:
    chunks: list[str] = []
    assert host.run_instrumentation(extras, Path, chunks.append, runtime=EXECUTORCH, **kw) == 0
    return "".join(chunks)


def decoded(extras: dict[str, str], **kw):
    return p.decode_result(parse_instrument_output(run(extras, **kw)), fetch=lambda f: Path(f).read_bytes())


def error_of(extras: dict[str, str]) -> p.RunnerErrorResult:
    outcome = p.read_outcome(parse_instrument_output(run(extras)))
    assert isinstance(outcome, p.RunnerErrorResult), outcome
    return outcome


def _pool_threads() -> int:
    from executorch.extension.pybindings import portable_lib

    return portable_lib._threadpool_get_thread_count()


def test_info_names_executorch_and_the_program_format_it_reads(tiny_pte):
    info = decoded(p.info_args())
    assert (info.runtime_name, info.runtime_version) == ("executorch", importlib.metadata.version("executorch"))
    assert info.model_format == "pte" and info.bytecode_min is None and info.bytecode_max is None
    assert info.pte_identifiers == [tiny_pte.read_bytes()[4:8].decode()]  # what the exporter writes: ET12


def test_latency_on_a_pte_fills_every_field(tiny_pte):
    res = decoded(p.latency_args(str(tiny_pte), iterations=5, min_seconds=0.0, warmup=2, warmup_seconds=0.0, threads=1))
    assert isinstance(res, p.LatencyResult) and res.runtime_name == "executorch"
    assert len(res.samples_ns) == 5 and res.warmup_count == 2 and res.output_numel == 7
    assert res.runtime_load_ns > 0 and res.load_ns > 0 and res.threads == 1
    assert res.memory_after_runtime.rss_kb and res.memory_after_run.peak_rss_kb
    assert res.model_sha256 == sha256_file(tiny_pte) and res.model_bytes == tiny_pte.stat().st_size


def test_threads_size_the_xnnpack_pool_for_the_run(tiny_pte):
    from executorch.runtime import Runtime

    Runtime.get()
    before = _pool_threads()
    wanted = 1 if before != 1 else 2
    seen: list[int] = []
    chunks: list[str] = []

    def emit(text: str) -> None:
        chunks.append(text)
        if "fermbench_phase=timed" in text:
            seen.append(_pool_threads())

    extras = p.latency_args(str(tiny_pte), threads=wanted, iterations=2, min_seconds=0.0, warmup_seconds=0.0)
    host.run_instrumentation(extras, Path, emit, runtime=EXECUTORCH)
    res = p.decode_result(parse_instrument_output("".join(chunks)))
    assert seen == [wanted] and res.threads == wanted
    assert before != wanted  # the run changed it (it keeps that size: only ExecuTorch uses the pool)


def test_classify_matches_the_program_run_directly(tiny_pte, tmp_path):
    from executorch.runtime import Runtime

    images = np.random.default_rng(2).integers(0, 256, size=(6, 48, 48), dtype=np.uint8)
    p.write_images_file(tmp_path / "in.ferb", images)
    res = decoded(p.classify_args(str(tiny_pte), str(tmp_path / "in.ferb"), mean=0.5, std=0.25))
    method = Runtime.get().load_program(tiny_pte).load_method("forward")
    x = torch.from_numpy((images.astype(np.float32) / 255 - 0.5) / 0.25).unsqueeze(1)
    expected = np.concatenate([method.execute([x[i : i + 1]])[0].numpy() for i in range(6)])
    np.testing.assert_allclose(np.array(res.logits, dtype=np.float32), expected, rtol=1e-5, atol=1e-6)
    assert res.top == expected.argmax(axis=1).tolist() and res.num_classes == 7 and len(res.latency_ns) == 6
    assert res.runtime_name == "executorch" and res.foreground.note == host.HOST_FOREGROUND_NOTE


def test_the_same_module_gives_the_same_classes_on_both_runtimes(tiny_ptl, tiny_pte, tmp_path):
    images = np.random.default_rng(4).integers(0, 256, size=(8, 48, 48), dtype=np.uint8)
    lite = host.run_host("classify", model=tiny_ptl, images=images)
    et = host.run_host("classify", model=tiny_pte, images=images, runtime=EXECUTORCH)
    np.testing.assert_allclose(
        np.array(et.logits, dtype=np.float32), np.array(lite.logits, dtype=np.float32), rtol=1e-4, atol=1e-5
    )
    assert (lite.runtime_name, et.runtime_name) == ("pytorch_lite", "executorch")


def test_a_16k_page_phone_runs_executorch(tiny_pte):
    res = decoded(p.latency_args(str(tiny_pte), iterations=2, min_seconds=0.0, warmup_seconds=0.0), page_size=16384)
    assert len(res.samples_ns) == 2


def test_a_program_from_another_format_version_is_refused_with_the_reason(tiny_pte, tmp_path):
    data = bytearray(tiny_pte.read_bytes())
    data[4:8] = b"ET99"
    other = tmp_path / "other.pte"
    other.write_bytes(bytes(data))
    err = error_of(p.latency_args(str(other)))
    assert err.code == "model_load_failed" and "'ET99'" in err.message and "ET12" in err.message


def test_a_corrupt_program_and_a_wrong_input_shape_are_coded(tiny_pte, tmp_path):
    junk = tmp_path / "junk.pte"
    junk.write_bytes(tiny_pte.read_bytes()[:8] + b"\0" * 64)  # the right identifier, nothing behind it
    assert error_of(p.latency_args(str(junk))).code == "model_load_failed"
    err = error_of(p.latency_args(str(tiny_pte), input_shape=(1, 3, 5)))
    assert err.code == "inference_failed" and "[1, 3, 5]" in err.message
    assert error_of(p.latency_args(str(tmp_path / "none.pte"))).code == "model_missing"
