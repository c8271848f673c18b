package org.fermbench.runner;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.charset.Charset;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The three modes of PROTOCOL.md, independent of Android: an Engine runs the model, a Platform
 * reads the system, a Reporter sends status bundles. BenchmarkInstrumentation wires them up.
 */
final class Benchmark {
    // Same constants as fermbench.labels (FER-2013 train statistics) for the latency input.
    static final float LATENCY_MEAN = 0.5077f;
    static final float LATENCY_STD = 0.2550f;
    static final String STOP_COUNT_AND_TIME = "count_and_time";
    static final String STOP_MAX_RUNS = "max_runs";
    static final String STOP_MAX_S = "max_s";
    static final String STOP_PRECISION = "precision";
    static final int STATUS_PROGRESS = 1;
    static final int STATUS_RESULT = 0;
    static final int STATUS_ERROR = -2;
    private static final Charset UTF8 = Charset.forName("UTF-8");

    private final Engine engine;
    private final Platform platform;
    private final Reporter reporter;

    Benchmark(Engine engine, Platform platform, Reporter reporter) {
        this.engine = engine;
        this.platform = platform;
        this.reporter = reporter;
    }

    /** Runs one request and reports its result or coded error; returns "ok" or "error". */
    String run(Map<String, String> extras) {
        boolean holdsForeground = false;
        try {
            RunSettings s = RunSettings.parse(extras);
            Map<String, Object> result;
            if (s.mode.equals("info")) {
                result = info(s);
            } else { // a measured run: keep the process the top app, as AndroidX Benchmark does
                platform.enterForeground();
                holdsForeground = true;
                result = s.mode.equals("latency") ? latency(s) : classify(s);
            }
            deliver(s, result);
            return "ok";
        } catch (RunnerFailure f) {
            error(f.code, f.getMessage());
        } catch (OutOfMemoryError e) {
            error("out_of_memory", "out of memory: " + e.getMessage());
        } catch (RuntimeException e) { // a bug in the runner: still a coded answer, never a hang
            error("internal", e.getClass().getSimpleName() + ": " + RunnerFailure.firstLine(e));
        } finally {
            if (holdsForeground) platform.leaveForeground();
        }
        return "error";
    }

    // ------------------------------------------------------------------ reporting

    private void status(int code, Map<String, String> values) {
        values.put("id", "fermbench");
        values.put("fermbench_protocol", String.valueOf(RunSettings.PROTOCOL_VERSION));
        reporter.status(code, values);
    }

    private void phase(String name) {
        Map<String, String> v = new TreeMap<>();
        v.put("fermbench_phase", name);
        status(STATUS_PROGRESS, v);
    }

    private void error(String code, String message) {
        Map<String, String> v = new TreeMap<>();
        v.put("fermbench_error_code", code);
        v.put("fermbench_error_message", message == null ? "" : message);
        status(STATUS_ERROR, v);
    }

    private void deliver(RunSettings s, Map<String, Object> result) throws RunnerFailure {
        String text = Json.write(result);
        byte[] data = text.getBytes(UTF8);
        Map<String, String> v = new TreeMap<>();
        if (data.length <= s.inlineMaxBytes) {
            v.put("fermbench_result", text);
            status(STATUS_RESULT, v);
            return;
        }
        String runId = s.runId != null ? s.runId : s.mode + "-" + System.nanoTime();
        File dir = platform.resultsDir();
        File file = new File(dir, runId + ".json");
        File tmp = new File(dir, "." + runId + ".json.tmp");
        try {
            if (!dir.isDirectory() && !dir.mkdirs()) throw new IOException("cannot create " + dir);
            try (FileOutputStream out = new FileOutputStream(tmp)) {
                out.write(data);
                out.getFD().sync();
            }
            if (!tmp.renameTo(file)) throw new IOException("cannot rename " + tmp + " to " + file);
        } catch (IOException e) {
            throw new RunnerFailure("internal", "cannot write result file " + file + ": " + e.getMessage());
        }
        v.put("fermbench_result_file", file.getAbsolutePath());
        v.put("fermbench_result_bytes", String.valueOf(data.length));
        v.put("fermbench_result_sha256", sha256(data));
        status(STATUS_RESULT, v);
    }

    // ------------------------------------------------------------------ modes

