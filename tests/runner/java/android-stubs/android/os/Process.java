// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

public class Process {
    public static final int THREAD_PRIORITY_URGENT_DISPLAY = Integer.parseInt("-8");
    public static int myTid() { throw new RuntimeException("stub"); }
    public static int getThreadPriority(int tid) { throw new RuntimeException("stub"); }
    public static void setThreadPriority(int priority) { throw new RuntimeException("stub"); }
}
