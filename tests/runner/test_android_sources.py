"""Checks of the Android runner's Java sources that need no Android SDK.

1. Each flavor (main + pytorchLite, main + executorch, main + litert) compiles on its own (javac)
   against compile-only stubs of the Android API and of its runtime's Java API (org.pytorch,
   org.pytorch.executorch, org.tensorflow.lite), and, where an android.jar is found, against the
   real Android API.
2. Their platform-free core (Benchmark, RunSettings, Json, ImagesFile) runs on a desktop JVM with a
   fake engine, and what it prints is parsed and decoded by the same Python code that reads a
   phone: the Java runner and the host runner must give the same answer to the same request.
"""

from __future__ import annotations

import glob
import importlib.metadata
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fermbench.fileio import sha256_file
from fermbench.runner import host
from fermbench.runner import protocol as p
from fermbench.runner.engines import ExecutorchEngine
from fermbench.runner.instrument_output import parse_instrument_output

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "android-runner" / "app" / "src"
STUBS = Path(__file__).resolve().parent / "java"
ANDROID_ONLY = {
    "BenchmarkInstrumentation.java",
    "AndroidPlatform.java",
    "IsolationActivity.java",
}  # need the Android API
# flavor -> its runtime's API stubs
FLAVORS = {"pytorchLite": "pytorch-stubs", "executorch": "executorch-stubs", "litert": "litert-stubs"}
LITERT_PACKAGE = "org.fermbench.runner.litert"  # the litert flavor's package (the runtime registry's)

JAVAC = shutil.which("javac")
JAVA = shutil.which("java")
needs_jdk = pytest.mark.skipif(not (JAVAC and JAVA), reason="no JDK (javac/java) on PATH")


def _java_files(*folders: Path) -> list[str]:
    return sorted(str(f) for folder in folders for f in folder.rglob("*.java"))


def _javac(out: Path, files: list[str], classpath: str | None = None) -> subprocess.CompletedProcess:
    cmd = [JAVAC, "--release", "11", "-encoding", "UTF-8", "-d", str(out)]
    if classpath:
        cmd += ["-classpath", classpath]
    return subprocess.run(cmd + files, capture_output=True, text=True, timeout=180)


def _api_level(jar: str) -> int:
    digits = Path(jar).parent.name.rpartition("-")[2]
    return int(digits) if digits.isdigit() else 0


def _find_android_jar() -> str | None:
    """ANDROID_JAR, else the newest platform under ANDROID_HOME / ANDROID_SDK_ROOT / Debian's SDK."""
    if os.environ.get("ANDROID_JAR") and Path(os.environ["ANDROID_JAR"]).is_file():
        return os.environ["ANDROID_JAR"]
    roots = [os.environ.get("ANDROID_HOME"), os.environ.get("ANDROID_SDK_ROOT"), "/usr/lib/android-sdk"]
    jars = [j for r in roots if r for j in glob.glob(f"{r}/platforms/android-*/android.jar")]
    return max(jars, key=_api_level) if jars else None


@needs_jdk
@pytest.mark.parametrize("flavor", sorted(FLAVORS))
def test_each_flavor_compiles_on_its_own_against_api_stubs(tmp_path, flavor):
    files = _java_files(APP / "main" / "java", APP / flavor / "java", STUBS / "android-stubs", STUBS / FLAVORS[flavor])
    assert any(f.endswith("BenchmarkInstrumentation.java") for f in files)
    assert any(f.endswith("Engines.java") for f in files)  # each flavor brings its own
    done = _javac(tmp_path, files)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "org/fermbench/runner/BenchmarkInstrumentation.class").is_file()
    assert (tmp_path / "org/fermbench/runner/IsolationActivity.class").is_file()


@needs_jdk
@pytest.mark.parametrize(
    "flavor,stubs,missing",
    [("executorch", "pytorch-stubs", "org.pytorch.executorch"), ("litert", "executorch-stubs", "org.tensorflow.lite")],
)
def test_a_flavor_does_not_compile_against_another_runtime(tmp_path, flavor, stubs, missing):
    """The stubs are specific enough to catch a flavor built against the wrong runtime's API."""
    files = _java_files(APP / "main" / "java", APP / flavor / "java", STUBS / "android-stubs", STUBS / stubs)
    done = _javac(tmp_path, files)
    assert done.returncode != 0 and missing in done.stderr


