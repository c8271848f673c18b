// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.app;

public class ActivityManager {
    public static void getMyMemoryState(RunningAppProcessInfo outState) {}

    public static class RunningAppProcessInfo {
        public static final int IMPORTANCE_FOREGROUND = 100;
        public static final int IMPORTANCE_FOREGROUND_SERVICE = 125;
        public static final int IMPORTANCE_VISIBLE = 200;
        public static final int IMPORTANCE_PERCEPTIBLE = 230;
        public static final int IMPORTANCE_SERVICE = 300;
        public static final int IMPORTANCE_CACHED = 400;
        public static final int IMPORTANCE_GONE = 1000;
        public int importance;

        public RunningAppProcessInfo() {}
    }
}