    private Map<String, Object> common(RunSettings s) {
        Map<String, Object> r = new TreeMap<>();
        r.put("protocol_version", RunSettings.PROTOCOL_VERSION);
        r.put("mode", s.mode);
        r.put("runner_kind", "android");
        r.put("runner_version", platform.runnerVersion());
        r.put("runtime_name", engine.name());
        r.put("runtime_version", engine.version());
        r.put("settings", new TreeMap<String, Object>(s.extras));
        return r;
    }

    private Map<String, Object> info(RunSettings s) {
        Map<String, Object> r = common(s);
        r.put("model_format", engine.modelFormat());
        r.put("bytecode_min", engine.bytecodeMin());
        r.put("bytecode_max", engine.bytecodeMax());
        r.put("pte_identifiers", engine.pteIdentifiers());
        r.put("page_size", platform.pageSize());
        r.put("abis", platform.abis());
        r.put("cpu_count", platform.cpuCount());
        r.put("debuggable", platform.debuggable());
        r.put("device", platform.deviceFacts());
        return r;
    }

    private static final class Model {
        final String path;
        final long bytes;
        final String sha256;

        Model(String path) throws RunnerFailure {
            File file = new File(path);
            if (!file.isFile()) {
                throw new RunnerFailure("model_missing", "model file " + path + " not found on the device: push it to /data/local/tmp/fermbench/");
            }
            if (!file.canRead()) {
                throw new RunnerFailure("model_missing", "model file " + path + " is not readable by the app: chmod 644 it");
            }
            this.path = path;
            this.bytes = file.length();
            this.sha256 = sha256(file);
        }

        void describe(Map<String, Object> r) {
            r.put("model_path", path);
            r.put("model_bytes", bytes);
            r.put("model_sha256", sha256);
        }
    }

    /** Result of one loop phase; its samples are the first `count` of `buffer` (null in warm-up). */
    private static final class Phase {
        long[] buffer;
        int count;
        long wallNs;
        String stopReason;

        /** The kept samples, copied out: call after the last memory reading, since it allocates. */
        long[] samples() {
            return Arrays.copyOf(buffer, count);
        }
    }

    /**
     * Loop until count >= iterations AND elapsed >= minSeconds, or a cap (maxIterations,
     * maxSeconds) comes first.
     * Nothing is allocated per iteration: samples go into `buffer`, made before the first memory
     * reading (grown by doubling only past its size); null keeps none (warm-up).
     */
    private Phase loop(int iterations, double minSeconds, int maxIterations, double maxSeconds, long[] buffer,
                       double targetPrecision) throws RunnerFailure {
        long minNs = (long) (minSeconds * 1e9);
        long maxNs = (long) (maxSeconds * 1e9);
        int n = 0;
        int checkAt = 0;
        String reason;
        long start = System.nanoTime();
        while (true) {
            long elapsed = System.nanoTime() - start;
            if (n >= iterations && elapsed >= minNs) {
                if (targetPrecision <= 0 || buffer == null) {
                    reason = STOP_COUNT_AND_TIME;
                    break;
                }
                if (n >= checkAt) { // then after ~10% more samples: the sort stays O(n log n) overall
                    if (precisionReached(buffer, n, targetPrecision)) {
                        reason = STOP_PRECISION;
                        break;
                    }
                    checkAt = n + Math.max(1, n / 10);
                }
            }
            if (n >= maxIterations) {
                reason = STOP_MAX_RUNS;
                break;
            }
            if (elapsed >= maxNs) {
                reason = STOP_MAX_S;
                break;
            }
            long t0 = System.nanoTime();
            engine.run();
            long dt = System.nanoTime() - t0;
            if (buffer != null) {
                if (n == buffer.length) buffer = Arrays.copyOf(buffer, Math.min(maxIterations, buffer.length * 2));
                buffer[n] = dt;
            }
            n++;
        }
        Phase p = new Phase();
        p.wallNs = System.nanoTime() - start;
        p.count = n;
        p.stopReason = reason;
        p.buffer = buffer;
        return p;
    }

    /**
     * 1-based rank l of the median's 95% interval (x(l), x(n+1-l)): the largest l with
     * P(Binomial(n, 1/2) <= l - 1) <= 2.5%; 0 when none exists (n < 6). Same as the host's
     * protocol.precision_ranks.
     */
    static int medianLowerRank(int n) {
        double logPmf = -n * Math.log(2.0);
        double cdf = 0.0;
        int k = 0;
        while (k <= n) {
            double pmf = Math.exp(logPmf);
            if (cdf + pmf > 0.025) break;
            cdf += pmf;
            k++;
            logPmf += Math.log((double) (n - k + 1) / k);
        }
        return k;
    }

