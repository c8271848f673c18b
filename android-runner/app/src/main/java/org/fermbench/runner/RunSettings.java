package org.fermbench.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The -e extras of one run, validated with the rules of PROTOCOL.md (same as protocol.py). The
 * version, limits and latency settings (keys, defaults, ranges) come from ProtocolTable, which is
 * generated from the host's table.
 */
final class RunSettings {
    static final int PROTOCOL_VERSION = ProtocolTable.PROTOCOL_VERSION;
    static final int DEFAULT_INLINE_MAX_BYTES = ProtocolTable.DEFAULT_INLINE_MAX_BYTES;
    static final int MAX_INLINE_MAX_BYTES = ProtocolTable.MAX_INLINE_MAX_BYTES;

    private static final Pattern RUN_ID = Pattern.compile("^[A-Za-z0-9._-]{1,64}$");
    private static final Pattern WHOLE = Pattern.compile("^[0-9]+$");
    private static final Pattern DECIMAL = Pattern.compile("^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$");
    private static final Pattern SHAPE = Pattern.compile("^[0-9]+(,[0-9]+){0,5}$");
    private static final List<String> MODES = Arrays.asList("info", "latency", "classify");
    private static final List<String> COMMON = Arrays.asList("mode", "protocol", "run_id", "inline_max_bytes");
    private static final Map<String, Map<String, String>> DEFAULTS = new HashMap<>();
    private static final Map<String, List<String>> REQUIRED = new HashMap<>();

    static {
        DEFAULTS.put("info", Collections.<String, String>emptyMap());
        Map<String, String> latency = new TreeMap<>();
        latency.put("input_shape", ProtocolTable.DEFAULT_INPUT_SHAPE);
        for (ProtocolTable.Setting setting : ProtocolTable.LATENCY) latency.put(setting.key, setting.defaultValue);
        DEFAULTS.put("latency", latency);
        DEFAULTS.put("classify", Collections.singletonMap(ProtocolTable.THREADS.key, ProtocolTable.THREADS.defaultValue));
        REQUIRED.put("info", Collections.<String>emptyList());
        REQUIRED.put("latency", Collections.singletonList("model"));
        REQUIRED.put("classify", Arrays.asList("model", "input", "mean", "std"));
    }

    final String mode;
    final Map<String, String> extras; // as received, echoed into results
    String runId;
    int inlineMaxBytes = DEFAULT_INLINE_MAX_BYTES;
    String model;
    String input;
    double[] mean = {0.0}; // classify: one per channel, or one for all (channelValues)
    double[] std = {1.0};
    int threads = Integer.parseInt(ProtocolTable.THREADS.defaultValue);
    long[] inputShape = {1, 1, 48, 48};
    // the latency table's rows (ProtocolTable.LATENCY), under their names
    int warmup;
    double warmupSeconds;
    int iterations;
    double minSeconds;
    int maxIterations;
    double maxSeconds;
    double targetPrecision; // 0: off; else time on until the median's 95% interval is this precise

    private RunSettings(String mode, Map<String, String> extras) {
        this.mode = mode;
        this.extras = extras;
    }

    private static RunnerFailure bad(String message) {
        return new RunnerFailure("bad_arguments", message);
    }

    private static String join(Iterable<String> items) {
        StringBuilder b = new StringBuilder();
        for (String s : items) {
            if (b.length() > 0) b.append(", ");
            b.append(s);
        }
        return b.toString();
    }

    private static long whole(Map<String, String> v, String key, long low, long high) throws RunnerFailure {
        String text = v.get(key);
        if (!WHOLE.matcher(text).matches()) throw bad(key + "='" + text + "' is not a whole number");
        if (text.length() > 18) throw bad(key + "=" + text + " is out of range [" + low + ", " + high + "]");
        long value = Long.parseLong(text);
        if (value < low || value > high) throw bad(key + "=" + value + " is out of range [" + low + ", " + high + "]");
        return value;
    }

    private static long whole(Map<String, String> v, ProtocolTable.Setting setting) throws RunnerFailure {
        return whole(v, setting.key, (long) setting.low, (long) setting.high);
    }

    private static double decimal(Map<String, String> v, ProtocolTable.Setting setting) throws RunnerFailure {
        return decimal(v, setting.key, setting.low, setting.high);
    }

    private static double decimal(Map<String, String> v, String key, double low, double high) throws RunnerFailure {
        String text = v.get(key);
        if (!DECIMAL.matcher(text).matches()) throw bad(key + "='" + text + "' is not a number");
        double value = Double.parseDouble(text);
        if (Double.isNaN(value) || Double.isInfinite(value) || value < low || value > high) {
            throw bad(key + "=" + text + " is out of range [" + low + ", " + high + "]");
        }
        return value;
    }

    static final int MAX_CHANNEL_VALUES = ProtocolTable.MAX_CHANNEL_VALUES;

