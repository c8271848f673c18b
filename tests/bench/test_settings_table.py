"""The settings are defined once (bench/settings.py's Settings fields, whose latency fields are the
rows of fermbench.latency_settings); everything else that names a setting or a default is derived
from those tables or checked against them here: the `fermbench run` options, the config-file keys,
the runner's protocol arguments and defaults, the stored LatencySettings. The Java runner's table
is generated (tests/runner/test_generated_java.py)."""

from __future__ import annotations

import dataclasses

import pytest

from fermbench.bench.commands import run_cmd
from fermbench.bench.settings import KEYS, SETTINGS, Settings, build_settings, option_help, read_config
from fermbench.errors import ConfigError
from fermbench.latency_settings import LATENCY, LATENCY_SETTINGS, USER_LATENCY
from fermbench.runner import protocol as p
from fermbench.store import LatencySettings


def _run_options() -> dict[str, object]:
    return {param.name: param for param in run_cmd.params}


def test_every_setting_is_a_run_option_with_its_default_in_the_help():
    options = _run_options()
    for name, f in SETTINGS.items():
        param = options["devices" if name == "devices" else name]
        assert param.help == option_help(name)
        if f.default not in (None, False, ()):
            shown = (
                f"{f.default:g}"
                if isinstance(f.default, float)
                else ",".join(f.default)
                if isinstance(f.default, tuple)
                else str(f.default)
            )
            assert f"(default {shown})" in param.help, name
    # --model is --models one at a time (a factory reference reads better alone)
    assert set(options) - set(SETTINGS) == {"config", "resume", "remeasure_changed", "out", "quiet", "model"}, (
        "an option outside the table"
    )


def test_every_setting_is_a_config_key(tmp_path):
    assert set(KEYS) == {f.name for f in dataclasses.fields(Settings)}
    cfg = tmp_path / "all.json"
    values = {
        "devices": ["host"],
        "models": ["shallow_cnn"],
        "install": False,
        "face_policy": "skip",
        "fer_split": "PublicTest",
    }
    cfg.write_text(
        __import__("json").dumps(
            {**{k: SETTINGS[k].default for k in KEYS if SETTINGS[k].default not in (None, ())}, **values}
        )
    )
    assert set(read_config(cfg)) >= set(values)


def test_latency_settings_are_the_latency_tables_rows():
    """bench Settings, the stored LatencySettings and the runners' RunSettings carry each row under
    its own name, with the row's default, range, unit and help."""
    latency = [f.name for f in dataclasses.fields(Settings) if f.metadata["latency"]]
    assert latency == list(USER_LATENCY)
    for name in latency:
        row, f = LATENCY[name], SETTINGS[name]
        assert (f.default, f.metadata["minimum"], f.metadata["maximum"], f.metadata["unit"], f.metadata["help"]) == (
            row.default,
            row.minimum,
            row.maximum,
            row.unit,
            row.help,
        ), name
        assert type(f.default) is row.kind, name
    assert {f.name for f in dataclasses.fields(LatencySettings)} == set(USER_LATENCY)
    run_fields = {f.name: f.default for f in dataclasses.fields(p.RunSettings)}
    assert {row.name: run_fields[row.name] for row in LATENCY_SETTINGS} == {
        row.name: row.default for row in LATENCY_SETTINGS
    }


NOT_DEFAULT = {
    "warmup": 3,
    "warmup_seconds": 0.25,
    "iterations": 7,
    "min_seconds": 2.5,
    "max_seconds": 30.0,
    "target_precision": 0.02,
    "threads": 2,
}


def test_one_name_from_option_and_config_key_to_the_wire(tmp_path):
    """`--min-seconds 2` and `min_seconds = 2` reach the runner as `-e min_seconds 2.0`."""
    options = _run_options()
    cfg = tmp_path / "bench.toml"
    for row in LATENCY_SETTINGS:
        if not row.user:
            assert row.flag is None and row.config_key is None and row.name not in SETTINGS
            continue
        assert row.flag in options[row.name].opts and row.config_key == row.name == row.wire_key
        value = NOT_DEFAULT[row.name]
        assert value != row.default and row.minimum <= value <= row.maximum and type(value) is row.kind
        cfg.write_text(f"{row.config_key} = {value!r}\n")
        from_config = build_settings(cfg)
        extras = p.latency_args("/data/local/tmp/m.ptl", **from_config.protocol_args())
        assert extras[row.wire_key] == row.wire(value), row.name
        assert getattr(p.parse_extras(extras), row.name) == value, row.name


def test_latency_defaults_reach_the_runner_unchanged():
    defaults = Settings()
    extras = p.latency_args("/data/local/tmp/m.ptl", **defaults.protocol_args())
    parsed, bare = p.parse_extras(extras), p.parse_extras({"mode": "latency", "model": "/m.ptl"})
    for row in LATENCY_SETTINGS:
        assert getattr(parsed, row.name) == getattr(bare, row.name) == row.default, row.name
        if row.user:
            assert getattr(defaults, row.name) == row.default
    stored = LatencySettings.of(defaults)
    assert dataclasses.asdict(stored) == {**{n: getattr(defaults, n) for n in USER_LATENCY}, "target_precision": None}
    assert LatencySettings.of(build_settings(target_precision=0.01, iterations=7)).iterations == 7


def test_target_precision_is_sent_and_checked_against_its_range():
    args = build_settings(target_precision=0.01).protocol_args()
    assert p.parse_extras(p.latency_args("/data/local/tmp/m.ptl", **args)).target_precision == 0.01
    with pytest.raises(ConfigError, match="target_precision must be at most 0.5"):
        build_settings(target_precision=1.0)
    with pytest.raises(ConfigError, match="target_precision must be at least 0 "):
        build_settings(target_precision=-0.1)
