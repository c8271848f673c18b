package org.fermbench.runner;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * One inference runtime. Each product flavor of the "runtime" dimension brings its own (one APK per
 * runtime: their native libraries clash): pytorchLite runs .ptl files with org.pytorch, executorch
 * runs .pte files with org.pytorch.executorch. The host runner's engines (runner/engines.py) mirror it.
 */
interface Engine {
    /** runtime_name: pytorch_lite or executorch. */
    String name();

    String version();

    /** The file the runtime reads: ptl or pte. */
    String modelFormat();

    /** Lite-interpreter bytecode versions read; null for a runtime that reads no .ptl. */
    Integer bytecodeMin();

    Integer bytecodeMax();

    /** The .pte program identifiers read (bytes 4-7 of the file, e.g. ET12); empty for Lite. */
    List<String> pteIdentifiers();

    /**
     * Load the runtime's native library and set its threads (timed as runtime_load_ns). Returns true
     * when the library was already loaded in this process. A library that does not load (a 4 KB-aligned
     * one on a 16 KB-page device) is runtime_load_failed.
     */
    boolean loadRuntime(int threads) throws RunnerFailure;

    /** Load the model; the runtime's refusal becomes model_load_failed with its own message. */
    void load(String path) throws RunnerFailure;

    /**
     * Allocate the input once: a direct float buffer of the shape's size, wrapped by the runtime's
     * tensor. The caller fills the buffer in place; run() reads it. Nothing is allocated per run
     * by the runner (the runtime allocates its output).
     */
    FloatBuffer allocateInput(long[] shape);

    /** One forward on the allocated input; the output is kept for lastOutput(). */
    void run() throws RunnerFailure;

    /** The last output as floats (allocates: call outside timed loops). */
    float[] lastOutput() throws RunnerFailure;
}