@needs_jdk
@pytest.mark.skipif(
    _find_android_jar() is None,
    reason="no android.jar (set ANDROID_JAR or ANDROID_HOME; Debian 12 does not package one)",
)
@pytest.mark.parametrize("flavor", sorted(FLAVORS))
def test_sources_compile_against_android_jar(tmp_path, flavor):
    files = _java_files(APP / "main" / "java", APP / flavor / "java", STUBS / FLAVORS[flavor])
    done = _javac(tmp_path, files, classpath=_find_android_jar())
    assert done.returncode == 0, done.stderr


# ----------------------------------------------------------------------------- the core on a JVM


@pytest.fixture(scope="module")
def jvm_classes(tmp_path_factory) -> Path:
    if not (JAVAC and JAVA):
        pytest.skip("no JDK (javac/java) on PATH")
    out = tmp_path_factory.mktemp("jvm-classes")
    core = [f for f in _java_files(APP / "main" / "java") if Path(f).name not in ANDROID_ONLY]
    done = _javac(out, core + _java_files(STUBS / "jvm"))
    assert done.returncode == 0, done.stderr
    return out


def run_java(classes: Path, results: Path, requests: list[dict[str, str]]) -> list[str]:
    """One JVM, many requests; returns the am-style text of each."""
    req_file = results / "requests.txt"
    results.mkdir(parents=True, exist_ok=True)
    req_file.write_text("\n".join(" ".join(f"{k}={v}" for k, v in r.items()) for r in requests) + "\n")
    done = subprocess.run(
        [JAVA, "-cp", str(classes), "org.fermbench.runner.JvmMain", str(results), str(req_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.split("=== end of request\n")
    assert blocks[-1] == "" and len(blocks) == len(requests) + 1
    # the fake platform's isolation activity is released after every request, failed ones too
    # and the benchmark thread's raised priority is put back
    assert all(b.endswith("JVM_FOREGROUND_HELD_AFTER: false\nJVM_PRIORITY_RAISED_AFTER: 0\n") for b in blocks[:-1])
    return blocks[:-1]


def outcome_code(text: str) -> str:
    got = p.read_outcome(parse_instrument_output(text))
    return got.code if isinstance(got, p.RunnerErrorResult) else "ok"


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_ptl) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("jvm-files")
    junk = folder / "junk.ptl"
    junk.write_bytes(b"BAD: not a zip archive\n")  # the fake engine refuses files starting with BAD
    images = np.random.default_rng(3).integers(0, 256, size=(4, 48, 48), dtype=np.uint8)
    p.write_images_file(folder / "faces.ferb", images)
    (folder / "bad.ferb").write_bytes(p.images_file_bytes(images)[:-5])
    # 3x6x6: the fake model's logits read elements of every channel (see _fake_engine_logits)
    rgb = np.random.default_rng(4).integers(0, 256, size=(3, 3, 6, 6), dtype=np.uint8)
    p.write_images_file(folder / "rgb.ferb", rgb)
    (folder / "bad_rgb.ferb").write_bytes(p.images_file_bytes(rgb)[:-1])
    return {
        "model": str(tiny_ptl),
        "junk": str(junk),
        "missing": str(folder / "none.ptl"),
        "images": str(folder / "faces.ferb"),
        "bad_images": str(folder / "bad.ferb"),
        "rgb": str(folder / "rgb.ferb"),
        "bad_rgb": str(folder / "bad_rgb.ferb"),
        "dir": str(folder),
    }


QUICK = {"iterations": "3", "min_seconds": "0", "warmup": "1", "warmup_seconds": "0"}


def parity_cases(f: dict[str, str]) -> dict[str, dict[str, str]]:
    version = str(p.PROTOCOL_VERSION)
    lat = {"mode": "latency", "protocol": version, "model": f["model"]}
    cls = {"mode": "classify", "model": f["model"], "input": f["images"], "mean": "0.5", "std": "0.25"}
    return {
        "info": {"mode": "info", "protocol": version},
        "latency": {**lat, **QUICK},
        "latency_count_cap": {
            **lat,
            "iterations": "3",
            "min_seconds": "30",
            "max_iterations": "4",
            "max_seconds": "60",
            "warmup": "0",
            "warmup_seconds": "0",
        },
        "latency_time_cap": {
            **lat,
            "iterations": "10000000",
            "max_iterations": "10000000",
            "min_seconds": "0",
            "max_seconds": "0.02",
            "warmup": "0",
            "warmup_seconds": "0",
        },
        "latency_precision": {**lat, **QUICK, "target_precision": "0.5", "max_seconds": "5"},
        "precision_over_half": {**lat, "target_precision": "0.6"},
        "precision_negative": {**lat, "target_precision": "-0.1"},
        "classify": cls,
        # (a 3-channel file runs on the fake engine only: the tiny .ptl is gray, see the test below)
        "rgb_mean_count": {**cls, "input": f["rgb"], "mean": "0.5,0.4"},
        "gray_mean_count": {**cls, "mean": "0.5,0.4,0.3"},
        "rgb_truncated": {**cls, "input": f["bad_rgb"]},
        "mean_list_too_long": {**cls, "mean": ",".join(["0.5"] * (p.MAX_CHANNEL_VALUES + 1))},
        "mean_list_empty_item": {**cls, "mean": "0.5,"},
        "model_missing": {**lat, **QUICK, "model": f["missing"]},
        "model_load_failed": {**lat, **QUICK, "model": f["junk"]},
        "input_missing": {**cls, "input": f["missing"]},
        "input_invalid": {**cls, "input": f["bad_images"]},
        "no_mode": {"protocol": version},
        "bad_mode": {"mode": "sleep"},
        "unknown_key": {**lat, "colour": "red"},
        "no_model": {"mode": "latency"},
        "relative_model": {**lat, "model": "tiny.ptl"},
        "protocol_1": {**lat, "protocol": "1"},
        "protocol_2_names": {**lat, "protocol": "2", "runs": "5", "min_s": "0"},  # a host from before the renames
        "inline_at_cap": {"mode": "info", "inline_max_bytes": str(p.MAX_INLINE_MAX_BYTES)},
        "inline_too_big": {"mode": "info", "inline_max_bytes": str(p.MAX_INLINE_MAX_BYTES + 1)},
        "runs_zero": {**lat, "iterations": "0"},
        "runs_word": {**lat, "iterations": "ten"},
        "runs_huge": {**lat, "iterations": "99999999999999999999999"},
        "runs_over_max": {**lat, "iterations": "10", "max_iterations": "5"},
        "min_over_max": {**lat, "min_seconds": "10", "max_seconds": "5"},
        "float_hex": {**lat, "min_seconds": "0x1p3"},
        "float_nan": {**lat, "min_seconds": "nan"},
        "threads_zero": {**lat, "threads": "0"},
        "shape_zero": {**lat, "input_shape": "1,0,48"},
        "shape_huge": {**lat, "input_shape": "1,100000,100000"},
        "shape_text": {**lat, "input_shape": "1x1x48x48"},
        "std_zero": {**cls, "std": "0"},
        "bad_run_id": {**lat, "run_id": "a/b"},
    }


def test_java_core_and_host_runner_give_the_same_answers(jvm_classes, files, tmp_path):
    cases = parity_cases(files)
    java_texts = dict(zip(cases, run_java(jvm_classes, tmp_path / "java", list(cases.values()))))
    host_answers: dict[str, list[str]] = {}
    for name, extras in cases.items():
        chunks = host_answers[name] = []
        host.run_instrumentation(extras, Path, chunks.append, external_dir=str(tmp_path / "host"))
        java_code, host_code = outcome_code(java_texts[name]), outcome_code("".join(chunks))
        assert java_code == host_code, f"{name}: java {java_code}, host {host_code}\n{java_texts[name]}"
        expected = (
            name
            if name in p.ERROR_CODES
            else (
                "ok"
                if name in ("info", "classify") or "cap" in name or name.startswith("latency")
                else "input_invalid"
                if name == "rgb_truncated"
                else "bad_arguments"
            )
        )
        assert java_code == expected, name
    for text in (java_texts["protocol_2_names"], "".join(host_answers["protocol_2_names"])):
        message = p.read_outcome(parse_instrument_output(text)).message
        assert message.startswith("host speaks protocol 2, this runner speaks"), message  # not "unknown runs"


def test_java_precision_rule_is_the_hosts(jvm_classes, tmp_path):
    """The Java runner's median ranks and stop test against the host's, on the same samples."""
    source = tmp_path / "org" / "fermbench" / "runner" / "PrecisionCheck.java"
    source.parent.mkdir(parents=True)
    source.write_text("""package org.fermbench.runner;
public class PrecisionCheck {
    public static void main(String[] args) {
        StringBuilder out = new StringBuilder();
        for (int n = 1; n < 3000; n++) out.append(Benchmark.medianLowerRank(n)).append('\\n');
        long[] x = new long[400];
        for (int i = 0; i < x.length; i++) x[i] = 1000000L + (i * 7919L) % 20011L;
        for (int n = 6; n <= x.length; n += 37) {
            out.append(Benchmark.precisionReached(x, n, 0.005)).append(' ').append(Benchmark.precisionReached(x, n, 0.002)).append('\\n');
        }
        System.out.print(out);
    }
}
""")
    done = _javac(tmp_path / "classes", [str(source)], classpath=str(jvm_classes))
    assert done.returncode == 0, done.stderr
    run = subprocess.run(
        [JAVA, "-cp", f"{tmp_path / 'classes'}{os.pathsep}{jvm_classes}", "org.fermbench.runner.PrecisionCheck"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    ranks = [int(v) for v in lines[:2999]]
    assert ranks == [(p.precision_ranks(n) or (0, 0))[0] for n in range(1, 3000)]
    x = [1_000_000 + (i * 7919) % 20011 for i in range(400)]
    expected = [
        f"{str(p.precision_reached(x, n, 0.005)).lower()} {str(p.precision_reached(x, n, 0.002)).lower()}"
        for n in range(6, 401, 37)
    ]
    assert lines[2999:] == expected
    answers = " ".join(expected).split()
    assert "true" in answers and "false" in answers  # the samples reach one target and not the other


def test_java_results_decode_into_the_protocol_dataclasses(jvm_classes, files, tmp_path):
    cases = parity_cases(files)
    names = ["info", "latency", "latency_count_cap", "latency_time_cap", "model_load_failed"]
    texts = dict(zip(names, run_java(jvm_classes, tmp_path, [cases[n] for n in names])))
    info = p.decode_result(parse_instrument_output(texts["info"]))
    assert isinstance(info, p.InfoResult) and info.runner_kind == "android"
    assert info.device["model"] == 'JVM "test"\n\u00e9'  # escaped by Json.java, read back intact
    assert (info.model_format, info.bytecode_min, info.bytecode_max, info.pte_identifiers, info.page_size) == (
        "ptl",
        4,
        9,
        [],
        4096,
    )
    lat = p.decode_result(parse_instrument_output(texts["latency"]))
    assert isinstance(lat, p.LatencyResult)
    assert len(lat.samples_ns) == 3 and lat.warmup_count == 1 and lat.stop_reason == "count_and_time"
    assert lat.runtime_load_ns >= 0 and lat.load_ns >= 0 and lat.memory_after_runtime.native_heap_kb is not None
    assert lat.foreground.isolation_activity and lat.foreground.importance_name == "foreground"  # held while timed
    gc_count = lat.metrics["gc_count_timed"]
    assert lat.thread_priority == -8 and isinstance(gc_count, int) and gc_count >= 0
    assert lat.metrics["native_heap_growth_timed"] is None  # the JVM's fake platform cannot count it: null, not 0
    assert lat.output_numel == 7 and lat.input_shape == [1, 1, 48, 48] and lat.threads == 1
    assert lat.model_sha256 == sha256_file(files["model"]) and lat.settings == cases["latency"]
    statuses = parse_instrument_output(texts["latency"]).statuses
    assert [s["fermbench_phase"] for s in statuses if "fermbench_phase" in s] == ["load", "first", "warmup", "timed"]
    capped = p.decode_result(parse_instrument_output(texts["latency_count_cap"]))
    assert capped.stop_reason == "max_runs" and len(capped.samples_ns) == 4
    timed = p.decode_result(parse_instrument_output(texts["latency_time_cap"]), fetch=lambda f: Path(f).read_bytes())
    assert timed.stop_reason == "max_s" and timed.timed_ns >= 20_000_000
    err = p.read_outcome(parse_instrument_output(texts["model_load_failed"]))
    assert err.code == "model_load_failed"
    assert err.message.endswith("The model version must be between 4 and 9 but the model version is 10")


def _fake_engine_logits(images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """What JvmMain's fake model computes from the host's normalisation of [N, C, H, W] images:
    logit k = x[(97k) % n] + x[(13k + 5) % n], in float32."""
    m = np.asarray(p.channel_values(mean, images.shape[1], "mean"), np.float32).reshape(-1, 1, 1)
    s = np.asarray(p.channel_values(std, images.shape[1], "std"), np.float32).reshape(-1, 1, 1)
    x = np.stack([p.classify_input(image, m, s) for image in images]).reshape(len(images), -1)
    n = x.shape[1]
    return np.stack([x[:, (97 * k) % n] + x[:, (13 * k + 5) % n] for k in range(7)], axis=1)


def test_java_classify_normalises_like_the_host_and_writes_large_results_to_a_file(jvm_classes, files, tmp_path):
    request = {
        "mode": "classify",
        "model": files["model"],
        "input": files["images"],
        "mean": "0.5077",
        "std": "0.255",
        "run_id": "big-1",
        "inline_max_bytes": "0",
    }
    (text,) = run_java(jvm_classes, tmp_path / "results", [request])
    run = parse_instrument_output(text)
    ref = p.read_outcome(run)
    assert isinstance(ref, p.ResultRef) and ref.file == str(tmp_path / "results" / "big-1.json")
    res = p.decode_result(run, fetch=lambda path: Path(path).read_bytes())
    images = p.read_images_file(files["images"])
    expected = _fake_engine_logits(images, (0.5077,), (0.255,))
    got = np.array(res.logits, dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(got, expected)  # bit-for-bit: same float32 operations in the same order
    assert res.top == [host.argmax_first(row) for row in expected]
    assert res.count == 4 and len(res.latency_ns) == 4 and res.num_classes == 7


# ----------------------------------------------------------------------------- build configuration


def _java_constant(path: Path, name: str) -> str:
    match = re.search(rf'static final String {name} = "([^"]+)";', path.read_text())
    assert match, f"{name} not found in {path}"
    return match.group(1)


def test_flavors_runtime_versions_and_packages_agree_with_the_harness():
    gradle = (ROOT / "android-runner" / "app" / "build.gradle.kts").read_text()
    lite = _java_constant(APP / "pytorchLite/java/org/fermbench/runner/PytorchLiteEngine.java", "VERSION")
    et = _java_constant(APP / "executorch/java/org/fermbench/runner/ExecutorchEngine.java", "VERSION")
    assert f'"pytorchLiteImplementation"("org.pytorch:pytorch_android_lite:{lite}")' in gradle
    assert f'"executorchImplementation"("org.pytorch:executorch-android:{et}")' in gradle
    litert = _java_constant(APP / "litert/java/org/fermbench/runner/LiteRtEngine.java", "VERSION")
    assert f'"litertImplementation"("com.google.ai.edge.litert:litert:{litert}")' in gradle
    suffix = re.search(r'create\("executorch"\) \{[^}]*applicationIdSuffix = "([^"]+)"', gradle, re.S).group(1)
    base = re.search(r'applicationId = "([^"]+)"', gradle).group(1)
    assert (base, base + suffix) == (p.runner_package("pytorch_lite"), p.runner_package("executorch"))
    litert_suffix = re.search(r'create\("litert"\) \{[^}]*applicationIdSuffix = "([^"]+)"', gradle, re.S).group(1)
    assert base + litert_suffix == LITERT_PACKAGE
    assert f"versionCode = {p.PROTOCOL_VERSION}" in gradle
    manifest = (APP / "main" / "AndroidManifest.xml").read_text()
    assert 'android:name=".IsolationActivity"' in manifest and 'android:name=".BenchmarkInstrumentation"' in manifest


def test_the_apk_reads_the_programs_the_pinned_python_executorch_writes():
    """The AAR and the exporter come from one ExecuTorch minor release with the same program schema
    (docs/maven-coordinates.md says why the AAR is the published 1.4.0), same .pte identifier."""
    pytest.importorskip("executorch", reason="the ExecuTorch Python package is not installed")
    source = APP / "executorch/java/org/fermbench/runner/ExecutorchEngine.java"
    aar = _java_constant(source, "VERSION")
    python = importlib.metadata.version("executorch")
    assert aar.split(".")[:2] == python.split(".")[:2], (aar, python)
    evidence = (ROOT / "docs" / "maven-coordinates.md").read_text()
    assert f"`org.pytorch:executorch-android:{aar}`" in evidence and f"executorch=={python}" in evidence
    identifiers = re.search(r"PTE_IDENTIFIERS = Collections.singletonList\(\"(\w{4})\"\)", source.read_text()).group(1)
    assert [identifiers] == ExecutorchEngine().pte_identifiers()


def test_every_measured_metric_has_a_loop_counter_on_android_and_the_host():
    """A measured row of the metric table is read around the timed loop by both runners (the JVM
    run above decodes the Java result, so a missing key in the fake platform fails there)."""
    from fermbench.measures.metrics import MEASURED
    from fermbench.runner.host import LOOP_COUNTERS

    source = (APP / "main/java/org/fermbench/runner/AndroidPlatform.java").read_text()
    body = source.split("public Map<String, Long> loopCounters()", 1)[1].split("\n    }\n", 1)[0]
    assert sorted(LOOP_COUNTERS) == sorted(m.name for m in MEASURED)
    assert [m.name for m in MEASURED if f'counters.put("{m.name}", ' not in body] == []


def test_results_go_to_the_folder_the_host_and_the_simulated_phone_expect():
    source = (APP / "main/java/org/fermbench/runner/AndroidPlatform.java").read_text()
    assert f"static final int MEDIA_DIR_SDK = {p.MEDIA_DIR_SDK};" in source
    assert "context.getExternalMediaDirs()" in source and "context.getExternalFilesDir(null)" in source


def test_java_classify_of_rgb_images_normalises_each_channel_like_the_host(jvm_classes, files, tmp_path):
    """A version-2 (3-channel) images file with per-channel mean/std: the Java runner feeds the
    fake model exactly the host's float32 input (bit for bit), and reports the channels."""
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    request = {
        "mode": "classify",
        "model": files["model"],
        "input": files["rgb"],
        "mean": ",".join(map(str, mean)),
        "std": ",".join(map(str, std)),
    }
    (text,) = run_java(jvm_classes, tmp_path / "results", [request])
    res = p.decode_result(parse_instrument_output(text))
    assert isinstance(res, p.ClassifyResult)
    images = p.read_images_file(files["rgb"])
    assert images.shape == (3, 3, 6, 6)
    assert (res.count, res.channels, res.height, res.width) == (3, 3, 6, 6)
    assert res.mean == list(mean) and res.std == list(std)
    expected = _fake_engine_logits(images, mean, std)
    np.testing.assert_array_equal(np.array(res.logits, dtype=np.float64).astype(np.float32), expected)
    # the same request with the channels' values swapped gives other logits: each value reaches its channel
    assert not np.array_equal(expected, _fake_engine_logits(images, mean[::-1], std[::-1]))
    assert res.top == [host.argmax_first(row) for row in expected]
