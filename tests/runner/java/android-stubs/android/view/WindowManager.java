// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.view;

public interface WindowManager {
    class LayoutParams {
        public static final int FLAG_KEEP_SCREEN_ON = 0x00000080;
        public static final int FLAG_SHOW_WHEN_LOCKED = 0x00080000;
        public static final int FLAG_TURN_SCREEN_ON = 0x00200000;
    }
}
