"""Settings: defaults < config file < options; unknown keys and bad values are errors."""

from __future__ import annotations

import json

import pytest

from fermbench.bench.settings import Settings, build_settings, read_config, settings_from_dict
from fermbench.errors import ConfigError


def test_precedence_defaults_config_options(tmp_path):
    cfg = tmp_path / "bench.toml"
    cfg.write_text('iterations = 7\nmin-seconds = 0.25\nmodels = ["a", "b"]\nrepeats = 2\n')
    s = build_settings(cfg, iterations=9, devices=("sim",), models=())
    assert s.iterations == 9 and s.min_seconds == 0.25 and s.models == ("a", "b")
    assert s.repeats == 2 and s.devices == ("sim",) and s.warmup == Settings().warmup


def test_json_config_and_round_trip(tmp_path):
    cfg = tmp_path / "bench.json"
    cfg.write_text(json.dumps({"fer_limit": 20, "face_policy": "skip", "seed": 3}))
    s = build_settings(cfg)
    assert settings_from_dict(s.to_dict()) == s
    assert s.to_dict()["fer_limit"] == 20


@pytest.mark.parametrize(
    "text, match",
    [
        ("iteratons = 5\n", "unknown key.*iteratons"),
        ("iterations = 0\n", "at least 1"),
        ("iterations = 2.5\n", "whole number"),
        ("min_seconds = 'x'\n", "number of seconds"),
        ("face_policy = 'median'\n", "face_policy must be one of"),
        ("models = 3\n", "list of names"),
        ("iterations = \n", "does not parse"),
    ],
)
def test_bad_config_is_refused(tmp_path, text, match):
    cfg = tmp_path / "bench.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        build_settings(cfg)


def test_option_checks(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_config(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="--install needs --apk"):
        build_settings(install=True)
    with pytest.raises(ConfigError, match="must not exceed max_seconds"):
        build_settings(min_seconds=100.0, max_seconds=10.0)
    with pytest.raises(ConfigError, match="option --threads"):
        build_settings(threads=0)
    with pytest.raises(ConfigError, match="unknown setting"):
        build_settings(bogus=1)
