"""The host runner against the protocol: each mode, the loop rules, the coded errors, cancel."""

from __future__ import annotations

import os
import threading
from array import array
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.jit.mobile

from fermbench.errors import ConfigError, RunnerError
from fermbench.runner import engines, host
from fermbench.runner import protocol as p
from fermbench.runner.instrument_output import parse_instrument_output


def run(extras: dict[str, str], resolve=Path, **kw) -> tuple[int, str]:
    chunks: list[str] = []
    code = host.run_instrumentation(extras, resolve, chunks.append, **kw)
    return code, "".join(chunks)


def decoded(extras: dict[str, str], resolve=Path, **kw):
    code, text = run(extras, resolve, **kw)
    assert code == 0
    parsed = parse_instrument_output(text)
    assert parsed.code == p.FINAL_CODE and not parsed.truncated and not parsed.crashed
    return p.decode_result(parsed, fetch=lambda path: resolve(path).read_bytes())


def error_of(extras: dict[str, str], resolve=Path, **kw) -> p.RunnerErrorResult:
    code, text = run(extras, resolve, **kw)
    assert code == 0
    parsed = parse_instrument_output(text)
    assert parsed.code == p.FINAL_CODE and parsed.result == {p.KEY_STATUS: "error"}
    outcome = p.read_outcome(parsed)
    assert isinstance(outcome, p.RunnerErrorResult), outcome
    return outcome


def test_info_reports_runtime_formats_and_page_size():
    info = decoded(p.info_args())
    assert isinstance(info, p.InfoResult)
    assert (
        info.runner_kind == "host" and info.runtime_name == "pytorch_lite" and info.runtime_version == torch.__version__
    )
    assert (info.bytecode_min, info.bytecode_max) == engines.HOST_BYTECODE_RANGE
    assert info.model_format == "ptl" and info.pte_identifiers == []
    assert info.page_size == os.sysconf("SC_PAGE_SIZE")
    assert info.cpu_count >= 1 and info.abis
    assert decoded(p.info_args(), page_size=16384).page_size == 16384  # a simulated 16 KB-page phone


def test_unknown_runtime_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        host.run_instrumentation(p.info_args(), Path, lambda text: None, runtime="tflite")
    assert "pytorch_lite" in str(err.value) and "executorch" in str(err.value)


def test_info_uses_device_facts_and_runtime_range_of_a_simulated_phone():
    info = decoded(p.info_args(), device_facts={"model": "Pixel 7", "sdk_int": 34}, bytecode_range=(4, 7))
    assert info.device == {"model": "Pixel 7", "sdk_int": 34}
    assert (info.bytecode_min, info.bytecode_max) == (4, 7)


def test_latency_counts_first_inference_warmup_and_every_sample(tiny_ptl):
    res = decoded(p.latency_args(str(tiny_ptl), iterations=7, min_seconds=0.0, warmup=3, warmup_seconds=0.0))
    assert isinstance(res, p.LatencyResult)
    assert len(res.samples_ns) == 7 and all(s > 0 for s in res.samples_ns)
    assert res.warmup_count == 3 and res.stop_reason == "count_and_time"
    assert res.load_ns > 0 and res.first_inference_ns > 0 and res.runtime_load_ns > 0
    assert res.runtime_preloaded  # the test process imported torch.jit.mobile long ago
    assert sum(res.samples_ns) <= res.timed_ns
    assert res.output_numel == 7 and res.input_shape == [1, 1, 48, 48]
    assert res.model_bytes == tiny_ptl.stat().st_size and len(res.model_sha256) == 64
    assert res.memory_counter == "pss" and "smaps_rollup" in res.memory_source
    readings = [res.memory_before_load, res.memory_after_runtime, res.memory_after_load, res.memory_after_run]
    assert all(m.pss_kb and m.rss_kb and m.peak_rss_kb for m in readings)
    assert all(m.peak_rss_kb >= m.rss_kb for m in readings)  # VmHWM is never below the RSS it covers
    assert res.memory_delta_kb() == res.memory_after_run.pss_kb - res.memory_before_load.pss_kb
    assert res.peak_rss_kb() == res.memory_after_run.peak_rss_kb
    assert res.env_before.thermal_status is None and res.env_before.note == host.HOST_NOTE
    assert res.foreground.importance is None and res.foreground.note == host.HOST_FOREGROUND_NOTE
    assert res.metrics["gc_count_timed"] == 0 and res.thread_priority is None  # collector paused; priority not raised
    assert isinstance(res.metrics["native_heap_growth_timed"], int)  # glibc mallinfo2 after minus before the loop
    assert res.settings["iterations"] == "7"