    /** Whether the first n samples' median interval has a half-width within target x the median. */
    static boolean precisionReached(long[] samples, int n, double target) {
        int low = medianLowerRank(n);
        if (target <= 0 || low < 1) return false;
        long[] x = Arrays.copyOf(samples, n);
        Arrays.sort(x);
        double median = (x[(n - 1) / 2] + (double) x[n / 2]) / 2;
        return median > 0 && (x[n - low] - (double) x[low - 1]) / 2 <= target * median;
    }

    /** Room for the timed samples: the minimum count, at least 2^20 (8 MiB), at most max_iterations. */
    static int sampleCapacity(RunSettings s) {
        return Math.min(s.maxIterations, Math.max(s.iterations, 1 << 20));
    }

    private Map<String, Object> latency(RunSettings s) throws RunnerFailure {
        Model model = new Model(s.model);
        // The input is built once, before load: element i = ((i*37) % 256) / 255, normalised.
        FloatBuffer input = engine.allocateInput(s.inputShape);
        int numel = s.inputNumel();
        for (int i = 0; i < numel; i++) {
            input.put(i, (((i * 37L) % 256) / 255.0f - LATENCY_MEAN) / LATENCY_STD);
        }
        // Made before the first memory reading, so the sample buffer is in no memory delta.
        long[] buffer = new long[sampleCapacity(s)];
        Map<String, Object> envBefore = platform.environment();
        Map<String, Object> memBefore = platform.memory();
        phase("load");
        long t0 = System.nanoTime();
        boolean preloaded = engine.loadRuntime(s.threads);
        long runtimeNs = System.nanoTime() - t0;
        Map<String, Object> memAfterRuntime = platform.memory();
        t0 = System.nanoTime();
        engine.load(model.path);
        long loadNs = System.nanoTime() - t0;
        Map<String, Object> memAfterLoad = platform.memory();
        phase("first");
        t0 = System.nanoTime();
        engine.run();
        long firstNs = System.nanoTime() - t0;
        float[] out = engine.lastOutput();
        Measured measured = warmupAndTimed(s, buffer);
        Phase warm = measured.warm;
        Phase timed = measured.timed;
        Map<String, Object> foreground = measured.foreground;
        Map<String, Object> memAfterRun = platform.memory();
        Map<String, Object> envAfter = platform.environment();

        Map<String, Object> r = common(s);
        model.describe(r);
        r.put("threads", s.threads);
        r.put("input_shape", s.inputShape);
        r.put("output_numel", out.length);
        r.put("runtime_load_ns", runtimeNs);
        r.put("runtime_preloaded", preloaded);
        r.put("load_ns", loadNs);
        r.put("first_inference_ns", firstNs);
        r.put("warmup_count", warm.count);
        r.put("warmup_ns", warm.wallNs);
        r.put("samples_ns", timed.samples());
        r.put("timed_ns", timed.wallNs);
        r.put("stop_reason", timed.stopReason);
        r.put("memory_counter", "pss");
        r.put("memory_source", platform.memorySource());
        r.put("memory_before_load", memBefore);
        r.put("memory_after_runtime", memAfterRuntime);
        r.put("memory_after_load", memAfterLoad);
        r.put("memory_after_run", memAfterRun);
        r.put("env_before", envBefore);
        r.put("env_after", envAfter);
        r.put("foreground", foreground);
        r.put("thread_priority", measured.threadPriority);
        r.putAll(measured.loopGrowth); // gc_count_timed, native_heap_growth_timed: the metric table's rows
        return r;
    }

    /** What warmupAndTimed measured. */
    private static final class Measured {
        Phase warm;
        Phase timed;
        Map<String, Object> foreground;
        Map<String, Long> loopGrowth; // each loop counter after minus before the timed loop; null: not counted
        Integer threadPriority; // the benchmark thread's priority (nice) during both loops; null if unknown
    }

