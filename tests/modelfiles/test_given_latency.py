"""A given file is timed at its own input: the host runner's three engines at a 3x32x32 or 3x64x64
input (int8 .tflite quantised by the LiteRT engine), the session's latency phase passing the file's
shape to the runner, and each repeat recording the input it timed."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from fermbench.bench.exports import ModelFile
from fermbench.bench.given_files import given_model_file, given_variant
from fermbench.bench.phases import Timing, latency_phase, model_input_shape
from fermbench.bench.settings import build_settings
from fermbench.errors import ConfigError
from fermbench.labels import INPUT_SHAPE
from fermbench.modelfiles import inspect_model_file
from fermbench.runner import protocol as p
from fermbench.runner.engines import ExecutorchEngine, LiteEngine
from fermbench.runner.host import run_host
from fermbench.runner.litert_engine import LitertEngine
from fermbench.store import LatencyRepeat, SessionStore, TimingInput, Variant
from fermbench.store.codec import from_json, to_json
from fermbench.store.identity import ExportIdentity
from fermbench.targets.host import HostTarget

FAST = {"iterations": 3, "min_seconds": 0.0, "warmup": 1, "warmup_seconds": 0.0, "threads": 1}
PTL_SHAPE = (1, 3, 64, 64)  # a .ptl records none: any the model takes
# fixture, the engine class that runs it, the --input-shape it needs
FILES = [
    ("ptl_file", LiteEngine, PTL_SHAPE),
    ("pte_file", ExecutorchEngine, None),
    ("tflite_file", LitertEngine, None),
    ("int8_tflite_file", LitertEngine, None),
]


def given(request, fixture, shape):
    return inspect_model_file(request.getfixturevalue(fixture), shape)


@pytest.mark.parametrize("fixture,engine,shape", FILES)
def test_the_host_runner_times_a_given_file_at_its_own_input(request, tmp_path, monkeypatch, fixture, engine, shape):
    g = given(request, fixture, shape)
    path = given_model_file(g, tmp_path).path  # under its safe name: "tiny rgb.ptl" has a space
    fed = []
    real = engine.forward

    def recording(self, x):
        fed.append(x.numpy().astype("<f4").tobytes())
        return real(self, x)

    monkeypatch.setattr(engine, "forward", recording)
    r = run_host("latency", model=path, runtime=g.runtime, input_shape=g.input_shape, **FAST)
    assert isinstance(r, p.LatencyResult) and r.runtime_name == g.runtime
    assert r.input_shape == list(g.input_shape) and r.output_numel == 5 and r.model_sha256 == g.sha256
    assert len(r.samples_ns) >= 3
    # every forward got the protocol's pattern, whose hash a repeat records
    assert {hashlib.sha256(b).hexdigest() for b in fed} == {p.latency_input_sha256(g.input_shape)}


def test_the_pattern_hash_is_of_the_float32_values():
    values = p.latency_input_values(12)
    assert p.latency_input_sha256((1, 3, 2, 2)) == hashlib.sha256(values.astype("<f4").tobytes()).hexdigest()
    assert p.latency_input_sha256((1, 3, 2, 2)) != p.latency_input_sha256((1, 3, 2, 3))


@pytest.fixture
def store(tmp_path):
    settings = build_settings(devices=("host",), models=("shallow_cnn",), **FAST)
    store = SessionStore.create(settings.to_dict(), root=tmp_path / "results")
    yield store, settings
    store.close()


@pytest.mark.parametrize("fixture,engine,shape", FILES)
def test_the_latency_phase_feeds_the_file_its_shape_and_records_the_input(
    request, tmp_path, store, fixture, engine, shape
):
    g = given(request, fixture, shape)
    model = given_model_file(g, tmp_path / "private")
    target = HostTarget()
    try:
        repeat = latency_phase(store[0], target, model, 0, store[1], Timing())
    finally:
        target.close()
    assert repeat.timing_input == TimingInput(
        shape=list(g.input_shape),
        dtype=g.input_dtype,
        pattern=p.LATENCY_INPUT_PATTERN,
        pattern_version=p.LATENCY_INPUT_VERSION,
        sha256=p.latency_input_sha256(g.input_shape),
    )
    assert repeat.runtime is not None and repeat.runtime.name == g.runtime
    data = json.loads(json.dumps(to_json(repeat)))
    assert data["timing_input"]["shape"] == list(g.input_shape)
    assert from_json(LatencyRepeat, data, "repeat") == repeat


def test_a_repeat_without_a_timing_input_is_written_as_before():
    """Files from before the field read as None, and such a repeat writes no key for it."""
    old = {"status": "ok", "repeat": 0, "runtime_load_ms": 1.5}
    repeat = from_json(LatencyRepeat, old, "repeat")
    assert repeat.timing_input is None and "timing_input" not in to_json(repeat)


def test_a_given_file_is_the_sessions_model_file(ptl_file, tmp_path):
    g = inspect_model_file(ptl_file, PTL_SHAPE)
    model = given_model_file(g, tmp_path / "private")
    assert model.variant == given_variant(g) == Variant("tiny_rgb", "pytorch_android_lite-2.1.0", "fp32")
    assert model.path == tmp_path / "private" / "tiny_rgb.ptl" and model.path.read_bytes() == ptl_file.read_bytes()
    assert model.sha256 == g.sha256 and not model.cached
    meta = model.meta
    assert (meta["source"], meta["class_names"], meta["input_shape"], meta["input_dtype"]) == (
        "file",
        [],
        list(PTL_SHAPE),
        "float32",
    )
    assert meta["bytecode_version"] == g.format_meta["bytecode_version"]  # what preflight checks
    identity = ExportIdentity.from_meta(meta)
    assert (identity.name, identity.runtime_target, identity.quant, identity.file, identity.bytes) == (
        "tiny_rgb",
        "pytorch_android_lite-2.1.0",
        "fp32",
        "tiny_rgb.ptl",
        ptl_file.stat().st_size,
    )
    assert json.loads(json.dumps(meta)) == meta  # session.json stores it as it is


def test_a_file_that_changed_after_inspection_is_refused(ptl_file, tmp_path):
    g = dataclasses.replace(inspect_model_file(ptl_file, PTL_SHAPE), sha256="0" * 64)
    with pytest.raises(ConfigError, match="changed"):
        given_model_file(g, tmp_path / "private")


def test_an_export_without_an_input_shape_in_its_meta_keeps_the_fer_input(tmp_path):
    v = Variant("shallow_cnn", "pytorch_android_lite-2.1.0", "fp32")
    assert model_input_shape(ModelFile(v, tmp_path / "m.ptl", {}, cached=True)) == INPUT_SHAPE
    assert model_input_shape(ModelFile(v, tmp_path / "m.ptl", {"input_shape": [1, 3, 8, 8]}, cached=True)) == (
        1,
        3,
        8,
        8,
    )