    /** A comma list of 1 to MAX_CHANNEL_VALUES decimals, each checked as decimal() checks one. */
    private static double[] decimals(Map<String, String> v, String key, double low, double high) throws RunnerFailure {
        String[] parts = v.get(key).split(",", -1);
        if (parts.length > MAX_CHANNEL_VALUES) {
            throw bad(key + " has " + parts.length + " values: give one per channel, at most " + MAX_CHANNEL_VALUES);
        }
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) values[i] = decimal(Collections.singletonMap(key, parts[i]), key, low, high);
        return values;
    }

    /** mean or std for images of `channels` channels: one value serves every channel, else one per channel. */
    static double[] channelValues(double[] values, int channels, String key) throws RunnerFailure {
        if (values.length == 1) {
            double[] all = new double[channels];
            Arrays.fill(all, values[0]);
            return all;
        }
        if (values.length != channels) {
            throw bad(key + " has " + values.length + " values, the images have " + channels + " channel(s): give 1 or " + channels);
        }
        return values;
    }

    static RunSettings parse(Map<String, String> extras) throws RunnerFailure {
        String mode = extras.get("mode");
        if (mode == null) throw bad("missing mode: pass -e mode one of " + join(MODES));
        if (!MODES.contains(mode)) throw bad("unknown mode '" + mode + "': choose one of " + join(MODES));
        // the version first: another version's arguments would read as unknown keys (3 renamed them)
        String protocol = extras.get("protocol");
        if (protocol != null && !protocol.equals(String.valueOf(PROTOCOL_VERSION))) {
            throw bad("host speaks protocol " + protocol + ", this runner speaks " + PROTOCOL_VERSION + ": install the matching runner");
        }
        TreeSet<String> allowed = new TreeSet<>(COMMON);
        allowed.addAll(REQUIRED.get(mode));
        allowed.addAll(DEFAULTS.get(mode).keySet());
        TreeSet<String> unknown = new TreeSet<>(extras.keySet());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            throw bad("unknown argument(s) " + join(unknown) + " for mode " + mode + ": allowed are " + join(allowed));
        }
        List<String> missing = new ArrayList<>();
        for (String key : REQUIRED.get(mode)) if (!extras.containsKey(key)) missing.add(key);
        if (!missing.isEmpty()) throw bad("mode " + mode + " needs " + join(missing));
        Map<String, String> v = new TreeMap<>(DEFAULTS.get(mode));
        v.putAll(extras);
        RunSettings s = new RunSettings(mode, new TreeMap<>(extras));
        if (v.containsKey("run_id")) {
            if (!RUN_ID.matcher(v.get("run_id")).matches()) throw bad("run_id='" + v.get("run_id") + "' must be 1-64 of A-Z a-z 0-9 . _ -");
            s.runId = v.get("run_id");
        }
        if (v.containsKey("inline_max_bytes")) s.inlineMaxBytes = (int) whole(v, "inline_max_bytes", 0, MAX_INLINE_MAX_BYTES);
        for (String key : new String[] {"model", "input"}) {
            String path = v.get(key);
            if (path == null) continue;
            if (!path.startsWith("/")) throw bad(key + "='" + path + "' must be an absolute device path");
            if (key.equals("model")) s.model = path; else s.input = path;
        }
        if (mode.equals("classify")) {
            s.mean = decimals(v, "mean", -1e6, 1e6);
            s.std = decimals(v, "std", 1e-9, 1e6);
        }
        if (v.containsKey("threads")) s.threads = (int) whole(v, ProtocolTable.THREADS);
        if (mode.equals("latency")) {
            String shapeText = v.get("input_shape");
            if (!SHAPE.matcher(shapeText).matches()) {
                throw bad("input_shape='" + shapeText + "' must be comma-separated positive integers, e.g. 1,1,48,48");
            }
            String[] parts = shapeText.split(",");
            long[] shape = new long[parts.length];
            final long maxNumel = 1L << 26;
            long numel = 1;
            for (int i = 0; i < parts.length; i++) {
                long d = parts[i].length() > 9 ? Long.MAX_VALUE : Long.parseLong(parts[i]);
                // d and numel both <= 2^26 before the multiply, so it cannot overflow
                if (d < 1 || d > maxNumel || numel * d > maxNumel) {
                    throw bad("input_shape=" + shapeText + " must have positive sizes and at most 2^26 elements");
                }
                numel *= d;
                shape[i] = d;
            }
            s.inputShape = shape;
            s.warmup = (int) whole(v, ProtocolTable.WARMUP);
            s.warmupSeconds = decimal(v, ProtocolTable.WARMUP_SECONDS);
            s.iterations = (int) whole(v, ProtocolTable.ITERATIONS);
            s.minSeconds = decimal(v, ProtocolTable.MIN_SECONDS);
            s.maxIterations = (int) whole(v, ProtocolTable.MAX_ITERATIONS);
            s.maxSeconds = decimal(v, ProtocolTable.MAX_SECONDS);
            s.targetPrecision = decimal(v, ProtocolTable.TARGET_PRECISION);
            if (s.iterations > s.maxIterations) {
                throw bad("iterations=" + s.iterations + " exceeds max_iterations=" + s.maxIterations);
            }
            if (s.minSeconds > s.maxSeconds || s.warmupSeconds > s.maxSeconds) {
                throw bad("min_seconds and warmup_seconds must not exceed max_seconds=" + s.maxSeconds);
            }
        }
        return s;
    }

    int inputNumel() {
        long n = 1;
        for (long d : inputShape) n *= d;
        return (int) n;
    }
}
