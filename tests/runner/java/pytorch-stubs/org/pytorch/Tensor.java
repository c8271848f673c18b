// Compile-only stub of the org.pytorch:pytorch_android_lite 2.1.0 Java API the runner uses.
package org.pytorch;

import java.nio.FloatBuffer;

public abstract class Tensor {
    public static FloatBuffer allocateFloatBuffer(int numElements) { throw new RuntimeException("stub"); }
    public static Tensor fromBlob(FloatBuffer data, long[] shape) { throw new RuntimeException("stub"); }
    public static Tensor fromBlob(float[] data, long[] shape) { throw new RuntimeException("stub"); }
    public long[] shape() { throw new RuntimeException("stub"); }
    public float[] getDataAsFloatArray() { throw new RuntimeException("stub"); }
}
