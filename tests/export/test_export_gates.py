import json
import subprocess
import sys
import zipfile

import pytest
import torch
from torch import nn

from fermbench.errors import ExportError, ModelError
from fermbench.export import EMBEDDED_NAME, export_model, export_module
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import save_checkpoint


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_export_from_checkpoint_passes_gates_and_records_metadata(tmp_path):
    ckpt = save_checkpoint(
        tmp_path / "s.ckpt", "shallow_cnn", build_model("shallow_cnn", seed=3), meta={"val_acc": 0.61}
    )
    out = tmp_path / "out"
    result = export_model("shallow_cnn", checkpoint=ckpt, out_dir=out)
    meta = json.loads(result.json_path.read_text())
    assert result.path == out / "shallow_cnn.ptl" and result.path.stat().st_size == meta["bytes"]
    assert meta["trained"] is True and meta["checkpoint"]["sha256"] and meta["training"]["val_acc"] == 0.61
    assert meta["bytecode_version"] == 8 and meta["max_abs_diff"] <= 1e-4
    assert "aten::conv2d" in meta["operators"] and "aten::linear" in meta["operators"]
    assert meta["params"] == sum(p.numel() for p in build_model("shallow_cnn").parameters())
    # the same facts travel inside the file, so a .ptl found on a phone can be identified
    with zipfile.ZipFile(result.path) as zf:
        embedded = json.loads(zf.read(f"shallow_cnn/extra/{EMBEDDED_NAME}"))
    assert embedded["checkpoint"]["sha256"] == meta["checkpoint"]["sha256"]
    assert embedded["operators"] == meta["operators"]
    assert leftovers(out) == []


def test_untrained_export_is_loudly_marked(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_MODELS", str(tmp_path))  # an empty models folder: no checkpoint
    result = export_model("resnet9", out_dir=tmp_path)
    assert result.meta["trained"] is False and "meaningless" in result.meta["warning"]
    assert any("UNTRAINED" in n for n in result.notes)


class ScriptedDiffers(nn.Module):
    """Computes something else once scripted: what the parity gate exists to catch."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(48 * 48, 7)

    def forward(self, x):
        y = self.fc(x.flatten(1))
        if torch.jit.is_scripting():
            y = y + 0.01
        return y


def test_parity_gate_rejects_a_lite_model_that_differs_from_eager(tmp_path):
    with pytest.raises(ExportError, match="differs from eager PyTorch by 0.01"):
        export_module(ScriptedDiffers(), "odd", tmp_path, identity={})
    assert list(tmp_path.iterdir()) == []  # no partial or unchecked .ptl left behind


def test_bytecode_gate_rejects_v8_for_a_1_10_runtime_and_backport_fixes_it(tmp_path):
    with pytest.raises(
        ExportError, match=r"bytecode version 8 is outside .*1\.10\.0 reads \(4-7\): export with --bytecode 7"
    ):
        export_model("shallow_cnn", out_dir=tmp_path, runtime="pytorch_android_lite-1.10.0")
    assert not (tmp_path / "shallow_cnn.ptl").exists()
    result = export_model("shallow_cnn", out_dir=tmp_path, runtime="pytorch_android_lite-1.10.0", bytecode=7)
    assert result.meta["bytecode_version"] == 7 and result.meta["bytecode_native"] == 8
    assert result.meta["max_abs_diff"] <= 1e-4  # the gates re-ran on the backported file
    with zipfile.ZipFile(result.path) as zf:
        assert f"shallow_cnn/extra/{EMBEDDED_NAME}" in zf.namelist()


@pytest.mark.parametrize("bytecode", [3, 10])
def test_unsupported_bytecode_targets_are_refused(tmp_path, bytecode):
    with pytest.raises(ExportError, match=f"bytecode target {bytecode} is not supported"):
        export_model("shallow_cnn", out_dir=tmp_path, bytecode=bytecode)


def test_corrupt_checkpoint_stops_the_export(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="truncated or not a fermbench checkpoint"):
        export_model("resnet9", checkpoint=bad, out_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "resnet9.ptl").exists()


def test_unwritable_output_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write to output folder .*file/sub"):
        export_model("resnet9", out_dir=blocker / "sub")


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "fermbench.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_cli_exports_are_byte_identical_across_runs(tmp_path):
    ckpt = save_checkpoint(tmp_path / "r.ckpt", "resnet9", build_model("resnet9", seed=5))
    digests = []
    for _ in range(2):
        proc = _cli(
            "export", "resnet9", "--checkpoint", str(ckpt), "--out", str(tmp_path / "out"), "--json", cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stderr
        digests.append(json.loads(proc.stdout)[0]["sha256"])
    assert digests[0] == digests[1]


def test_cli_bad_input_is_one_line_and_exit_1(tmp_path):
    proc = _cli("export", "resnet18", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("Error: unknown model 'resnet18'")
    assert "Traceback" not in proc.stderr
