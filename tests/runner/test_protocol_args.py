"""Argument builders, the validation both runners share, the images file, the am command line."""

from __future__ import annotations

import numpy as np
import pytest

from fermbench.errors import ConfigError, RunnerError
from fermbench.runner import protocol as p


def test_builders_return_string_extras_the_runner_accepts():
    extras = p.latency_args("/data/local/tmp/fermbench/a.ptl", threads=4, iterations=100, min_seconds=2, max_seconds=30)
    assert all(isinstance(v, str) for v in extras.values())
    assert extras["protocol"] == str(p.PROTOCOL_VERSION) and "input_shape" not in extras  # the runner's default
    s = p.parse_extras(extras)
    assert (s.mode, s.threads, s.iterations, s.min_seconds, s.max_seconds, s.input_shape) == (
        "latency",
        4,
        100,
        2.0,
        30.0,
        (1, 1, 48, 48),
    )
    c = p.parse_extras(p.classify_args("/m.ptl", "/in.ferb", mean=0.25, std=0.5))
    assert (c.mean, c.std, c.input) == ((0.25,), (0.5,), "/in.ferb")
    assert p.parse_extras(p.info_args(run_id="x-1")).run_id == "x-1"


def test_defaults_fill_in_what_the_host_leaves_out():
    s = p.parse_extras({"mode": "latency", "model": "/m.ptl"})
    assert (s.warmup, s.warmup_seconds, s.iterations, s.min_seconds, s.max_iterations, s.max_seconds, s.threads) == (
        10,
        0.5,
        50,
        1.0,
        100000,
        60.0,
        1,
    )
    assert s.inline_max_bytes == p.DEFAULT_INLINE_MAX_BYTES


@pytest.mark.parametrize("old", ["runs", "min_s", "warmup_runs", "warmup_min_s", "max_runs", "max_s"])
def test_protocol_2_names_are_refused_naming_the_settings_names(old):
    """Protocol 3 took the settings' names; a host of protocol 2 sends protocol=2 and is refused
    for that, and an old name alone is an unknown argument, never a silent default."""
    with pytest.raises(RunnerError) as err:
        p.parse_extras({"mode": "latency", "model": "/m.ptl", old: "1"})
    assert err.value.code == "bad_arguments" and f"unknown argument(s) {old} " in str(err.value)
    assert "iterations" in str(err.value) and "max_seconds" in str(err.value)  # what it allows instead
    with pytest.raises(RunnerError, match=f"host speaks protocol 2, this runner speaks {p.PROTOCOL_VERSION}"):
        p.parse_extras({"mode": "latency", "model": "/m.ptl", "protocol": "2", old: "1"})  # the version said first


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"threads": 0}, "threads"),
        ({"iterations": 10, "max_iterations": 5}, "max_iterations"),
        ({"min_seconds": 5.0, "max_seconds": 1.0}, "max_seconds"),
        ({"run_id": "has space"}, "spaces"),
        ({"input_shape": (1, 0, 48)}, "positive"),
    ],
)
def test_builders_refuse_bad_settings_with_config_error(kwargs, words):
    with pytest.raises(ConfigError) as err:
        p.latency_args("/m.ptl", **kwargs)
    assert words in str(err.value)


def test_paths_with_spaces_are_refused_before_reaching_the_shell():
    with pytest.raises(ConfigError):
        p.latency_args("/data/local/tmp/my model.ptl")


def test_parse_extras_raises_bad_arguments():
    with pytest.raises(RunnerError) as err:
        p.parse_extras({"mode": "classify", "model": "/m.ptl", "input": "/i", "mean": "0.5", "std": "0"})
    assert err.value.code == "bad_arguments" and "std" in str(err.value)


def test_am_command_line_round_trips():
    extras = p.latency_args("/data/local/tmp/fermbench/a.ptl", iterations=5)
    argv = p.am_instrument_argv(extras)
    assert argv[:4] == ["am", "instrument", "-w", "-r"] and argv[-1] == p.RUNNER_COMPONENT
    back, component, flags = p.parse_am_instrument_argv(argv)
    assert back == extras and component == p.RUNNER_COMPONENT and flags == {"-w", "-r"}
    with pytest.raises(ValueError):
        p.parse_am_instrument_argv(["am", "instrument", "-w", "-e", "mode"])


def test_images_file_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 48, 48), dtype=np.uint8)
    path = p.write_images_file(tmp_path / "x.ferb", images)
    data = path.read_bytes()
    assert data[:4] == b"FERB" and len(data) == 20 + 3 * 48 * 48
    assert int.from_bytes(data[8:12], "little") == 3  # N after magic and version
    back = p.read_images_file(path)
    assert back.shape == (3, 1, 48, 48)  # read as [N, C, H, W]: a version-1 file has one channel
    np.testing.assert_array_equal(back[:, 0], images)


def test_one_channel_is_written_as_version_1_byte_for_byte(tmp_path):
    """[N, 1, H, W] and [N, H, W] give the file protocol 3 wrote: cached inputs keep their hashes."""
    import struct

    images = np.random.default_rng(1).integers(0, 256, size=(2, 5, 7), dtype=np.uint8)
    version_1 = struct.pack("<4sIIII", b"FERB", 1, 2, 5, 7) + images.tobytes()
    assert p.images_file_bytes(images) == version_1
    assert p.images_file_bytes(images[:, None]) == version_1


