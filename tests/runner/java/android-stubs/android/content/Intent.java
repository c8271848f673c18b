// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content;

public class Intent {
    public static final String ACTION_BATTERY_CHANGED = "android.intent.action.BATTERY_CHANGED";
    public int getIntExtra(String name, int defaultValue) { throw new RuntimeException("stub"); }
}
