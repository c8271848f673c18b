"""The runtime registry (runtimes/): every runtime complete and its names unique, each reference to
an exporter or engine resolving, the export ids and the registry agreeing, and an unknown runtime
name refused in every command that takes one, in one line with exit 1."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench import runtimes
from fermbench.apk.archive import apk_runtime
from fermbench.apk.flavors import FLAVORS
from fermbench.cli import main
from fermbench.errors import ConfigError
from fermbench.export import runtimes as export_runtimes
from fermbench.runner.engines import Engine, make_engine
from fermbench.runner.protocol import MODEL_FORMATS, RUNNER_PACKAGES
from fermbench.sim.standin import write_standin_apks

SPECS = list(runtimes.RUNTIMES.values())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_runtime_is_complete(spec):
    for field in dataclasses.fields(spec):
        value = getattr(spec, field.name)
        if field.name not in ("modules", "install_hint", "tool_versions"):
            assert value not in ("", (), None), f"{spec.name}.{field.name} is empty"
    assert not spec.modules or spec.install_hint, f"{spec.name} needs modules but says not how to install them"
    assert set(spec.quants) <= set(export_runtimes.QUANTS) and "fp32" in spec.quants
    assert spec.device.library_align in (4096, 16384) and spec.device.min_sdk >= 21
    model_file, meta_file = spec.files("m", "int8")
    assert model_file.endswith(f".{spec.file_format}") and meta_file.endswith(".json") and model_file != meta_file


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_reference_resolves_where_its_modules_are_installed(spec):
    if runtimes.missing_modules(spec):
        pytest.skip(f"{spec.name}: {spec.install_hint}")
    exporter = runtimes.resolve(spec.exporter)
    assert list(inspect.signature(exporter).parameters)[:4] == ["module", "name", "out_dir", "identity"]
    assert {"runtime", "quant", "samples", "bytecode", "spec"} <= set(inspect.signature(exporter).parameters)
    engine = runtimes.resolve(spec.engine)
    assert issubclass(engine, Engine) and engine.name == spec.name and engine.model_format == spec.file_format
    assert isinstance(make_engine(spec.name), engine)
    if spec.tool_versions:
        assert all(isinstance(v, str) for v in runtimes.resolve(spec.tool_versions)().values())


def test_names_are_unique_and_every_export_id_belongs_to_one_runtime():
    for attr in ("name", "file_format", "flavor", "package", "marker", "exporter", "engine"):
        values = [getattr(s, attr) for s in SPECS]
        assert len(set(values)) == len(values), attr
    versions = [v for s in SPECS for v in s.versions]
    assert sorted(versions) == sorted(export_runtimes.RUNTIMES)
    for version, target in export_runtimes.RUNTIMES.items():
        spec = runtimes.by_version(version)
        assert (target.format, target.quants) == (spec.file_format, spec.quants), version
    assert RUNNER_PACKAGES == {s.name: s.package for s in SPECS}
    assert MODEL_FORMATS == {s.name: s.file_format for s in SPECS}
    assert [f.spec for f in FLAVORS] == SPECS
    assert runtimes.BASELINE.default_version == export_runtimes.DEFAULT_RUNTIME


def test_an_apk_says_its_runtime_by_its_marker_library(tmp_path):
    apks = write_standin_apks(tmp_path)
    assert [apk_runtime(a) for a in apks] == [s.name for s in SPECS]


def test_unknown_names_are_config_errors_naming_the_known_ones():
    for lookup, name in ((runtimes.get, "tflite"), (runtimes.by_version, "litert-9"), (make_engine, "tflite")):
        with pytest.raises(ConfigError) as err:
            lookup(name)
        assert "\n" not in str(err.value) and "litert" in str(err.value) and "executorch" in str(err.value)
    with pytest.raises(ConfigError):
        runtimes.resolve("os:path")  # only fermbench's own modules


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--device", "host", "--models", "shallow_cnn", "--runtimes", "tflite-9"],
        ["run", "--device", "host", "--models", "shallow_cnn", "--runtimes", "litert"],
        ["export", "shallow_cnn", "--runtime", "tflite-9"],
        ["verify", "--results", "{tmp}", "--runtimes", "tflite-9"],
    ],
    ids=["run", "run-runner-name", "export", "verify"],
)
def test_every_command_refuses_an_unknown_runtime_in_one_line(args, tmp_path):
    result = CliRunner().invoke(main, [a.format(tmp=tmp_path) for a in args])
    one_line_error(result, "unknown runtime", "litert-2.3.0", "executorch-1.4.1", "pytorch_android_lite-2.1.0")


def test_runner_build_refuses_an_unknown_flavor_in_one_line():
    one_line_error(CliRunner().invoke(main, ["runner", "build", "--flavor", "tflite"]), "'tflite'", "'litert'")


def test_without_the_litert_extra_run_says_how_to_install_it_and_doctor_warns(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in runtimes.LITERT.modules else real(name, *a)
    )
    result = CliRunner().invoke(
        main, ["run", "--device", "host", "--models", "shallow_cnn", "--runtimes", "litert-2.3.0"]
    )
    one_line_error(result, "--runtimes litert-2.3.0 needs", "pip install '.[litert]'")

    from fermbench.bench.preflight import Preflight, check_runtime_packages

    pf = Preflight("this computer")
    check_runtime_packages(pf)
    assert [(c.name, c.level) for c in pf.checks] == [("litert runtime", "warn")]
    assert "pip install '.[litert]'" in pf.checks[0].fix
