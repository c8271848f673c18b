"""The runner end to end through the real adb binary and the simulated phone: `adb install`,
`adb push`, `adb shell am instrument -w -r ...` in each mode, `adb pull` of a large result.
(The shared fixtures in tests/conftest.py skip these tests where no adb binary exists.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fermbench.errors import RunnerError
from fermbench.runner import protocol as p
from fermbench.runner.instrument_output import parse_instrument_output
from fermbench.sim.apk import make_apk_bytes

pytestmark = pytest.mark.adb


@pytest.fixture
def phone(sim_phone, adb_server, tiny_ptl, tmp_path):
    """A connected simulated phone with the runner installed and a model and images pushed."""
    apk = tmp_path / "runner.apk"
    apk.write_bytes(make_apk_bytes(p.RUNNER_PACKAGE, 1, "0.1.0"))
    sh = lambda *args: adb_server.adb("-s", sim_phone.serial, *args)  # noqa: E731
    assert "Success" in sh("install", "-r", str(apk)).stdout
    sh("push", str(tiny_ptl), f"{p.DEVICE_MODEL_DIR}/tiny.ptl")
    images = np.random.default_rng(7).integers(0, 256, size=(30, 48, 48), dtype=np.uint8)
    p.write_images_file(tmp_path / "faces.ferb", images)
    sh("push", str(tmp_path / "faces.ferb"), f"{p.DEVICE_MODEL_DIR}/faces.ferb")
    return sh


def instrument(sh, extras: dict[str, str]):
    done = sh("shell", *p.am_instrument_argv(extras))
    return parse_instrument_output(done.stdout)


def test_info_over_adb(phone):
    run = instrument(phone, p.info_args())
    assert run.code == -1 and not run.truncated
    info = p.decode_result(run)
    assert isinstance(info, p.InfoResult) and info.device.get("sdk_int")


def test_latency_over_adb_returns_every_raw_sample(phone):
    run = instrument(
        phone,
        p.latency_args(f"{p.DEVICE_MODEL_DIR}/tiny.ptl", iterations=25, min_seconds=0.0, warmup=3, warmup_seconds=0.0),
    )
    res = p.decode_result(run)
    assert isinstance(res, p.LatencyResult) and len(res.samples_ns) == 25 and min(res.samples_ns) > 0
    assert res.warmup_count == 3 and res.env_before.battery_temp_c is not None  # the phone's battery


def test_classify_over_adb_with_the_result_pulled_from_the_phone(phone, tmp_path):
    extras = p.classify_args(
        f"{p.DEVICE_MODEL_DIR}/tiny.ptl", f"{p.DEVICE_MODEL_DIR}/faces.ferb", run_id="cls-adb", inline_max_bytes=0
    )
    run = instrument(phone, extras)

    def pull(device_path: str) -> bytes:
        local = tmp_path / Path(device_path).name
        phone("pull", device_path, str(local))
        return local.read_bytes()

    res = p.decode_result(run, fetch=pull)
    assert isinstance(res, p.ClassifyResult) and res.count == 30 and len(res.top) == 30
    assert len(res.logits[0]) == res.num_classes == 7


def test_coded_error_over_adb(phone):
    run = instrument(phone, p.latency_args(f"{p.DEVICE_MODEL_DIR}/absent.ptl"))
    assert run.code == -1
    with pytest.raises(RunnerError) as err:
        p.decode_result(run)
    assert err.value.code == "model_missing"


@pytest.mark.parametrize(
    "sdk,folder",
    [
        (34, "/sdcard/Android/media/org.fermbench.runner/results/"),
        (28, "/sdcard/Android/data/org.fermbench.runner/files/results/"),
    ],
)
def test_large_results_go_where_the_shell_can_read_them_on_that_api_level(
    make_sim_phone, adb_server, tiny_ptl, tmp_path, sdk, folder
):
    """API 29+: the app's media folder (getExternalMediaDirs, as AndroidX Benchmark); below: Android/data."""
    from fermbench.sim.state import SimIdentity

    phone = make_sim_phone(SimIdentity(sdk=sdk))
    sh = lambda *args: adb_server.adb("-s", phone.serial, *args)  # noqa: E731
    apk = tmp_path / "runner.apk"
    apk.write_bytes(make_apk_bytes(p.RUNNER_PACKAGE, 1, "0.1.0"))
    sh("install", "-r", str(apk))
    sh("push", str(tiny_ptl), f"{p.DEVICE_MODEL_DIR}/tiny.ptl")
    p.write_images_file(tmp_path / "faces.ferb", np.zeros((3, 48, 48), dtype=np.uint8))
    sh("push", str(tmp_path / "faces.ferb"), f"{p.DEVICE_MODEL_DIR}/faces.ferb")
    run = instrument(
        sh,
        p.classify_args(
            f"{p.DEVICE_MODEL_DIR}/tiny.ptl", f"{p.DEVICE_MODEL_DIR}/faces.ferb", run_id="where", inline_max_bytes=0
        ),
    )
    path = next(s.values[p.KEY_RESULT_FILE] for s in run.statuses if p.KEY_RESULT_FILE in s.values)
    assert path == folder + "where.json" and path.startswith(p.results_base_dir("pytorch_lite", sdk))
    assert sh("shell", "ls", folder).stdout.split() == ["where.json"]  # the shell lists it, adb pulls it
    sh("pull", path, str(tmp_path / "where.json"))
    assert b'"mode":"classify"' in (tmp_path / "where.json").read_bytes()
