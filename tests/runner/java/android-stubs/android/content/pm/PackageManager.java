// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content.pm;

public abstract class PackageManager {
    public abstract PackageInfo getPackageInfo(String packageName, int flags) throws NameNotFoundException;

    public static class NameNotFoundException extends Exception {
        private static final long serialVersionUID = 1L;
        public NameNotFoundException() {}
    }
}
