package org.fermbench.runner;

import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.List;
import org.pytorch.IValue;
import org.pytorch.LiteModuleLoader;
import org.pytorch.Module;
import org.pytorch.PyTorchAndroid;
import org.pytorch.Tensor;

/** org.pytorch:pytorch_android_lite: the lite interpreter that torch.jit.mobile runs on the host. */
final class PytorchLiteEngine implements Engine {
    // Keep in step with the dependency in app/build.gradle.kts.
    static final String VERSION = "2.1.0";
    private static boolean runtimeLoaded; // the native library stays loaded for the process's life

    private Module module;
    private String path;
    private IValue input;
    private long[] shape;
    private IValue output;

    @Override
    public String name() {
        return "pytorch_lite";
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public String modelFormat() {
        return "ptl";
    }

    // pytorch_android_lite 2.1.0 reads lite-interpreter bytecode versions 4 to 9.
    @Override
    public Integer bytecodeMin() {
        return 4;
    }

    @Override
    public Integer bytecodeMax() {
        return 9;
    }

    @Override
    public List<String> pteIdentifiers() {
        return Collections.emptyList();
    }

    /** PyTorchAndroid's first use loads libpytorch_jni_lite.so (and fbjni, c++_shared) through its static initialiser. */
    @Override
    public boolean loadRuntime(int threads) throws RunnerFailure {
        boolean preloaded = runtimeLoaded;
        try {
            PyTorchAndroid.setNumThreads(threads);
        } catch (LinkageError e) { // 4 KB-aligned libraries on a 16 KB-page device, a missing ABI
            throw new RunnerFailure("runtime_load_failed", "cannot load the " + name() + " runtime: " + RunnerFailure.firstLine(e));
        }
        runtimeLoaded = true;
        return preloaded;
    }

    @Override
    public void load(String path) throws RunnerFailure {
        this.path = path;
        try {
            module = LiteModuleLoader.load(path);
        } catch (RuntimeException e) { // the runtime's message names the reason (bytecode version, corrupt file)
            throw RunnerFailure.from("model_load_failed", "cannot load " + path, e);
        }
    }

    @Override
    public FloatBuffer allocateInput(long[] shape) {
        long numel = 1;
        for (long d : shape) numel *= d;
        FloatBuffer buffer = Tensor.allocateFloatBuffer((int) numel);
        this.shape = shape.clone();
        // fromBlob(FloatBuffer, ...) wraps the direct buffer without copying: refilling it in place
        // changes the next forward's input, and the loop creates no tensor of its own.
        input = IValue.from(Tensor.fromBlob(buffer, shape));
        return buffer;
    }

    @Override
    public void run() throws RunnerFailure {
        try {
            output = module.forward(input);
        } catch (RuntimeException e) {
            throw RunnerFailure.from("inference_failed", path + " failed on input " + java.util.Arrays.toString(shape), e);
        }
    }

    @Override
    public float[] lastOutput() throws RunnerFailure {
        if (output == null || !output.isTensor()) {
            throw new RunnerFailure("inference_failed", path + " did not return one tensor of logits");
        }
        return output.toTensor().getDataAsFloatArray();
    }
}
