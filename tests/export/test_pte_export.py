"""ExecuTorch export: each gate catches its fault, and real fp32 and int8 exports pass them.

A shallow_cnn trained for a few steps on synthetic FER-shaped data (tests/conftest.py), so that its
predictions are confident and int8 agreement means something; its exports are shared by the tests.
"""

import json
import subprocess
import sys

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from fermbench.data.synthetic import write_folder
from fermbench.errors import ConfigError, ExportError
from fermbench.export import EMBEDDED_METHOD, export_model, export_pte_module, get_runtime, read_embedded_meta
from fermbench.export.executorch_api import load_program
from fermbench.export.fer_samples import AGREEMENT_IMAGES, CALIBRATION_IMAGES, FerSamples, ImageSample, fer_samples
from fermbench.export.pte_gates import agreement_gate, format_gate, pte_format
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import model_from_checkpoint

ET = "executorch-1.4.1"
FER_COUNTS = {"Training": CALIBRATION_IMAGES + 44, "PublicTest": AGREEMENT_IMAGES}


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def fer_copy(tmp_path_factory):
    """A FER-shaped image folder: enough Training images to calibrate, 1,000 PublicTest ones."""
    root = tmp_path_factory.mktemp("fer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FERMBENCH_CACHE", str(root / "cache"))
        write_folder(root / "fer2013", FER_COUNTS)
        yield root / "fer2013"


@pytest.fixture(scope="module")
def trained(trained_shallow_cnn):
    return trained_shallow_cnn


@pytest.fixture(scope="module")
def fp32_export(trained, tmp_path_factory):
    return export_model("shallow_cnn", checkpoint=trained, out_dir=tmp_path_factory.mktemp("fp32"), runtime=ET)


@pytest.fixture(scope="module")
def int8_export(trained, fer_copy, tmp_path_factory):
    return export_model(
        "shallow_cnn",
        checkpoint=trained,
        out_dir=tmp_path_factory.mktemp("int8"),
        runtime=ET,
        quant="int8",
        fer_data=fer_copy,
    )


@pytest.mark.slow
def test_fp32_export_passes_the_gates_and_records_its_metadata(fp32_export, trained):
    r, meta = fp32_export, fp32_export.meta
    assert r.path.name == "shallow_cnn.fp32.pte" and r.json_path.name == "shallow_cnn.fp32.json"
    assert json.loads(r.json_path.read_text()) == meta
    assert (r.runtime, r.quant, meta["format"], meta["pte_format"]) == (ET, "fp32", "pte", "ET12")
    assert meta["executorch_version"] == "1.4.1" and meta["bytes"] == r.path.stat().st_size
    assert 0 < meta["program_bytes"] < meta["bytes"] / 100  # weights and XNNPACK blobs live in segments
    assert meta["max_abs_diff"] <= 1e-4 and meta["trained"] is True
    assert meta["training"]["steps"] == 12 and "no training curve" in meta["training"]["missing"]
    assert meta["params"] == sum(p.numel() for p in build_model("shallow_cnn").parameters())
    d = meta["delegation"]
    assert (
        d["portable"] == 0
        and d["share"] == 1.0
        and d["by_operator"]["aten.convolution.default"] == {"xnnpack": 3, "portable": 0}
    )
    assert d["by_operator"]["aten.linear.default"]["xnnpack"] == 3
    assert leftovers(r.path.parent) == []
    # the file carries its own description: a .pte found on a phone says what it is
    embedded = read_embedded_meta(r.path)
    assert embedded["checkpoint"]["sha256"] == meta["checkpoint"]["sha256"] and embedded["quant"] == "fp32"
    assert meta["embedded"] is True and meta["embedded_method"] == EMBEDDED_METHOD


@pytest.mark.slow
def test_int8_export_agrees_with_fp32_and_records_its_calibration(int8_export, fp32_export, fer_copy):
    meta = int8_export.meta
    assert int8_export.path.name == "shallow_cnn.int8.pte" and meta["quant"] == "int8"
    agreement = meta["agreement"]
    assert agreement["images"] == AGREEMENT_IMAGES and agreement["top1_agreement"] >= 0.98
    assert agreement["sample"]["split"] == "PublicTest" and 0 < agreement["max_abs_diff"] < float("inf")
    calibration = meta["calibration"]
    assert calibration["split"] == "Training" and calibration["count"] == CALIBRATION_IMAGES
    assert all(n.startswith("train/") for n in calibration["names"])
    assert calibration["sha256"] == fer_samples(fer_copy).calibration.sha256  # a fixed sample, drawn again alike
    assert meta["delegation"]["by_operator"]["aten.convolution.default"] == {"xnnpack": 3, "portable": 0}
    assert meta["bytes"] * 3.5 < fp32_export.meta["bytes"]
    assert read_embedded_meta(int8_export.path)["calibration"]["sha256"] == calibration["sha256"]


@pytest.mark.slow
def test_the_cli_table_shows_each_gate_figure(fp32_export, int8_export):
    from rich.console import Console

    from fermbench.export.commands import _gated_table

    console = Console(record=True, width=200)
    console.print(_gated_table([fp32_export], ET, "fp32"), _gated_table([int8_export], ET, "int8"))
    text = console.export_text()
    agreement = int8_export.meta["agreement"]["top1_agreement"]
    assert f"{agreement:.1%} of 1000" in text and "shallow_cnn.int8.pte" in text
    assert f"{fp32_export.meta['max_abs_diff']:.1e}" in text and text.count("trained") == 2
    d = fp32_export.meta["delegation"]
    assert f"{d['delegated']}/{d['delegated']} ops" in text


