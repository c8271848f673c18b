"""One validation of every numeric setting, read from the settings table (issue 22, item 11):
finite, within the row's range, named with its unit, and the same answer from the command line,
a config file and a resumed session's stored settings. Property-based: a new row is covered by
adding it to the table."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cli_checks import one_line_error
from fermbench.bench.settings import SETTINGS, _kind, build_settings, settings_from_dict
from fermbench.cli import main
from fermbench.errors import ConfigError
from fermbench.latency_settings import LATENCY_SETTINGS, MAX_THREADS
from fermbench.runner import protocol as p

NUMERIC = sorted(name for name in SETTINGS if _kind(name) in (int, float))
CROSS = "must not exceed max_seconds"  # a check between two settings, not of the value itself


def test_every_numeric_setting_has_a_range():
    for name in NUMERIC:
        meta = SETTINGS[name].metadata
        assert meta["minimum"] is not None and meta["maximum"] is not None, f"{name} has no range in the table"


def _three_ways(name: str, value, tmp_path) -> list[str | None]:
    """The error (or None) for `value` given as an option, in a JSON config file and as a stored setting."""
    out: list[str | None] = []
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({name: value}))  # NaN and Infinity too (Python's json reads them back)
    for attempt in (
        lambda: build_settings(**{name: value}),
        lambda: build_settings(cfg),
        lambda: settings_from_dict({name: value}),
    ):
        try:
            attempt()
            out.append(None)
        except ConfigError as exc:
            out.append(str(exc))
    return out


@st.composite
def out_of_range(draw):
    name = draw(st.sampled_from(NUMERIC))
    meta, kind = SETTINGS[name].metadata, _kind(name)
    lo, hi = meta["minimum"], meta["maximum"]
    if kind is int:
        value = draw(st.one_of(st.integers(max_value=math.ceil(lo) - 1), st.integers(min_value=math.floor(hi) + 1)))
    else:
        value = draw(
            st.one_of(
                st.floats(max_value=lo, exclude_max=True, allow_nan=False),
                st.floats(min_value=hi, exclude_min=True, allow_nan=False),
                st.sampled_from([math.nan, math.inf, -math.inf]),
            )
        )
    return name, value


@st.composite
def in_range(draw):
    name = draw(st.sampled_from(NUMERIC))
    meta, kind = SETTINGS[name].metadata, _kind(name)
    lo, hi = meta["minimum"], meta["maximum"]
    value = draw(st.integers(math.ceil(lo), math.floor(hi)) if kind is int else st.floats(lo, hi))
    return name, value


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out_of_range())
def test_out_of_range_or_not_finite_is_refused_alike_everywhere(tmp_path, case):
    name, value = case
    errors = _three_ways(name, value, tmp_path)
    assert all(e is not None and f"{name} must be" in e for e in errors), errors


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(in_range())
def test_in_range_is_accepted_alike_everywhere(tmp_path, case):
    name, value = case
    errors = _three_ways(name, value, tmp_path)
    assert all(e is None or CROSS in e for e in errors), errors
    assert len({e is None for e in errors}) == 1, errors  # the same answer from every source


@hsettings(max_examples=150, deadline=None)
@given(
    st.sampled_from(LATENCY_SETTINGS).flatmap(
        lambda row: st.tuples(
            st.just(row.name),
            st.integers(int(row.minimum), int(row.maximum)) if row.kind is int else st.floats(row.minimum, row.maximum),
        )
    )
)
def test_a_latency_setting_accepted_here_is_accepted_by_the_runner(case):
    """One range per setting: what the options accept, the runner accepts (the runner's limits were
    once stricter: --threads 100 passed the options and failed every latency phase)."""
    name, value = case
    if name not in SETTINGS:  # a runner-only row: sent by callers of latency_args directly
        extras = p.latency_args("/m.ptl", **{name: value, **({"iterations": 1} if name == "max_iterations" else {})})
        assert getattr(p.parse_extras(extras), name) == value
        return
    try:
        settings = build_settings(**{name: value})
    except ConfigError as exc:
        assert CROSS in str(exc)
        return
    assert getattr(p.parse_extras(p.latency_args("/m.ptl", **settings.protocol_args())), name) == value


@pytest.mark.parametrize(
    "args, words",
    [
        (["--max-seconds", "nan"], ["max_seconds must be a finite number of seconds"]),
        (["--timeout-seconds", "inf"], ["timeout_seconds must be a finite number of seconds"]),
        (["--cooldown-seconds", "inf"], ["cooldown_seconds"]),
        (["--threads", "100000"], [f"threads must be at most {MAX_THREADS} threads"]),
        (["--fer-data", ""], ["fer_data is empty"]),
        (["--photos", ""], ["photos is empty"]),
        (["--out", ""], ["--out is empty"]),
        (["--apk", "missing.apk"], ["--apk missing.apk: no such file"]),
    ],
)
def test_bad_run_options_are_one_line(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(CliRunner().invoke(main, ["run", "--device", "host", "--quiet", *args]), *words)


def test_an_apk_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "r.apk").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="is not an APK"):
        build_settings(apk=str(tmp_path / "r.apk"))


@pytest.mark.parametrize(
    "args, words",
    [
        (["--sdk", "-5"], ["--sdk -5"]),
        (["--abi", ""], ["--abi is empty"]),
        (["--reboot-delay", "nan"], ["--reboot-delay"]),
    ],
)
def test_bad_sim_options_are_one_line(args, words):
    one_line_error(CliRunner().invoke(main, ["sim", "--port", "0", *args]), *words)
