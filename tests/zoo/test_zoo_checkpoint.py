import pytest
import torch

from fermbench.errors import ModelError
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint


def test_round_trip_keeps_weights_classes_and_metadata(tmp_path):
    model = build_model("shallow_cnn", seed=1)
    path = save_checkpoint(tmp_path / "m.ckpt", "shallow_cnn", model, meta={"epochs": 3, "val_acc": 0.5})
    loaded, ckpt = model_from_checkpoint(path, expect_arch="shallow_cnn")
    assert ckpt.arch == "shallow_cnn" and ckpt.meta == {"epochs": 3, "val_acc": 0.5}
    assert ckpt.class_names[0] == "angry" and ckpt.class_names[6] == "neutral"
    assert len(ckpt.sha256) == 64
    x = torch.randn(2, 1, 48, 48)
    assert torch.equal(loaded(x), model.eval()(x))


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "r.ckpt", "resnet9", build_model("resnet9"))
    with pytest.raises(ModelError, match="holds a resnet9, not a deep_cnn"):
        model_from_checkpoint(path, expect_arch="deep_cnn")


def test_shape_mismatch_says_exactly_what_differs(tmp_path):
    model = build_model("shallow_cnn")
    path = save_checkpoint(tmp_path / "m.ckpt", "shallow_cnn", model)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["head.1.weight"] = torch.zeros(10, 9216)
    del payload["state_dict"]["head.5.bias"]
    torch.save(payload, path)
    with pytest.raises(ModelError) as err:
        model_from_checkpoint(path)
    msg = str(err.value)
    assert "head.1.weight is (10, 9216), model needs (1024, 9216)" in msg
    assert "missing head.5.bias" in msg


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", None])
def test_truncated_or_foreign_files_give_one_clear_error(tmp_path, content):
    path = tmp_path / "bad.ckpt"
    if content is None:  # a real checkpoint cut in half
        good = save_checkpoint(tmp_path / "good.ckpt", "resnet9", build_model("resnet9"))
        content = good.read_bytes()[: good.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(ModelError, match="truncated or not a fermbench checkpoint"):
        load_checkpoint(path)


def test_a_plain_torch_file_is_not_taken_for_a_checkpoint(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ModelError, match="not a fermbench checkpoint"):
        load_checkpoint(path)


def test_missing_file_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelError, match="not found: train one"):
        load_checkpoint(tmp_path / "none.ckpt")
