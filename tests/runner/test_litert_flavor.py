"""The litert flavor of the runner APK, checked without an Android SDK.

1. android-runner/app/build.gradle.kts declares the flavor with its package, minSdk and ABIs, and
   the LiteRT AAR in that flavor's configuration only; LiteRtEngine.VERSION, the dependency and
   docs/maven-coordinates.md name the same release.
2. LiteRtEngine runs on a desktop JVM against a fake org.tensorflow.lite that stands in for the
   interpreter: an int8 model's input is quantised and its output dequantised bit for bit as the host
   engine does it (numpy's round-half-to-even, float32), a float model's output comes back as it was
   written, the threads and XNNPACK reach the interpreter's options, and the runtime's refusals
   become the protocol's error codes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "android-runner" / "app"
GRADLE = (APP / "build.gradle.kts").read_text()
ENGINE = APP / "src/litert/java/org/fermbench/runner/LiteRtEngine.java"
MAIN = APP / "src/main/java/org/fermbench/runner"
PACKAGE = "org.fermbench.runner.litert"
COORDINATE = "com.google.ai.edge.litert:litert"

JAVAC, JAVA = shutil.which("javac"), shutil.which("java")
needs_jdk = pytest.mark.skipif(not (JAVAC and JAVA), reason="no JDK (javac/java) on PATH")


def _version() -> str:
    return re.search(r'static final String VERSION = "([^"]+)";', ENGINE.read_text()).group(1)


def test_the_flavor_its_package_and_its_dependency_only_in_it():
    block = re.search(r'create\("litert"\) \{(.*?)\n        \}', GRADLE, re.S).group(1)
    base = re.search(r'applicationId = "([^"]+)"', GRADLE).group(1)
    assert base + re.search(r'applicationIdSuffix = "([^"]+)"', block).group(1) == PACKAGE
    assert 'dimension = "runtime"' in block
    assert re.search(r"minSdk = (\d+)", block).group(1) == "24"  # what the LiteRT 2.3.0 AARs declare
    assert re.findall(r'"([^"]+)"', re.search(r"abiFilters \+= listOf\(([^)]*)\)", block).group(1)) == [
        "arm64-v8a",
        "x86_64",
    ]
    # Only the flavor's configuration names the AAR: a plain implementation(...) would put LiteRT's
    # libraries into the other two APKs as well.
    uses = re.findall(rf'^\s*"?(\w+)"?\("{re.escape(COORDINATE)}:([^"]+)"\)', GRADLE, re.M)
    assert uses == [("litertImplementation", _version())]


def test_the_pinned_release_is_the_documented_one():
    evidence = (ROOT / "docs" / "maven-coordinates.md").read_text()
    assert f"`{COORDINATE}:{_version()}`" in evidence
    readme = (ROOT / "android-runner" / "README.md").read_text()
    assert f"`{COORDINATE}:{_version()}`" in readme and f"`{PACKAGE}`" in readme
    protocol = (ROOT / "android-runner" / "PROTOCOL.md").read_text()
    assert f"`{PACKAGE}`" in protocol and "`litert`" in protocol


def test_the_engine_names_the_runtime_and_format_the_harness_uses():
    source = ENGINE.read_text()
    assert 'return "litert";' in source and 'return "tflite";' in source
    host = pytest.importorskip("fermbench.runner.litert_engine", reason="the host's LiteRT engine is not here yet")
    assert (host.LitertEngine.name, host.LitertEngine.model_format) == ("litert", "tflite")


# ----------------------------------------------------------------------------- on a JVM

# A stand-in for the interpreter, configured by system properties: each tensor's type, scale and
# zero point; run() copies the input bytes to the output (the model is the identity on its bytes),
# so what the engine reads back is what it fed. Written for this test, not LiteRT's code.
FAKE = {
    "DataType.java": "package org.tensorflow.lite;\npublic enum DataType { FLOAT32, INT32, UINT8, INT64, STRING, BOOL, INT16, INT8 }\n",
    "TensorFlowLite.java": """package org.tensorflow.lite;
