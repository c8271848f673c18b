// Compile-only stub of the org.pytorch:pytorch_android_lite 2.1.0 Java API the runner uses.
package org.pytorch;

public class IValue {
    public static IValue from(Tensor tensor) { throw new RuntimeException("stub"); }
    public boolean isTensor() { throw new RuntimeException("stub"); }
    public Tensor toTensor() { throw new RuntimeException("stub"); }
}