    /**
     * The warm-up and timed loops at a raised thread priority (AndroidX Benchmark raises it too), with
     * the platform's loop counters (GC count, native heap) read around the timed loop: a collection
     * or an allocation there shows in the samples.
     * One forward per iteration is one JNI call that returns a newly allocated output (Lite's IValue,
     * ExecuTorch's EValue[]): neither Java API can write into a preallocated output, so the loop
     * allocates nothing else and the GC count says whether that allocation cost a collection.
     */
    private Measured warmupAndTimed(RunSettings s, long[] buffer) throws RunnerFailure {
        Measured m = new Measured();
        m.threadPriority = platform.raiseThreadPriority();
        try {
            phase("warmup");
            m.warm = loop(s.warmup, s.warmupSeconds, s.maxIterations, s.maxSeconds, null, 0);
            m.foreground = platform.foreground();
            phase("timed");
            Map<String, Long> before = platform.loopCounters();
            m.timed = loop(s.iterations, s.minSeconds, s.maxIterations, s.maxSeconds, buffer, s.targetPrecision);
            m.loopGrowth = growth(before, platform.loopCounters());
        } finally {
            platform.restoreThreadPriority();
        }
        return m;
    }

    /** Each counter's after minus before; null where either reading is null. */
    static Map<String, Long> growth(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> grown = new TreeMap<>();
        for (Map.Entry<String, Long> e : before.entrySet()) {
            Long end = after.get(e.getKey());
            grown.put(e.getKey(), e.getValue() == null || end == null ? null : end - e.getValue());
        }
        return grown;
    }

    /** Index of the first largest value, NaN ignored, 0 if none (same rule as the host). */
    static int argmax(float[] row) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < row.length; i++) {
            if (row[i] > bestValue) {
                bestValue = row[i];
                best = i;
            }
        }
        return best;
    }

    private static List<Object> doubles(double[] values) {
        List<Object> list = new ArrayList<>(values.length);
        for (double v : values) list.add(v);
        return list;
    }

    private Map<String, Object> classify(RunSettings s) throws RunnerFailure {
        ImagesFile images = ImagesFile.read(s.input);
        double[] meanC = RunSettings.channelValues(s.mean, images.channels, "mean");
        double[] stdC = RunSettings.channelValues(s.std, images.channels, "std");
        Model model = new Model(s.model);
        int pixels = images.height * images.width;
        FloatBuffer input = engine.allocateInput(new long[] {1, images.channels, images.height, images.width});
        float[] mean = new float[images.channels];
        float[] std = new float[images.channels];
        for (int c = 0; c < images.channels; c++) {
            mean[c] = (float) meanC[c];
            std[c] = (float) stdC[c];
        }
        phase("load");
        long t0 = System.nanoTime();
        boolean preloaded = engine.loadRuntime(s.threads);
        long runtimeNs = System.nanoTime() - t0;
        t0 = System.nanoTime();
        engine.load(model.path);
        long loadNs = System.nanoTime() - t0;
        Map<String, Object> foreground = platform.foreground();
        phase("classify");
        List<Object> top = new ArrayList<>(images.count);
        List<Object> logits = new ArrayList<>(images.count);
        long[] latency = new long[images.count];
        int numClasses = 0;
        for (int i = 0; i < images.count; i++) {
            for (int c = 0, j = 0; c < images.channels; c++) {
                for (int end = j + pixels; j < end; j++) input.put(j, (images.pixel(i, j) / 255.0f - mean[c]) / std[c]);
            }
            t0 = System.nanoTime();
            engine.run();
            latency[i] = System.nanoTime() - t0;
            float[] row = engine.lastOutput();
            numClasses = row.length;
            top.add(argmax(row));
            logits.add(row);
        }
        Map<String, Object> r = common(s);
        model.describe(r);
        r.put("threads", s.threads);
        r.put("count", images.count);
        r.put("channels", images.channels);
        r.put("height", images.height);
        r.put("width", images.width);
        r.put("mean", doubles(meanC));
        r.put("std", doubles(stdC));
        r.put("runtime_load_ns", runtimeNs);
        r.put("runtime_preloaded", preloaded);
        r.put("load_ns", loadNs);
        r.put("num_classes", numClasses);
        r.put("top", top);
        r.put("logits", logits);
        r.put("latency_ns", latency);
        r.put("foreground", foreground);
        return r;
    }

    // ------------------------------------------------------------------ hashing

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] digest) {
        StringBuilder b = new StringBuilder(64);
        for (byte x : digest) b.append(String.format("%02x", x & 0xff));
        return b.toString();
    }

    static String sha256(byte[] data) {
        return hex(sha256Digest().digest(data));
    }

    static String sha256(File file) throws RunnerFailure {
        MessageDigest md = sha256Digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = new FileInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        } catch (IOException e) {
            throw new RunnerFailure("model_missing", "cannot read model file " + file + ": " + e.getMessage());
        }
        return hex(md.digest());
    }
}
