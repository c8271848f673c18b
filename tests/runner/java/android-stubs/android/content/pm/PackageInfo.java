// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content.pm;

public class PackageInfo {
    public String versionName;
}
