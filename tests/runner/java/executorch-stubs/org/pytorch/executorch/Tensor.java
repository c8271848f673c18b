// Compile-only stub of the org.pytorch:executorch-android 1.4.0 Java API the runner uses (Kotlin
// sources; these are the signatures Java sees). Bodies are never run.
package org.pytorch.executorch;

import java.nio.FloatBuffer;

public abstract class Tensor {
    public static FloatBuffer allocateFloatBuffer(int numElements) { throw new RuntimeException("stub"); }
    public static Tensor fromBlob(FloatBuffer data, long[] shape) { throw new RuntimeException("stub"); }
    public float[] getDataAsFloatArray() { throw new RuntimeException("stub"); }
}
