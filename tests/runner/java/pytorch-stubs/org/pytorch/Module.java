// Compile-only stub of the org.pytorch:pytorch_android_lite 2.1.0 Java API the runner uses.
package org.pytorch;

public class Module {
    public IValue forward(IValue... inputs) { throw new RuntimeException("stub"); }
    public void destroy() {}
}
