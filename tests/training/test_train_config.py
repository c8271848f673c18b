"""The protocol's defaults and the checks on its settings."""

from __future__ import annotations

import pytest

from fermbench.errors import ConfigError
from fermbench.training.config import TrainConfig


def test_defaults_are_the_studys_protocol():
    c = TrainConfig("resnet9")
    assert (c.epochs, c.batch_size, c.max_lr) == (20, 256, 0.008)
    assert c.deviations() == []
    assert TrainConfig("resnet9", epochs=2).deviations() == ["epochs=2"]


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0},
        {"batch_size": 0},
        {"max_lr": 0},
        {"weight_decay": -1},
        {"crop_padding": 48},
        {"precision": "fp16"},
    ],
)
def test_bad_settings_are_config_errors(bad):
    with pytest.raises(ConfigError):
        TrainConfig("resnet9", **bad)


def test_round_trip_and_unknown_keys():
    c = TrainConfig("deep_cnn", seed=5, precision="bf16")
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match="unknown training setting\\(s\\) momentum"):
        TrainConfig.from_dict({**c.to_dict(), "momentum": 0.9})
