"""A ready model file: its runtime read from its content, its input from the file (.pte, .tflite)
or --input-shape (.ptl), and one-line errors for everything else."""

from __future__ import annotations

import hashlib
import shutil
import zipfile

import pytest
import torch

from fermbench.errors import ConfigError
from fermbench.modelfiles import inspect_model_file, inspect_model_files, parse_input_shape
from given_models import SHAPE, TinyRgb, TokenIds, TwoInputs, TwoOutputs, save_pte, save_ptl


@pytest.fixture
def files(ptl_file, pte_file):
    return {"ptl": ptl_file, "pte": pte_file}


def one_line_error(path, shape=None) -> str:
    with pytest.raises(ConfigError) as caught:
        inspect_model_file(path, shape)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_pte_says_its_runtime_shape_and_outputs(files):
    given = inspect_model_file(files["pte"])
    assert (given.runtime, given.runtime_target, given.file_format) == ("executorch", "executorch-1.4.1", "pte")
    assert (given.input_shape, given.input_dtype, given.shape_source) == (SHAPE, "float32", "file")
    assert given.outputs == ((1, 5),) and given.quant == "fp32" and given.format_meta == {"pte_format": "ET12"}
    assert given.sha256 == hashlib.sha256(files["pte"].read_bytes()).hexdigest()
    assert given.size == files["pte"].stat().st_size
    assert inspect_model_file(files["pte"], SHAPE).shape_source == "file"  # the same shape given: fine


def test_tflite_files_say_their_shape_and_int8_input(tflite_file, int8_tflite_file):
    fp32 = inspect_model_file(tflite_file)
    assert (fp32.runtime, fp32.runtime_target, fp32.file_format) == ("litert", "litert-2.3.0", "tflite")
    assert (fp32.input_shape, fp32.input_dtype, fp32.quant, fp32.outputs) == (SHAPE, "float32", "fp32", ((1, 5),))
    int8 = inspect_model_file(int8_tflite_file)
    assert (int8.input_shape, int8.input_dtype, int8.quant, int8.shape_source) == (SHAPE, "int8", "int8", "file")


def test_a_ptl_takes_its_shape_from_the_option(files):
    given = inspect_model_file(files["ptl"], (1, 3, 64, 64))
    assert (given.runtime, given.runtime_target) == ("pytorch_lite", "pytorch_android_lite-2.1.0")
    assert (given.input_shape, given.shape_source, given.outputs) == ((1, 3, 64, 64), "--input-shape", None)
    assert given.format_meta == {"bytecode_version": torch.jit.mobile._get_model_bytecode_version(str(files["ptl"]))}
    assert given.name == "tiny_rgb"  # the stem made safe for file names and run ids


def test_a_ptl_without_an_input_shape_is_one_line(files):
    message = one_line_error(files["ptl"])
    assert "a .ptl does not record its input shape: pass --input-shape 1x3x224x224" in message


def test_a_shape_that_disagrees_with_the_file_names_both(files):
    message = one_line_error(files["pte"], (1, 3, 64, 64))
    assert "1x3x32x32" in message and "1x3x64x64" in message


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04broken zip"])
@pytest.mark.parametrize("suffix", [".ptl", ".pte", ".tflite", ".bin"])
def test_a_file_of_no_known_format_names_the_three(tmp_path, content, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(content)
    message = one_line_error(path, SHAPE)
    assert all(f".{fmt}" in message for fmt in ("ptl", "pte", "tflite"))


@pytest.mark.parametrize("source,renamed", [("pte", "tiny.tflite"), ("pte", "tiny.ptl"), ("ptl", "tiny.pte")])
def test_content_that_contradicts_the_suffix_is_refused(files, tmp_path, source, renamed):
    path = tmp_path / renamed
    shutil.copyfile(files[source], path)
    message = one_line_error(path, SHAPE)
    assert f"rename it to tiny.{source}" in message and ".tflite" in message


def test_a_known_format_under_another_suffix_is_refused(files, tmp_path):
    path = tmp_path / "tiny.pt"
    shutil.copyfile(files["ptl"], path)
    assert "rename it to tiny.ptl" in one_line_error(path, SHAPE)


def test_a_torchscript_archive_without_lite_bytecode_says_how_to_save_it(tmp_path):
    path = tmp_path / "full.ptl"
    torch.jit.save(torch.jit.script(TinyRgb().eval()), str(path))
    assert zipfile.is_zipfile(path)
    assert "_save_for_lite_interpreter" in one_line_error(path, SHAPE)


def test_a_model_with_two_inputs_is_refused(tmp_path):
    path = save_ptl(TwoInputs(), tmp_path / "two.ptl")
    assert "takes 2 inputs" in one_line_error(path, SHAPE)


def test_an_integer_input_is_refused(tmp_path):
    pytest.importorskip("executorch", reason="the ExecuTorch Python package is not installed")
    path = save_pte(TokenIds(), tmp_path / "tokens.pte", (1, 8), torch.int64)
    assert "input is int64; the runners feed float32" in one_line_error(path)


def test_a_model_with_two_outputs_is_refused(tmp_path):
    pytest.importorskip("executorch", reason="the ExecuTorch Python package is not installed")
    path = save_pte(TwoOutputs(), tmp_path / "two_out.pte")
    assert "returns 2 outputs" in one_line_error(path)


def test_two_files_of_one_name_are_refused(ptl_file, tmp_path):
    other = tmp_path / "tiny_rgb.ptl"  # "tiny rgb" made safe is tiny_rgb too
    shutil.copyfile(ptl_file, other)
    assert [g.name for g in inspect_model_files([ptl_file], SHAPE)] == ["tiny_rgb"]
    for paths, said in (([ptl_file, other], "are both named tiny_rgb"), ([other, other], "is given twice")):
        with pytest.raises(ConfigError, match=said) as caught:
            inspect_model_files(paths, SHAPE)
        assert "\n" not in str(caught.value)


def test_a_missing_file_is_one_line(tmp_path):
    assert "no such file" in one_line_error(tmp_path / "absent.pte")


@pytest.mark.parametrize(
    "text,shape",
    [
        ("1x3x224x224", (1, 3, 224, 224)),
        ("1,3,224,224", (1, 3, 224, 224)),
        (" 1X1X48X48 ", (1, 1, 48, 48)),
        ("8", (8,)),
    ],
)
def test_input_shapes_parse_with_x_or_commas(text, shape):
    assert parse_input_shape(text) == shape


@pytest.mark.parametrize(
    "text,why",
    [
        ("", "joined by x"),
        ("1x3x", "joined by x"),
        ("1x3,224x224", "joined by x"),
        ("1x-3x2x2", "joined by x"),
        ("1x0x2x2", "positive"),
        ("1x1x1x1x1x1x1", "1 to 6"),
        ("1x3x8192x8192", "2^26"),
    ],
)
def test_bad_input_shapes_say_why(text, why):
    with pytest.raises(ConfigError) as caught:
        parse_input_shape(text)
    message = str(caught.value)
    assert why in message and message.startswith("--input-shape") and "\n" not in message
