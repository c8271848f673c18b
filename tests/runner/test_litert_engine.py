"""The LiteRT host engine: eager's outputs within the parity limit, the interpreter built with the
threads asked for, load and inference failures as the protocol's coded RunnerErrors."""

from __future__ import annotations

import pytest
import torch

from fermbench.errors import RunnerError
from fermbench.export.common import parity_limit
from fermbench.export.gates import PARITY_TOLERANCE
from litert_tiny import TiedLogits, TinyCnn, convert_to, random_sample, require_litert

require_litert()

import ai_edge_litert.interpreter  # noqa: E402 - after the skip

from fermbench.export.litert.exporter import convert  # noqa: E402
from fermbench.export.litert.quantize import litert_quantizer, quantize_int8  # noqa: E402
from fermbench.runner.litert_engine import LitertEngine  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return TinyCnn().eval(), convert_to(TinyCnn(), tmp_path_factory.mktemp("tiny") / "tiny.tflite")


def loaded(path, threads=None):
    engine = LitertEngine()
    engine.load_runtime()
    if threads is None:
        engine.load(path, f"/data/local/tmp/{path.name}")
        return engine
    with engine.threads(threads) as used:
        assert used == threads
        engine.load(path, f"/data/local/tmp/{path.name}")
    return engine


def test_outputs_equal_eager_within_the_parity_limit(tiny):
    model, path = tiny
    engine = loaded(path, threads=2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.randn(1, 1, 48, 48, generator=gen)
        with torch.no_grad():
            want = model(x)
        got = engine.output(engine.forward(x))
        assert isinstance(got, torch.Tensor) and got.shape == (1, 7)
        assert (got - want).abs().max().item() <= parity_limit(PARITY_TOLERANCE, want)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_interpreter_is_built_with_the_threads_asked_for(tiny, monkeypatch, threads):
    asked = []
    real = ai_edge_litert.interpreter.Interpreter

    def recording(*args, **kwargs):
        asked.append(kwargs["num_threads"])
        return real(*args, **kwargs)

    monkeypatch.setattr(ai_edge_litert.interpreter, "Interpreter", recording)
    engine = loaded(tiny[1], threads=threads)
    assert asked == [threads] and engine.num_threads is None  # restored after the run's context


def test_int8_takes_and_returns_float(tmp_path):
    model, sample = TiedLogits().eval(), random_sample("Training", 64)
    quantizer = litert_quantizer()
    path = tmp_path / "tied.int8.tflite"
    path.write_bytes(convert(quantize_int8(model, sample.inputs(), quantizer, "tied"), "tied", quantizer))
    engine = loaded(path, threads=1)
    x = sample.inputs()[:1]
    got = engine.output(engine.forward(x))
    assert got.dtype == torch.float32 and engine.input.dtype == "int8"
    with torch.no_grad():
        want = model(x)
    assert (got - want).abs().max().item() <= 4 * engine.out.scale  # a few int8 steps of the output


def test_load_failures_are_model_load_failed(tiny, tmp_path):
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(tiny[1].read_bytes()[:4096])
    with pytest.raises(RunnerError, match=r"cannot load /data/local/tmp/cut\.tflite") as err:
        loaded(cut)
    assert err.value.code == "model_load_failed"


def test_a_wrong_input_shape_is_inference_failed(tiny):
    engine = loaded(tiny[1])
    with pytest.raises(RunnerError, match=r"failed on input \[1, 1, 32, 32\]") as err:
        engine.forward(torch.zeros(1, 1, 32, 32))
    assert err.value.code == "inference_failed"


def test_engine_says_what_it_runs(tiny):
    engine = LitertEngine()
    assert (engine.name, engine.model_format, engine.version()) == ("litert", "tflite", "2.3.0")
    assert engine.format_fields() == {"bytecode_min": None, "bytecode_max": None, "pte_identifiers": []}