def test_latency_runs_until_minimum_time_even_after_count(tiny_ptl):
    res = decoded(p.latency_args(str(tiny_ptl), iterations=1, min_seconds=0.05, warmup=0, warmup_seconds=0.03))
    assert res.timed_ns >= 50_000_000 and len(res.samples_ns) > 1
    assert res.warmup_ns >= 30_000_000 and res.warmup_count >= 1


def test_latency_caps_end_the_run(tiny_ptl):
    by_time = decoded(
        p.latency_args(
            str(tiny_ptl),
            iterations=10_000_000,
            max_iterations=10_000_000,
            min_seconds=0.0,
            max_seconds=0.05,
            warmup=0,
            warmup_seconds=0.0,
        )
    )
    assert by_time.stop_reason == "max_s" and by_time.timed_ns >= 50_000_000  # exact stop: test_timed_loop.py
    by_count = decoded(
        p.latency_args(
            str(tiny_ptl),
            iterations=3,
            min_seconds=30.0,
            max_iterations=4,
            max_seconds=60.0,
            warmup=0,
            warmup_seconds=0.0,
        )
    )
    assert by_count.stop_reason == "max_runs" and len(by_count.samples_ns) == 4


def test_thread_count_applies_inside_the_run_and_is_restored(tiny_ptl):
    before = torch.get_num_threads()
    seen: list[int] = []

    def emit(text: str) -> None:
        if "fermbench_phase=timed" in text:
            seen.append(torch.get_num_threads())

    extras = p.latency_args(
        str(tiny_ptl), threads=2 if before != 2 else 1, iterations=2, min_seconds=0.0, warmup_seconds=0.0
    )
    host.run_instrumentation(extras, Path, emit)
    assert seen == [2 if before != 2 else 1]
    assert torch.get_num_threads() == before


def test_sample_buffer_is_made_before_the_first_memory_reading(tiny_ptl, monkeypatch):
    events: list[str] = []
    make_buffer, read = host.sample_buffer, host.read_memory
    monkeypatch.setattr(host, "sample_buffer", lambda *a: events.append("buffer") or make_buffer(*a))
    monkeypatch.setattr(host, "read_memory", lambda: events.append("memory") or read())
    decoded(p.latency_args(str(tiny_ptl), iterations=3, min_seconds=0.0, warmup_seconds=0.0))
    assert events == ["buffer", "memory", "memory", "memory", "memory"]


