// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.system;

public final class OsConstants {
    public static final int _SC_PAGESIZE = Integer.parseInt("0");
}
