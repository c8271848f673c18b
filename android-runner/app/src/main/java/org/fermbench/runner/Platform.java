package org.fermbench.runner;

import java.io.File;
import java.util.List;
import java.util.Map;

/** What the runner reads from the system it runs on (Android, or a fake on the JVM for tests). */
interface Platform {
    String runnerVersion();

    /** pss_kb, rss_kb, native_heap_kb, peak_rss_kb (Long or null). */
    Map<String, Object> memory();

    /** Where memory() reads its numbers, reported as memory_source. */
    String memorySource();

    /** thermal_status, thermal_status_name, battery_temp_c, battery_level_pct, charging, note. */
    Map<String, Object> environment();

    /** Hold the foreground for a measured run (Android: the opaque isolation activity). Never throws. */
    void enterForeground();

    /**
     * isolation_activity, importance, importance_name, sustained_performance_supported,
     * sustained_performance_enabled, note: read just before a timed loop.
     */
    Map<String, Object> foreground();

    void leaveForeground();

    /**
     * Counters read just before and just after the timed loop, keyed by the row of the host's metric
     * table (harness/fermbench/measures/metrics.py) that their growth goes to: gc_count_timed (garbage
     * collections so far), native_heap_growth_timed (native heap bytes allocated now). A null value:
     * the platform cannot count it. A new loop metric is one entry here and one row there.
     */
    Map<String, Long> loopCounters();

    /** Raise the calling thread's priority for a measured loop; the priority (nice) it then has, or null. */
    Integer raiseThreadPriority();

    /** Put back the priority raiseThreadPriority changed (nothing if it changed none). */
    void restoreThreadPriority();

    Map<String, Object> deviceFacts();

    List<String> abis();

    Boolean debuggable();

    int cpuCount();

    /** The OS page size in bytes (16384 on 16 KB-page devices). */
    long pageSize();

    /** The folder for result files (API 29+: the app's media folder; older: its external files folder). */
    File resultsDir() throws RunnerFailure;
}
