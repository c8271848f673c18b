"""The settings are defined once (bench/settings.py's Settings fields); everything else that
names a setting or a default is derived from that table or checked against it here: the
`fermbench run` options, the config-file keys, the runner's protocol arguments and defaults,
and the Java runner's defaults."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from fermbench.bench.commands import run_cmd
from fermbench.bench.settings import KEYS, SETTINGS, Settings, build_settings, option_help, read_config
from fermbench.runner import protocol as p

ROOT = Path(__file__).resolve().parents[2]
JAVA_SETTINGS = ROOT / "android-runner" / "app" / "src" / "main" / "java" / "org" / "fermbench" / "runner" / "RunSettings.java"


def _run_options() -> dict[str, object]:
    return {param.name: param for param in run_cmd.params}


def test_every_setting_is_a_run_option_with_its_default_in_the_help():
    options = _run_options()
    for name, f in SETTINGS.items():
        param = options["devices" if name == "devices" else name]
        assert param.help == option_help(name)
        if f.default not in (None, False, ()):
            shown = (f"{f.default:g}" if isinstance(f.default, float) else
                     ",".join(f.default) if isinstance(f.default, tuple) else str(f.default))
            assert f"(default {shown})" in param.help, name
    assert set(options) - set(SETTINGS) == {"config", "resume", "remeasure_changed", "out", "quiet"}, "an option outside the table"


def test_every_setting_is_a_config_key(tmp_path):
    assert set(KEYS) == {f.name for f in dataclasses.fields(Settings)}
    cfg = tmp_path / "all.json"
    values = {"devices": ["host"], "models": ["shallow_cnn"], "install": False, "face_policy": "skip",
              "fer_split": "PublicTest"}
    cfg.write_text(__import__("json").dumps({**{k: SETTINGS[k].default for k in KEYS if SETTINGS[k].default
                                                not in (None, ())}, **values}))
    assert set(read_config(cfg)) >= set(values)


def test_latency_defaults_are_the_runners_defaults():
    defaults = Settings()
    for name, f in SETTINGS.items():
        arg = f.metadata["protocol"]
        if arg is None:
            continue
        assert arg in p.DEFAULTS["latency"], f"{name} maps to unknown protocol argument {arg}"
        assert float(p.DEFAULTS["latency"][arg]) == float(getattr(defaults, name)), name
    # the extras the harness sends decode (runner side) to exactly the table's values
    parsed = p.parse_extras(p.latency_args("/data/local/tmp/m.ptl", **build_settings().protocol_args()))
    assert (parsed.warmup_runs, parsed.warmup_min_s, parsed.runs, parsed.min_s, parsed.max_s, parsed.threads) == (
        defaults.warmup, defaults.warmup_seconds, defaults.iterations, defaults.min_seconds, defaults.max_seconds,
        defaults.threads)
    # the runner's own dataclass defaults are the same table's
    run = p.RunSettings(mode="latency")
    for arg, text in p.DEFAULTS["latency"].items():
        value = getattr(run, arg)
        assert (",".join(map(str, value)) if isinstance(value, tuple) else float(value)) == \
            (text if arg == "input_shape" else float(text)), arg


@pytest.mark.skipif(not JAVA_SETTINGS.is_file(), reason="android-runner sources are not in this checkout")
def test_java_runner_defaults_match_the_protocol_table():
    text = JAVA_SETTINGS.read_text(encoding="utf-8")
    java_latency = dict(re.findall(r'latency\.put\("(\w+)", "([^"]+)"\)', text))
    assert java_latency == p.DEFAULTS["latency"]
    classify = re.search(r'DEFAULTS\.put\("classify", Collections\.singletonMap\("(\w+)", "([^"]+)"\)\)', text)
    assert classify and {classify.group(1): classify.group(2)} == p.DEFAULTS["classify"]
    inline = re.search(r"DEFAULT_INLINE_MAX_BYTES = (\d+);", text)
    assert inline and int(inline.group(1)) == p.DEFAULT_INLINE_MAX_BYTES
