// Compile-only stub of the org.pytorch:pytorch_android_lite 2.1.0 Java API the runner uses.
package org.pytorch;

public final class PyTorchAndroid {
    public static void setNumThreads(int numThreads) {}
}
