package org.fermbench.runner;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.charset.Charset;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.ExecuTorchRuntime;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/**
 * org.pytorch:executorch-android: an ExecuTorch program (.pte) with the XNNPACK delegate, the
 * runtime that executorch.runtime runs on the host. Module.load reads the whole file (LOAD_MODE_FILE,
 * as ExecuTorch's own benchmark app does) and loadMethod("forward") prepares the method, so the
 * model load time covers both and the first forward does no loading.
 */
final class ExecutorchEngine implements Engine {
    // Keep in step with the dependency in app/build.gradle.kts.
    static final String VERSION = "1.4.0";
    // The flatbuffer file identifier of the programs this release reads (schema/program.fbs).
    static final List<String> PTE_IDENTIFIERS = Collections.singletonList("ET12");
    private static boolean runtimeLoaded; // the native library stays loaded for the process's life

    private int threads;
    private Module module;
    private String path;
    private EValue input;
    private long[] shape;
    private EValue[] output;

    @Override
    public String name() {
        return "executorch";
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public String modelFormat() {
        return "pte";
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
        return PTE_IDENTIFIERS;
    }

    /** ExecuTorchRuntime's first use loads libexecutorch.so; the thread count goes to Module.load. */
    @Override
    public boolean loadRuntime(int threads) throws RunnerFailure {
        boolean preloaded = runtimeLoaded;
        this.threads = threads;
        try {
            ExecuTorchRuntime.getRuntime();
        } catch (LinkageError e) {
            throw new RunnerFailure("runtime_load_failed", "cannot load the " + name() + " runtime: " + RunnerFailure.firstLine(e));
        }
        runtimeLoaded = true;
        return preloaded;
    }

    @Override
    public void load(String path) throws RunnerFailure {
        this.path = path;
        String identifier = identifier(path);
        if (!PTE_IDENTIFIERS.contains(identifier)) { // the runtime would only log why it refuses the file
            throw new RunnerFailure("model_load_failed", "cannot load " + path + ": program identifier '" + identifier
                    + "' is not one ExecuTorch " + VERSION + " reads (" + PTE_IDENTIFIERS.get(0)
                    + "): export it with this runtime's executorch version");
        }
        try {
            module = Module.load(path, Module.LOAD_MODE_FILE, threads);
            module.loadMethod("forward");
        } catch (RuntimeException e) { // ExecutorchRuntimeException carries the runtime's error code
            throw RunnerFailure.from("model_load_failed", "cannot load " + path, e);
        }
    }

    /** Bytes 4-7 of a .pte: its flatbuffer file identifier. */
    private static String identifier(String path) throws RunnerFailure {
        byte[] head = new byte[8];
        int n = 0;
        try (InputStream in = new FileInputStream(path)) {
            int got;
            while (n < head.length && (got = in.read(head, n, head.length - n)) > 0) n += got;
        } catch (IOException e) {
            throw new RunnerFailure("model_missing", "cannot read model file " + path + ": " + e.getMessage());
        }
        return n < head.length ? "" : new String(head, 4, 4, Charset.forName("US-ASCII"));
    }

    @Override
    public FloatBuffer allocateInput(long[] shape) {
        long numel = 1;
        for (long d : shape) numel *= d;
        FloatBuffer buffer = Tensor.allocateFloatBuffer((int) numel);
        this.shape = shape.clone();
        // fromBlob(FloatBuffer, ...) wraps the direct buffer without copying: refilling it in place
        // changes the next forward's input.
        input = EValue.from(Tensor.fromBlob(buffer, shape));
        return buffer;
    }

    @Override
    public void run() throws RunnerFailure {
        try {
            output = module.forward(input);
        } catch (RuntimeException e) {
            throw RunnerFailure.from("inference_failed", path + " failed on input " + Arrays.toString(shape), e);
        }
    }

    @Override
    public float[] lastOutput() throws RunnerFailure {
        if (output == null || output.length != 1 || !output[0].isTensor()) {
            throw new RunnerFailure("inference_failed", path + " did not return one tensor of logits");
        }
        return output[0].toTensor().getDataAsFloatArray();
    }
}
