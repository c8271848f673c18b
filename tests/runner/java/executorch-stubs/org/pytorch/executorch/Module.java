// Compile-only stub of the org.pytorch:executorch-android 1.4.0 Java API the runner uses (Kotlin
// sources; these are the signatures Java sees). Bodies are never run.
package org.pytorch.executorch;

public class Module {
    public static final int LOAD_MODE_FILE = 0;
    public static Module load(String modelPath, int loadMode, int numThreads) { throw new RuntimeException("stub"); }
    public EValue[] forward(EValue... inputs) { throw new RuntimeException("stub"); }
    public void loadMethod(String methodName) {}
    public void destroy() {}
}
