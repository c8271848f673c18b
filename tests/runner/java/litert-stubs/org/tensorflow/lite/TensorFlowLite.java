// Compile-only stub of org.tensorflow.lite.TensorFlowLite (com.google.ai.edge.litert:litert 2.3.0):
// init() loads the native library (libLiteRt.so) or throws UnsatisfiedLinkError.
package org.tensorflow.lite;

public final class TensorFlowLite {
    private TensorFlowLite() {}
    public static void init() {}
}