@pytest.mark.slow
def test_int8_calibrated_on_blank_images_is_refused_by_the_agreement_gate(trained, fer_copy, tmp_path):
    """Calibrated on black images, the activation ranges miss every real face: useless int8."""
    model, _ = model_from_checkpoint(trained)
    real = fer_samples(fer_copy)
    blank = ImageSample("Training", torch.zeros(16, 48, 48, dtype=torch.uint8), ("blank",) * 16, "zeros", None)
    with pytest.raises(ExportError, match=r"agrees with fp32 on \d+\.\d% of 1000 PublicTest images \(gate 98%\)"):
        export_pte_module(
            model, "shallow_cnn", tmp_path, {}, runtime=ET, quant="int8", samples=FerSamples(blank, real.agreement)
        )
    assert list(tmp_path.iterdir()) == []  # no partial or unchecked .pte left behind


class AdaptivePool(nn.Module):
    """The op that kept resnet9 out of ExecuTorch: not in the core ATen op set."""

    def __init__(self):
        super().__init__()
        self.conv, self.pool, self.fc = nn.Conv2d(1, 4, 3), nn.AdaptiveMaxPool2d(1), nn.Linear(4, 7)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).flatten(1))


def test_an_op_outside_core_aten_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"aten.adaptive_max_pool2d.default is not in the core ATen op set"):
        export_pte_module(AdaptivePool(), "odd", tmp_path, {}, runtime=ET)
    assert list(tmp_path.iterdir()) == []


class ComputedWeights(nn.Module):
    """A convolution whose weights come from the input: XNNPACK takes constant weights only."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4 * 46 * 46, 7)

    def forward(self, x):
        return self.fc(F.conv2d(x, x[:, :, :3, :3].expand(4, 1, 3, 3)).flatten(1))


def test_a_convolution_left_to_portable_kernels_is_refused(tmp_path):
    with pytest.raises(ExportError, match="aten.convolution.default fell back to ExecuTorch's portable kernels"):
        export_pte_module(ComputedWeights(), "odd", tmp_path, {}, runtime=ET)
    assert list(tmp_path.iterdir()) == []


class ExportedDiffers(nn.Module):
    """Computes something else once exported: what the parity gate exists to catch."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(48 * 48, 7)

    def forward(self, x):
        y = self.fc(x.flatten(1))
        if torch.compiler.is_exporting():
            y = y + 0.01
        return y


def test_parity_gate_rejects_a_program_that_differs_from_eager(tmp_path):
    with pytest.raises(ExportError, match="differs from eager PyTorch by 0.01"):
        export_pte_module(ExportedDiffers(), "odd", tmp_path, {}, runtime=ET)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_pte_of_another_executorch_version_is_refused(fp32_export, tmp_path):
    newer = tmp_path / "newer.pte"
    data = bytearray(fp32_export.path.read_bytes())
    assert bytes(data[4:8]) == b"ET12"
    data[4:8] = b"ET13"
    newer.write_bytes(bytes(data))
    assert pte_format(newer) == "ET13"
    with pytest.raises(
        ExportError, match=r"has .pte format ET13, executorch-1.4.1 reads ET12 only: .*executorch==1.4.1"
    ):
        format_gate(newer, get_runtime(ET), "shallow_cnn")
    # the gate says what the runtime would do on the phone: it does not load, and says why
    with pytest.raises(
        ExportError, match=r"does not load in ExecuTorch \(Program identifier 'ET13' != expected 'ET12'\)"
    ):
        load_program(newer, "shallow_cnn")


def test_a_file_that_is_no_pte_is_named(tmp_path):
    junk = tmp_path / "junk.pte"
    junk.write_bytes(b"PK\x03\x04 a zip, not a program")
    with pytest.raises(ExportError, match="junk.pte is not an ExecuTorch program"):
        format_gate(junk, get_runtime(ET), "junk")


def test_int8_without_images_names_the_option(tmp_path):
    with pytest.raises(ConfigError, match="pass --fer-data PATH"):
        export_model("shallow_cnn", out_dir=tmp_path, runtime=ET, quant="int8")
    with pytest.raises(ConfigError, match="--fer-data .*nowhere does not exist"):
        export_model("shallow_cnn", out_dir=tmp_path, runtime=ET, quant="int8", fer_data=tmp_path / "nowhere")
    assert list(tmp_path.iterdir()) == []


def test_too_few_agreement_images_are_refused():
    test = ImageSample("PublicTest", torch.zeros(999, 48, 48, dtype=torch.uint8), ("x",) * 999, "zeros", None)
    with pytest.raises(ExportError, match="needs at least 1000 images, got 999"):
        agreement_gate(nn.Identity(), None, test, "m")


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "fermbench.cli", "export", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (("--runtime", "executorch-9.9"), "Error: unknown runtime 'executorch-9.9': choose one of executorch-1.4.1, "),
        (
            ("--quant", "int8"),
            "Error: pytorch_android_lite-2.1.0 runs fp32 only, not int8: choose --runtime executorch-1.4.1 for int8",
        ),
        (
            ("shallow_cnn", "--runtime", ET, "--quant", "int8"),
            "Error: int8 export needs FER-2013 images to calibrate and to check agreement: pass --fer-data PATH",
        ),
        (
            ("--runtime", ET, "--bytecode", "7"),
            "Error: --bytecode applies to the Lite runtimes only: drop it for executorch-1.4.1",
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    proc = _cli(*args, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(message) and proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
