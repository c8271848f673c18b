package org.fermbench.runner;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;
import org.tensorflow.lite.TensorFlowLite;

/**
 * com.google.ai.edge.litert:litert: a .tflite model on LiteRT's interpreter with the XNNPACK
 * delegate, the interpreter that ai-edge-litert runs on the host (runner/litert_engine.py). The
 * Interpreter API rather than CompiledModel: it is the host's API, so both run one code path, and
 * it takes the XNNPACK switch and the thread count explicitly.
 *
 * <p>The input is the model's own: float32 in PyTorch's NCHW layout (litert-torch keeps it). An int8
 * file from litert-torch takes and returns int8 tensors, so run() quantises the float input with the
 * input tensor's scale and zero point (what the host engine does in its forward) and lastOutput()
 * dequantises the logits.
 */
final class LiteRtEngine implements Engine {
    // Keep in step with the dependency in app/build.gradle.kts.
    static final String VERSION = "2.3.0";
    private static boolean runtimeLoaded; // the native library stays loaded for the process's life

    private int threads;
    private Interpreter interpreter;
    private String path;
    private long[] shape;
    private ByteBuffer inputBytes; // what the caller's FloatBuffer writes to: float32, native order
    private FloatBuffer input;
    private ByteBuffer quantized; // an int8 model's input, refilled from `input` by each run()
    private float inScale;
    private int inZeroPoint;
    private ByteBuffer output; // the interpreter copies its output here on every run()
    private DataType outType;
    private float outScale;
    private int outZeroPoint;
    private boolean ran;

    @Override
    public String name() {
        return "litert";
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public String modelFormat() {
        return "tflite";
    }

    @Override
    public Integer bytecodeMin() {
        return null;
    }

    @Override
    public Integer bytecodeMax() {
        return null;
    }

    @Override
    public List<String> pteIdentifiers() {
        return Collections.emptyList();
    }

    /** TensorFlowLite.init() loads libLiteRt.so, or throws why it did not; threads go to load(). */
    @Override
    public boolean loadRuntime(int threads) throws RunnerFailure {
        boolean preloaded = runtimeLoaded;
        this.threads = threads;
        try {
            TensorFlowLite.init();
        } catch (LinkageError e) { // a 4 KB-aligned library on a 16 KB-page device, a missing ABI
            throw new RunnerFailure("runtime_load_failed", "cannot load the " + name() + " runtime: " + RunnerFailure.firstLine(e));
        }
        runtimeLoaded = true;
        return preloaded;
    }

    /**
     * Builds the interpreter and allocates its tensors, which applies XNNPACK: the model load time
     * covers both, so the first run does no loading. Refuses a model that is not one image in and
     * one tensor of logits out, or whose tensor types the runner cannot feed or read.
     */
    @Override
    public void load(String path) throws RunnerFailure {
        this.path = path;
        Interpreter.Options options = new Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true);
        Tensor in;
        Tensor out;
        try {
            interpreter = new Interpreter(new File(path), options);
            interpreter.allocateTensors();
            if (interpreter.getInputTensorCount() != 1 || interpreter.getOutputTensorCount() != 1) {
                throw new RunnerFailure("model_load_failed", "cannot load " + path + ": it takes "
                        + interpreter.getInputTensorCount() + " inputs and returns " + interpreter.getOutputTensorCount()
                        + " outputs, the runner feeds one image and reads one tensor of logits");
            }
            in = interpreter.getInputTensor(0);
            out = interpreter.getOutputTensor(0);
        } catch (RuntimeException e) { // IllegalArgumentException: not a model, an unsupported operator
            throw RunnerFailure.from("model_load_failed", "cannot load " + path, e);
        }
        DataType inType = in.dataType();
        outType = out.dataType();
        for (DataType type : new DataType[] {inType, outType}) {
            if (type != DataType.FLOAT32 && type != DataType.INT8) {
                throw new RunnerFailure("model_load_failed", "cannot load " + path + ": its input is " + inType
                        + " and its output " + outType + "; the runner reads float32 and int8 models");
            }
        }
        if (inType == DataType.INT8) {
            inScale = in.quantizationParams().getScale();
            inZeroPoint = in.quantizationParams().getZeroPoint();
            quantized = ByteBuffer.allocateDirect(in.numElements()).order(ByteOrder.nativeOrder());
        }
        outScale = out.quantizationParams().getScale();
        outZeroPoint = out.quantizationParams().getZeroPoint();
        output = ByteBuffer.allocateDirect(out.numBytes()).order(ByteOrder.nativeOrder());
    }

    @Override
    public FloatBuffer allocateInput(long[] shape) {
        long numel = 1;
        for (long d : shape) numel *= d;
        this.shape = shape.clone();
        // A direct buffer in native order: the interpreter copies it into its input tensor with one
        // memcpy. The caller's FloatBuffer is a view of it, so refilling it changes the next run.
        inputBytes = ByteBuffer.allocateDirect((int) numel * 4).order(ByteOrder.nativeOrder());
        input = inputBytes.asFloatBuffer();
        return input;
    }

    /**
     * One forward: the input copied into the model (quantised first for an int8 model), invoked,
     * and its output copied into the buffer made at load, as the other runtimes hand back a new
     * output on each forward. Nothing is allocated here.
     */
    @Override
    public void run() throws RunnerFailure {
        ByteBuffer feed = inputBytes;
        if (quantized != null) {
            if (input.capacity() != quantized.capacity()) { // the interpreter checks only the int8 bytes
                throw new RunnerFailure("inference_failed", path + " failed on input " + Arrays.toString(shape)
                        + ": the model takes " + quantized.capacity() + " values");
            }
            quantize();
            feed = quantized;
        }
        feed.rewind();
        output.rewind();
        try {
            interpreter.run(feed, output);
        } catch (RuntimeException e) { // IllegalArgumentException for an input of the wrong size
            throw RunnerFailure.from("inference_failed", path + " failed on input " + Arrays.toString(shape), e);
        }
        ran = true;
    }

    /** round(x / scale) + zero point, clamped to int8; Math.rint rounds half to even, as numpy does. */
    private void quantize() {
        for (int i = 0; i < quantized.capacity(); i++) {
            double q = Math.rint(input.get(i) / inScale) + inZeroPoint;
            quantized.put(i, (byte) Math.max(-128, Math.min(127, (int) q)));
        }
    }

    @Override
    public float[] lastOutput() throws RunnerFailure {
        if (!ran) {
            throw new RunnerFailure("inference_failed", path + " did not return one tensor of logits");
        }
        if (outType == DataType.FLOAT32) {
            float[] logits = new float[output.capacity() / 4];
            output.rewind();
            output.asFloatBuffer().get(logits);
            return logits;
        }
        float[] logits = new float[output.capacity()];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (output.get(i) - outZeroPoint) * outScale; // float32, as the host dequantises
        }
        return logits;
    }
}