public final class TensorFlowLite {
    public static void init() {
        if (Boolean.getBoolean("fake.nolib")) throw new UnsatisfiedLinkError("dlopen failed: library \\"libLiteRt.so\\" not found");
    }
}
""",
    "Tensor.java": """package org.tensorflow.lite;
public interface Tensor {
    final class QuantizationParams {
        private final float scale; private final int zeroPoint;
        public QuantizationParams(float scale, int zeroPoint) { this.scale = scale; this.zeroPoint = zeroPoint; }
        public float getScale() { return scale; }
        public int getZeroPoint() { return zeroPoint; }
    }
    DataType dataType();
    int numBytes();
    int numElements();
    int[] shape();
    QuantizationParams quantizationParams();
}
""",
    "Interpreter.java": """package org.tensorflow.lite;
import java.io.File;
import java.nio.ByteBuffer;
public final class Interpreter implements AutoCloseable {
    public static class Options {
        int threads = -1; boolean xnnpack;
        public Options setNumThreads(int n) { threads = n; return this; }
        public Options setUseXNNPACK(boolean use) { xnnpack = use; return this; }
    }
    static Tensor tensor(String which) {
        final DataType type = DataType.valueOf(System.getProperty("fake." + which + ".type"));
        final int n = Integer.getInteger("fake.numel");
        final Tensor.QuantizationParams q = new Tensor.QuantizationParams(
            Float.parseFloat(System.getProperty("fake." + which + ".scale", "0")), Integer.getInteger("fake." + which + ".zp", 0));
        return new Tensor() {
            public DataType dataType() { return type; }
            public int numElements() { return n; }
            public int numBytes() { return type == DataType.INT8 ? n : 4 * n; }
            public int[] shape() { return new int[] {n}; }
            public QuantizationParams quantizationParams() { return q; }
        };
    }
    public Interpreter(File model, Options options) {
        if (model.getName().startsWith("bad")) throw new IllegalArgumentException("Model provided has model identifier 'junk', should be 'TFL3'");
        System.out.println("options threads=" + options.threads + " xnnpack=" + options.xnnpack);
    }
    public void allocateTensors() {}
    public int getInputTensorCount() { return Integer.getInteger("fake.inputs", 1); }
    public int getOutputTensorCount() { return 1; }
    public Tensor getInputTensor(int i) { return tensor("in"); }
    public Tensor getOutputTensor(int i) { return tensor("out"); }
    public void run(Object input, Object output) {
        ByteBuffer in = (ByteBuffer) input, out = (ByteBuffer) output;
        int want = tensor("in").numBytes();
        if (in.remaining() != want) {
            throw new IllegalArgumentException("Cannot copy to a tensor with " + want + " bytes from " + in.remaining());
        }
        out.put(in);
    }
    public void close() {}
}
""",
}

DRIVER = """package org.fermbench.runner;
import java.nio.FloatBuffer;
public class LiteRtCheck {
    public static void main(String[] args) throws Exception {
        LiteRtEngine engine = new LiteRtEngine();
        String[] values = args[1].split(",");
        try {
            FloatBuffer in = engine.allocateInput(new long[] {1, values.length});
            for (int i = 0; i < values.length; i++) in.put(i, Float.intBitsToFloat(Integer.parseUnsignedInt(values[i], 16)));
            engine.loadRuntime(3);
            engine.load(args[0]);
            for (int k = 0; k < 2; k++) engine.run(); // the buffers are rewound between runs
            StringBuilder out = new StringBuilder("out");
            for (float v : engine.lastOutput()) out.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
            System.out.println(out);
        } catch (RunnerFailure e) {
            System.out.println("failure " + e.code + ": " + e.getMessage());
        }
    }
}
"""


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> Path:
    if not (JAVAC and JAVA):
        pytest.skip("no JDK (javac/java) on PATH")
    src = tmp_path_factory.mktemp("litert-src")
    for name, text in FAKE.items():
        (src / "org/tensorflow/lite").mkdir(parents=True, exist_ok=True)
        (src / "org/tensorflow/lite" / name).write_text(text)
    (src / "LiteRtCheck.java").write_text(DRIVER)
    out = tmp_path_factory.mktemp("litert-classes")
    files = [str(f) for f in src.rglob("*.java")] + [
        str(ENGINE),
        str(MAIN / "Engine.java"),
        str(MAIN / "RunnerFailure.java"),
    ]
    done = subprocess.run(
        [JAVAC, "--release", "11", "-d", str(out), *files], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return out


def run_engine(classes: Path, x: np.ndarray, model: str = "m.tflite", **props: object) -> list[str]:
    values = ",".join(f"{v:08x}" for v in x.astype(np.float32).view(np.uint32))
    flags = [f"-Dfake.{k.replace('_', '.')}={v}" for k, v in {"numel": x.size, **props}.items()]
    done = subprocess.run(
        [JAVA, *flags, "-cp", str(classes), "org.fermbench.runner.LiteRtCheck", model, values],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def floats(line: str) -> np.ndarray:
    return np.array([int(h, 16) for h in line.split()[1:]], dtype=np.uint32).view(np.float32)


def host_int8_round_trip(x: np.ndarray, scale: float, zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """What the host engine computes (export/litert/interpreter.py TensorSpec.encode, then .decode)
    for a model whose output bytes are its input bytes."""
    s_in, s_out = np.float32(scale), np.float32(out_scale)
    q = np.clip(np.round(x.astype(np.float32) / s_in) + zp, -128, 127).astype(np.int8)
    return ((q.astype(np.float32) - out_zp) * s_out).astype(np.float32)


@needs_jdk
def test_int8_input_and_output_are_converted_as_the_host_converts_them(classes):
    scale, zp, out_scale, out_zp = 0.0625, -3, 0.015625, 5
    # ties (x / scale = k + 0.5) round to even, values past the int8 range clamp
    x = np.array([0.03125, 0.09375, -0.03125, -0.15625, 1.0, -1.7, 9.0, -9.0, 0.1, 2.46], dtype=np.float32)
    lines = run_engine(
        classes, x, in_type="INT8", in_scale=scale, in_zp=zp, out_type="INT8", out_scale=out_scale, out_zp=out_zp
    )
    assert lines[0] == "options threads=3 xnnpack=true"
    got = floats(lines[-1])
    np.testing.assert_array_equal(got, host_int8_round_trip(x, scale, zp, out_scale, out_zp))
    half_up = ((np.floor(x / np.float32(scale) + 0.5) + zp).clip(-128, 127) - out_zp) * np.float32(out_scale)
    assert not np.array_equal(got, half_up.astype(np.float32))  # the ties tell the two roundings apart


@needs_jdk
def test_a_float_model_returns_what_it_wrote(classes):
    x = np.random.default_rng(5).standard_normal(7).astype(np.float32)
    lines = run_engine(classes, x, in_type="FLOAT32", out_type="FLOAT32")
    np.testing.assert_array_equal(floats(lines[-1]), x)


@needs_jdk
@pytest.mark.parametrize(
    "model,props,expected",
    [
        ("bad.tflite", {}, "failure model_load_failed: cannot load bad.tflite: Model provided has model identifier"),
        ("m.tflite", {"inputs": 2}, "failure model_load_failed: cannot load m.tflite: it takes 2 inputs"),
        ("m.tflite", {"in_type": "INT32"}, "failure model_load_failed: cannot load m.tflite: its input is INT32"),
        ("m.tflite", {"numel": 5}, "failure inference_failed: m.tflite failed on input [1, 4]"),
        (
            "m.tflite",
            {"in_type": "INT8", "in_scale": 0.5, "numel": 5},
            "failure inference_failed: m.tflite failed on input [1, 4]: the model takes 5 values",
        ),
        ("m.tflite", {"nolib": "true"}, "failure runtime_load_failed: cannot load the litert runtime: dlopen failed"),
    ],
)
def test_refusals_become_the_protocol_codes(classes, model, props, expected):
    x = np.zeros(4, dtype=np.float32)
    lines = run_engine(classes, x, model, **{"in_type": "FLOAT32", "out_type": "FLOAT32", **props})
    assert lines[-1].startswith(expected), lines
