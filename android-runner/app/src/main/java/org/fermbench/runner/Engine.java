package org.fermbench.runner;

import java.nio.FloatBuffer;

/**
 * One inference runtime. The pytorchLite flavor implements it with org.pytorch; an executorch
 * flavor would bring its own implementation (one APK per runtime: their native libraries clash).
 */
interface Engine {
    String name();

    String version();

    int bytecodeMin();

    int bytecodeMax();

    void setThreads(int threads);

    /** Load the model; the runtime's refusal becomes model_load_failed with its own message. */
    void load(String path) throws RunnerFailure;

    /**
     * Allocate the input once: a direct float buffer of the shape's size, wrapped by the runtime's
     * tensor. The caller fills the buffer in place; run() reads it. Nothing is allocated per run.
     */
    FloatBuffer allocateInput(long[] shape);

    /** One forward on the allocated input; the output is kept for lastOutput(). */
    void run() throws RunnerFailure;

    /** The last output as floats (allocates: call outside timed loops). */
    float[] lastOutput() throws RunnerFailure;
}
