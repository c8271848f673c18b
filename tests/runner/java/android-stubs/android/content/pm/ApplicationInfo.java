// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content.pm;

public class ApplicationInfo {
    public static final int FLAG_DEBUGGABLE = 1 << 1;
    public int flags;
}
