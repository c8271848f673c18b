package org.fermbench.runner;

import java.io.File;
import java.util.List;
import java.util.Map;

/** What the runner reads from the system it runs on (Android, or a fake on the JVM for tests). */
interface Platform {
    String runnerVersion();

    /** pss_kb, rss_kb, native_heap_kb (Long or null). */
    Map<String, Object> memory();

    /** Where memory() reads its numbers, reported as memory_source. */
    String memorySource();

    /** thermal_status, thermal_status_name, battery_temp_c, battery_level_pct, charging, note. */
    Map<String, Object> environment();

    Map<String, Object> deviceFacts();

    List<String> abis();

    Boolean debuggable();

    int cpuCount();

    /** The folder for result files (under the app's external files folder). */
    File resultsDir() throws RunnerFailure;
}
