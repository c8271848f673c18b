// Runs the runner's platform-free core (Benchmark, RunSettings, Json, ImagesFile) on a desktop JVM
// with a fake engine, printing what `am instrument -r` would print, so the Python tests can check
// that the Java runner speaks the same protocol as the host runner.
package org.fermbench.runner;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public final class JvmMain {
    /** A "model" whose logits are two input elements added: logit k = x[(97k) % n] + x[(13k + 5) % n]. */
    static final class FakeEngine implements Engine {
        private static boolean runtimeLoaded;
        private FloatBuffer input;
        private int numel;
        private float[] out;

        public String name() { return "fake"; }
        public String version() { return "0"; }
        public String modelFormat() { return "ptl"; }
        public Integer bytecodeMin() { return 4; }
        public Integer bytecodeMax() { return 9; }
        public List<String> pteIdentifiers() { return Collections.emptyList(); }

        public boolean loadRuntime(int threads) {
            boolean preloaded = runtimeLoaded;
            runtimeLoaded = true;
            return preloaded;
        }

        public void load(String path) throws RunnerFailure {
            try (BufferedReader in = new BufferedReader(new FileReader(path))) {
                String first = in.readLine();
                if (first != null && first.startsWith("BAD")) {
                    throw RunnerFailure.from("model_load_failed", "cannot load " + path, new RuntimeException(
                            "Lite Interpreter version number does not match. The model version must be between 4 and 9 but the model version is 10\n"
                                    + "Exception raised from parseMethods at ../torch/csrc/jit/mobile/import.cpp:311"));
                }
            } catch (IOException e) {
                throw new RunnerFailure("model_load_failed", e.toString());
            }
        }

        public FloatBuffer allocateInput(long[] shape) {
            numel = 1;
            for (long d : shape) numel *= (int) d;
            input = FloatBuffer.allocate(numel);
            out = new float[7];
            return input;
        }

        public void run() {
            for (int k = 0; k < 7; k++) out[k] = input.get((97 * k) % numel) + input.get((13 * k + 5) % numel);
        }

        public float[] lastOutput() { return out.clone(); }
    }

    static final class FakePlatform implements Platform {
        private final File results;
        boolean foregroundHeld; // what an isolation activity would be: held from enter to leave

        FakePlatform(File results) { this.results = results; }

        public String runnerVersion() { return "jvm-test"; }

        public Map<String, Object> memory() {
            Map<String, Object> m = new TreeMap<>();
            m.put("pss_kb", null);
            m.put("rss_kb", null);
            m.put("native_heap_kb", (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1024);
            m.put("peak_rss_kb", null);
            return m;
        }

        int raised; // raiseThreadPriority calls not yet restored
        public Map<String, Long> loopCounters() {
            long n = 0;
            for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
            Map<String, Long> counters = new TreeMap<>();
            counters.put("gc_count_timed", n);
            counters.put("native_heap_growth_timed", null); // the JVM has no native heap figure: not counted
            return counters;
        }
        public Integer raiseThreadPriority() { raised++; return -8; }
        public void restoreThreadPriority() { raised--; }

        public void enterForeground() { foregroundHeld = true; }
        public void leaveForeground() { foregroundHeld = false; }

        public Map<String, Object> foreground() {
            Map<String, Object> f = new TreeMap<>();
            f.put("isolation_activity", foregroundHeld);
            f.put("importance", foregroundHeld ? 100 : 400);
            f.put("importance_name", foregroundHeld ? "foreground" : "cached");
            f.put("sustained_performance_supported", false);
            f.put("sustained_performance_enabled", false);
            f.put("note", "jvm test");
            return f;
        }

        public long pageSize() { return 4096; }

        public String memorySource() { return "JVM heap (test)"; }

        public Map<String, Object> environment() {
            Map<String, Object> env = new TreeMap<>();
            for (String k : new String[] {"thermal_status", "thermal_status_name", "battery_temp_c", "battery_level_pct", "charging"}) env.put(k, null);
            env.put("note", "jvm test");
            return env;
        }

        public Map<String, Object> deviceFacts() {
            Map<String, Object> d = new TreeMap<>();
            d.put("model", "JVM \"test\"\n\u00e9"); // quotes, newline and non-ASCII exercise the JSON writer
            d.put("sdk_int", 0);
            d.put("is_emulator", true);
            return d;
        }

        public List<String> abis() { return Arrays.asList("jvm"); }
        public Boolean debuggable() { return null; }
        public int cpuCount() { return 1; }
        public File resultsDir() { return results; }
    }

    /** args: results dir, then one request per line of the requests file ("key=value key=value"). */
    public static void main(String[] args) throws IOException {
        File results = new File(args[0]);
        try (BufferedReader in = new BufferedReader(new FileReader(args[1]))) {
            String line;
            while ((line = in.readLine()) != null) {
                Map<String, String> extras = new TreeMap<>();
                for (String pair : line.trim().split(" ")) {
                    if (pair.isEmpty()) continue;
                    int eq = pair.indexOf('=');
                    extras.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                Reporter reporter = new Reporter() {
                    public void status(int code, Map<String, String> values) {
                        for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
                            System.out.println("INSTRUMENTATION_STATUS: " + e.getKey() + "=" + e.getValue());
                        }
                        System.out.println("INSTRUMENTATION_STATUS_CODE: " + code);
                    }
                };
                FakePlatform platform = new FakePlatform(results);
                String outcome = new Benchmark(new FakeEngine(), platform, reporter).run(extras);
                System.out.println("INSTRUMENTATION_RESULT: fermbench_status=" + outcome);
                System.out.println("INSTRUMENTATION_CODE: -1");
                System.out.println("JVM_FOREGROUND_HELD_AFTER: " + platform.foregroundHeld);
                System.out.println("JVM_PRIORITY_RAISED_AFTER: " + platform.raised);
                System.out.println("=== end of request");
            }
        }
    }
}
