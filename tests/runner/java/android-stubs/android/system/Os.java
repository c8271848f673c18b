// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.system;

public final class Os {
    public static long sysconf(int name) { throw new RuntimeException("stub"); }
}
