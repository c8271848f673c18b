// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

public final class Debug {
    public static long getNativeHeapAllocatedSize() { throw new RuntimeException("stub"); }
    public static void getMemoryInfo(MemoryInfo memoryInfo) {}
    public static String getRuntimeStat(String statName) { throw new RuntimeException("stub"); }

    public static class MemoryInfo {
        public MemoryInfo() {}
        public int getTotalPss() { throw new RuntimeException("stub"); }
    }
}
