// Compile-only stub of the com.google.ai.edge.litert:litert 2.3.0 Interpreter API the runner uses
// (org.tensorflow.lite, CPU only in the 2.x AARs). Signatures only; bodies are never run.
package org.tensorflow.lite;

import java.io.File;

public final class Interpreter implements AutoCloseable {
    public static class Options {
        public Options() {}
        public Options setNumThreads(int numThreads) { return this; }
        public Options setUseXNNPACK(boolean useXNNPACK) { return this; }
    }

    public Interpreter(File modelFile, Options options) { throw new RuntimeException("stub"); }
    public void allocateTensors() {}
    public int getInputTensorCount() { return 0; }
    public int getOutputTensorCount() { return 0; }
    public Tensor getInputTensor(int inputIndex) { throw new RuntimeException("stub"); }
    public Tensor getOutputTensor(int outputIndex) { throw new RuntimeException("stub"); }
    public void run(Object input, Object output) {}
    @Override
    public void close() {}
}
