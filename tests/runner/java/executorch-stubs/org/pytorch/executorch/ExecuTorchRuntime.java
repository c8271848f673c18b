// Compile-only stub of the org.pytorch:executorch-android 1.4.0 Java API the runner uses (Kotlin
// sources; these are the signatures Java sees). Bodies are never run.
package org.pytorch.executorch;

public class ExecuTorchRuntime {
    public static ExecuTorchRuntime getRuntime() { throw new RuntimeException("stub"); }
}
