// Compile-only stub of the org.pytorch:executorch-android 1.4.0 Java API the runner uses (Kotlin
// sources; these are the signatures Java sees). Bodies are never run.
package org.pytorch.executorch;

public class EValue {
    public static EValue from(Tensor tensor) { throw new RuntimeException("stub"); }
    public boolean isTensor() { throw new RuntimeException("stub"); }
    public Tensor toTensor() { throw new RuntimeException("stub"); }
}
