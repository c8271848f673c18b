// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.app;

public class Activity {
    public static final int RESULT_OK = -1;
    public static final int RESULT_CANCELED = 0;
}
