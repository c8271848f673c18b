// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content;

public class IntentFilter {
    public IntentFilter(String action) {}
}
