// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

public class BatteryManager {
    public static final String EXTRA_TEMPERATURE = "temperature";
    public static final String EXTRA_LEVEL = "level";
    public static final String EXTRA_SCALE = "scale";
    public static final String EXTRA_PLUGGED = "plugged";
}