def test_peak_memory_is_the_runs_own(tmp_path):
    """A forward that briefly holds 120 MB raises the run's peak RSS far above its after-run RSS;
    a larger peak the host process reached before the run is not reported (VmHWM is reset)."""

    class Spike(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            spike = torch.ones(30_000_000)  # 120 MB, freed when forward returns
            return x.mean(dim=(2, 3)) + spike[0]

    model = tmp_path / "spike.ptl"
    torch.jit.script(Spike())._save_for_lite_interpreter(str(model))
    before = bytearray(400 * 1024 * 1024)  # the host process peaks at +400 MB before the run
    del before
    res = decoded(p.latency_args(str(model), iterations=2, min_seconds=0.0, warmup=0, warmup_seconds=0.0))
    assert res.peak_rss_kb() - res.memory_before_load.rss_kb > 100_000
    assert res.peak_rss_kb() - res.memory_after_run.rss_kb > 100_000
    assert res.peak_rss_kb() - res.memory_before_load.rss_kb < 300_000


def test_a_16k_page_phone_refuses_the_lite_runtime(tiny_ptl):
    err = error_of(p.latency_args(str(tiny_ptl)), page_size=16384)
    assert err.code == "runtime_load_failed"
    assert "program alignment (4096) cannot be smaller than system page size (16384)" in err.message


def test_environment_callback_fills_thermal_and_battery(tiny_ptl):
    readings = iter(
        [
            {
                "thermal_status": 0,
                "thermal_status_name": "none",
                "battery_temp_c": 31.5,
                "battery_level_pct": 80,
                "charging": False,
            },
            {
                "thermal_status": 1,
                "thermal_status_name": "light",
                "battery_temp_c": 33.0,
                "battery_level_pct": 79,
                "charging": False,
            },
        ]
    )
    res = decoded(
        p.latency_args(str(tiny_ptl), iterations=2, min_seconds=0.0, warmup_seconds=0.0),
        environment=lambda: next(readings),
    )
    assert res.env_before.battery_temp_c == 31.5 and res.env_after.thermal_status_name == "light"


def _gray_images(n: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def test_classify_matches_the_lite_module_run_directly(tiny_ptl, tmp_path):
    images = _gray_images(5)
    p.write_images_file(tmp_path / "in.ferb", images)
    res = decoded(p.classify_args(str(tiny_ptl), str(tmp_path / "in.ferb"), mean=0.5, std=0.25))
    assert isinstance(res, p.ClassifyResult)
    module = torch.jit.mobile._load_for_lite_interpreter(str(tiny_ptl))
    x = torch.from_numpy((images.astype(np.float32) / 255 - 0.5) / 0.25).unsqueeze(1)
    expected = torch.cat([module(x[i : i + 1]) for i in range(5)]).numpy()
    assert res.count == 5 and (res.channels, res.height, res.width) == (1, 48, 48) and res.num_classes == 7
    np.testing.assert_allclose(np.array(res.logits, dtype=np.float32), expected, rtol=1e-5, atol=1e-6)
    assert res.top == expected.argmax(axis=1).tolist()
    assert len(set(res.top)) >= 1 and len(res.latency_ns) == 5 and min(res.latency_ns) > 0


class TinyRgb(torch.nn.Module):
    """3 channels in, 5 logits out; the first conv mixes channels, so a per-channel mistake shows."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def test_classify_of_rgb_images_normalises_each_channel_like_eager_torch(tmp_path):
    torch.manual_seed(1)
    module = TinyRgb().eval()
    ptl = tmp_path / "rgb.ptl"
    torch.jit.script(module)._save_for_lite_interpreter(str(ptl))
    images = np.random.default_rng(5).integers(0, 256, size=(4, 3, 12, 10), dtype=np.uint8)
    p.write_images_file(tmp_path / "rgb.ferb", images)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    res = decoded(p.classify_args(str(ptl), str(tmp_path / "rgb.ferb"), mean=mean, std=std))
    assert isinstance(res, p.ClassifyResult)
    assert (res.count, res.channels, res.height, res.width, res.num_classes) == (4, 3, 12, 10, 5)
    assert res.mean == list(mean) and res.std == list(std)
    m, sd = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    x = (torch.from_numpy(images).float() / 255 - m) / sd
    with torch.no_grad():
        expected = module(x).numpy()
    np.testing.assert_allclose(np.array(res.logits, dtype=np.float32), expected, rtol=1e-5, atol=1e-5)
    assert res.top == expected.argmax(axis=1).tolist()
    # the channels swapped give other logits: the per-channel values reach the right channel
    swapped = decoded(p.classify_args(str(ptl), str(tmp_path / "rgb.ferb"), mean=mean[::-1], std=std[::-1]))
    assert not np.allclose(np.array(swapped.logits, dtype=np.float32), expected, rtol=1e-3, atol=1e-3)
    # one value serves every channel; a count that is neither 1 nor C is refused, naming both
    one = decoded(p.classify_args(str(ptl), str(tmp_path / "rgb.ferb"), mean=0.5, std=0.25))
    assert one.mean == [0.5] * 3 and one.std == [0.25] * 3
    err = error_of(p.classify_args(str(ptl), str(tmp_path / "rgb.ferb"), mean=(0.5, 0.5), std=0.25))
    assert err.code == "bad_arguments" and "mean has 2 values, the images have 3 channel(s)" in err.message


def test_paths_go_through_resolve_and_large_results_come_back_as_a_file(tiny_ptl, tmp_path):
    phone = tmp_path / "phone"  # a simulated phone's storage folder
    (phone / "data/local/tmp/fermbench").mkdir(parents=True)
    (phone / "data/local/tmp/fermbench/tiny.ptl").write_bytes(tiny_ptl.read_bytes())
    p.write_images_file(phone / "data/local/tmp/fermbench/in.ferb", _gray_images(40))

    def resolve(device_path: str) -> Path:
        assert device_path.startswith("/")
        return phone / device_path.lstrip("/")

    extras = p.classify_args(
        f"{p.DEVICE_MODEL_DIR}/tiny.ptl", f"{p.DEVICE_MODEL_DIR}/in.ferb", run_id="cls-1", inline_max_bytes=200
    )
    code, text = run(extras, resolve)
    parsed = parse_instrument_output(text)
    ref = p.read_outcome(parsed)
    assert isinstance(ref, p.ResultRef) and ref.file == f"{p.EXTERNAL_FILES_DIR}/results/cls-1.json"
    assert resolve(ref.file).stat().st_size == ref.size
    res = p.decode_result(parsed, fetch=lambda path: resolve(path).read_bytes())
    assert res.count == 40 and res.model_path == f"{p.DEVICE_MODEL_DIR}/tiny.ptl"
    with pytest.raises(RunnerError) as err:
        p.decode_result(parsed)  # no way to pull the file
    assert err.value.code == "no_result"


@pytest.mark.parametrize(
    "extras, code, words",
    [
        ({"mode": "latency"}, "bad_arguments", "needs model"),
        ({"mode": "nap"}, "bad_arguments", "unknown mode"),
        ({}, "bad_arguments", "missing mode"),
        ({"mode": "info", "colour": "red"}, "bad_arguments", "colour"),
        ({"mode": "latency", "model": "/m.ptl", "iterations": "many"}, "bad_arguments", "iterations"),
        ({"mode": "latency", "model": "/m.ptl", "iterations": "0"}, "bad_arguments", "out of range"),
        (
            {"mode": "latency", "model": "/m.ptl", "min_seconds": "100", "max_seconds": "10"},
            "bad_arguments",
            "max_seconds",
        ),
        ({"mode": "info", "protocol": "99"}, "bad_arguments", "protocol 99"),
        ({"mode": "latency", "model": "relative.ptl"}, "bad_arguments", "absolute"),
        ({"mode": "latency", "model": "/nowhere/m.ptl"}, "model_missing", "/nowhere/m.ptl"),
    ],
)
def test_bad_requests_get_coded_errors(extras, code, words):
    err = error_of(extras)
    assert err.code == code and words in err.message


def test_unloadable_file_is_model_load_failed_with_the_interpreter_message(tmp_path):
    junk = tmp_path / "junk.ptl"
    junk.write_bytes(b"this is not a zip archive")
    err = error_of(p.latency_args(str(junk)))
    assert err.code == "model_load_failed" and "zip" in err.message.lower()


def test_bytecode_mismatch_gives_the_runtime_message(tiny_ptl):
    version = torch.jit.mobile._get_model_bytecode_version(str(tiny_ptl))
    err = error_of(p.latency_args(str(tiny_ptl)), bytecode_range=(4, version - 1))
    assert err.code == "model_load_failed"
    assert f"must be between 4 and {version - 1} but the model version is {version}" in err.message


def test_wrong_input_shape_is_inference_failed(tiny_ptl):
    err = error_of(p.latency_args(str(tiny_ptl), input_shape=(1, 3, 5)))
    assert err.code == "inference_failed" and "[1, 3, 5]" in err.message


def test_classify_input_errors(tiny_ptl, tmp_path):
    assert error_of(p.classify_args(str(tiny_ptl), str(tmp_path / "none.ferb"))).code == "input_missing"
    bad = tmp_path / "bad.ferb"
    bad.write_bytes(b"FERB" + b"\x01\x00\x00\x00" + b"\x02\x00\x00\x00" * 3 + b"\x00" * 7)
    err = error_of(p.classify_args(str(tiny_ptl), str(bad)))
    assert err.code == "input_invalid" and "says" in err.message


def test_out_of_memory_and_internal_errors_are_coded(tiny_ptl, monkeypatch):
    def no_memory(path):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(torch.jit.mobile, "_load_for_lite_interpreter", no_memory)
    assert error_of(p.latency_args(str(tiny_ptl))).code == "out_of_memory"
    monkeypatch.undo()

    def broken():
        raise ValueError("bug in the runner")

    monkeypatch.setattr(host, "read_memory", broken)
    err = error_of(p.latency_args(str(tiny_ptl)))
    assert err.code == "internal" and "ValueError: bug in the runner" in err.message


def test_cancel_ends_like_a_killed_process(tiny_ptl):
    cancel = threading.Event()
    chunks: list[str] = []

    def emit(text: str) -> None:
        chunks.append(text)
        if "fermbench_phase=timed" in text:
            cancel.set()  # kill it while the timed loop runs; it would otherwise go on for 30 s

    extras = p.latency_args(str(tiny_ptl), iterations=10, min_seconds=30.0, warmup=0, warmup_seconds=0.0)
    assert host.run_instrumentation(extras, Path, emit, cancel) == 0
    parsed = parse_instrument_output("".join(chunks))
    assert parsed.crashed and parsed.code == 0
    with pytest.raises(RunnerError) as err:
        p.decode_result(parsed)
    assert err.value.code == "crashed"


def test_run_host_returns_typed_results(tiny_ptl):
    lat = host.run_host("latency", model=tiny_ptl, iterations=3, min_seconds=0.0, warmup=1, warmup_seconds=0.0)
    assert isinstance(lat, p.LatencyResult) and len(lat.samples_ns) == 3
    cls = host.run_host("classify", model=tiny_ptl, images=_gray_images(2))
    assert isinstance(cls, p.ClassifyResult) and cls.count == 2
    assert cls.mean == pytest.approx([p.NORM_MEAN]) and cls.std == pytest.approx([p.NORM_STD])
    with pytest.raises(RunnerError) as err:
        host.run_host("latency", model=tiny_ptl.with_name("absent.ptl"))
    assert err.value.code == "model_missing"


def test_output_is_what_am_instrument_r_prints(tiny_ptl):
    code, text = run(p.latency_args(str(tiny_ptl), iterations=2, min_seconds=0.0, warmup_seconds=0.0))
    lines = text.splitlines()
    assert code == 0 and lines[-1] == "INSTRUMENTATION_CODE: -1" and text.endswith("\n")
    block: list[str] = []
    for line in lines:  # within each status bundle the keys come sorted, as am prints them
        if line.startswith("INSTRUMENTATION_STATUS: "):
            block.append(line.split(": ", 1)[1].split("=", 1)[0])
        elif line.startswith("INSTRUMENTATION_STATUS_CODE: "):
            assert block == sorted(block) and "id" in block
            block = []
    phases = [s["fermbench_phase"] for s in parse_instrument_output(text).statuses if "fermbench_phase" in s]
    assert phases == ["load", "first", "warmup", "timed"]


def test_timed_loop_keeps_every_sample_past_its_buffer_and_none_without_one():
    ticks = iter(range(1_000_000))
    phase = host.timed_loop(lambda: next(ticks), 5, 0.0, 100, 60.0, buffer=array("q", [0]) * 2)
    assert phase.count == 5 and len(phase.samples_ns()) == 5 and all(t > 0 for t in phase.samples_ns())
    assert len(phase.buffer) >= 5  # grown by doubling
    warm = host.timed_loop(lambda: None, 3, 0.0, 100, 60.0)
    assert warm.count == 3 and warm.samples_ns() == [] and warm.stop_reason == "count_and_time"
    assert len(host.sample_buffer(50, 100_000)) == 100_000 and len(host.sample_buffer(50, 10**7)) == 1 << 20
