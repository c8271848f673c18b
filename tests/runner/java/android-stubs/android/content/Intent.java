// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content;

public class Intent {
    public static final String ACTION_BATTERY_CHANGED = "android.intent.action.BATTERY_CHANGED";
    public static final int FLAG_ACTIVITY_NEW_TASK = 0x10000000;
    public Intent(Context packageContext, Class<?> cls) {}
    public Intent addFlags(int flags) { throw new RuntimeException("stub"); }
    public int getIntExtra(String name, int defaultValue) { throw new RuntimeException("stub"); }
}