def test_rgb_images_file_is_version_2_and_round_trips(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, size=(4, 3, 6, 5), dtype=np.uint8)
    data = p.images_file_bytes(images)
    header = [int.from_bytes(data[i : i + 4], "little") for i in range(4, 24, 4)]
    assert data[:4] == b"FERB" and header == [2, 4, 3, 6, 5] and len(data) == 24 + images.size
    np.testing.assert_array_equal(p.parse_images_bytes(data), images)
    assert p.images_file_bytes(p.parse_images_bytes(data)) == data
    with pytest.raises(RunnerError, match=r"header \(4x3x6x5\) says") as err:
        p.parse_images_bytes(data[:-1])
    assert err.value.code == "input_invalid"


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d: b"JPEG" + d[4:], "does not start"),
        (lambda d: d[:4] + (3).to_bytes(4, "little") + d[8:], "format version 3"),
        (lambda d: d[:-1], "header"),
        (lambda d: d[:10], "shorter"),
    ],
)
def test_malformed_images_file_is_input_invalid(mutate, words):
    data = p.images_file_bytes(np.zeros((2, 4, 4), dtype=np.uint8))
    with pytest.raises(RunnerError) as err:
        p.parse_images_bytes(mutate(data))
    assert err.value.code == "input_invalid" and words in str(err.value)


def test_images_must_be_uint8_with_three_or_four_dimensions():
    with pytest.raises(ConfigError):
        p.images_file_bytes(np.zeros((2, 48, 48), dtype=np.float32))
    with pytest.raises(ConfigError):
        p.images_file_bytes(np.zeros((48, 48), dtype=np.uint8))
    with pytest.raises(ConfigError):
        p.images_file_bytes(np.zeros((1, 1, 3, 4, 4), dtype=np.uint8))


def test_classify_mean_and_std_take_one_value_or_one_per_channel():
    extras = p.classify_args("/m.ptl", "/i.ferb", mean=(0.485, 0.456, 0.406), std=0.5)
    assert extras["mean"] == "0.485,0.456,0.406" and extras["std"] == "0.5"
    s = p.parse_extras(extras)
    assert s.mean == (0.485, 0.456, 0.406) and s.std == (0.5,)
    assert p.channel_values(s.std, 3, "std") == (0.5, 0.5, 0.5)
    assert p.channel_values(s.mean, 3, "mean") == s.mean
    with pytest.raises(RunnerError, match="mean has 3 values, the images have 1 channel"):
        p.channel_values(s.mean, 1, "mean")
    for bad in ("0.5,", ",0.5", "0.5,,0.5", "0.5;0.4", ",".join(["0.1"] * (p.MAX_CHANNEL_VALUES + 1))):
        with pytest.raises(RunnerError) as err:
            p.parse_extras({**extras, "mean": bad})
        assert err.value.code == "bad_arguments" and "mean" in str(err.value)
    with pytest.raises(RunnerError, match="std=0 is out of range"):
        p.parse_extras({**extras, "std": "0.5,0"})


def test_latency_input_is_the_documented_pattern():
    values = p.latency_input_values(300, mean=0.5, std=0.25)
    assert values.dtype == np.float32
    assert values[1] == pytest.approx((37 / 255 - 0.5) / 0.25, rel=1e-6)
    assert values[7] == pytest.approx(((7 * 37) % 256 / 255 - 0.5) / 0.25, rel=1e-6)


def test_inline_results_are_capped_well_under_the_binder_buffer():
    """A Bundle holds the JSON as UTF-16 on a ~1 MB binder buffer: 128 KiB is the most allowed."""
    assert p.MAX_INLINE_MAX_BYTES == 128 * 1024 and p.DEFAULT_INLINE_MAX_BYTES <= p.MAX_INLINE_MAX_BYTES
    top = p.parse_extras({"mode": "info", "inline_max_bytes": str(p.MAX_INLINE_MAX_BYTES)})
    assert top.inline_max_bytes == p.MAX_INLINE_MAX_BYTES
    with pytest.raises(RunnerError) as err:
        p.parse_extras({"mode": "info", "inline_max_bytes": str(p.MAX_INLINE_MAX_BYTES + 1)})
    assert err.value.code == "bad_arguments" and "131072" in str(err.value)
    with pytest.raises(ConfigError):
        p.latency_args("/m.ptl", inline_max_bytes=1 << 20)


def test_each_runtime_has_its_own_runner_package():
    assert (
        p.runner_component("pytorch_lite")
        == p.RUNNER_COMPONENT
        == "org.fermbench.runner/org.fermbench.runner.BenchmarkInstrumentation"
    )
    assert (
        p.runner_component("executorch")
        == "org.fermbench.runner.executorch/org.fermbench.runner.BenchmarkInstrumentation"
    )
    assert p.external_files_dir("executorch") == "/sdcard/Android/data/org.fermbench.runner.executorch/files"
    assert p.external_files_dir("pytorch_lite") == p.EXTERNAL_FILES_DIR
    assert p.results_base_dir("executorch", 29) == "/sdcard/Android/media/org.fermbench.runner.executorch"
    assert p.results_base_dir("executorch", 28) == p.external_files_dir("executorch")
    assert p.runner_component("litert") == "org.fermbench.runner.litert/org.fermbench.runner.BenchmarkInstrumentation"
    assert {p.MODEL_FORMATS[r] for r in p.RUNTIMES} == {"ptl", "pte", "tflite"}
    with pytest.raises(ConfigError) as err:
        p.runner_package("tflite")
    assert "pytorch_lite, executorch, litert" in str(err.value)
