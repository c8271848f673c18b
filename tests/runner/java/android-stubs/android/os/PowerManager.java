// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

public final class PowerManager {
    public int getCurrentThermalStatus() { throw new RuntimeException("stub"); }
    public boolean isSustainedPerformanceModeSupported() { throw new RuntimeException("stub"); }
}
