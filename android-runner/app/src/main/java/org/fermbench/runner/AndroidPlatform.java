package org.fermbench.runner;

import android.app.ActivityManager;
import android.app.Instrumentation;
import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.content.pm.ApplicationInfo;
import android.content.pm.PackageManager;
import android.os.BatteryManager;
import android.os.Build;
import android.os.Debug;
import android.os.PowerManager;
import android.system.Os;
import android.system.OsConstants;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Memory, thermal, battery, foreground and device facts as the app can see them (PROTOCOL.md,
 * "Counters"), and the isolation activity that holds the foreground during a measured run.
 */
final class AndroidPlatform implements Platform {
    private static final String[] THERMAL_NAMES = {"none", "light", "moderate", "severe", "critical", "emergency", "shutdown"};
    private final Instrumentation instrumentation;
    private final Context context;
    private IsolationActivity activity;
    private String foregroundNote;

    AndroidPlatform(Instrumentation instrumentation) {
        this.instrumentation = instrumentation;
        this.context = instrumentation.getContext();
    }

    @Override
    public String runnerVersion() {
        try {
            return context.getPackageManager().getPackageInfo(context.getPackageName(), 0).versionName;
        } catch (PackageManager.NameNotFoundException e) {
            return "unknown";
        }
    }

    @Override
    public Map<String, Object> memory() {
        Debug.MemoryInfo info = new Debug.MemoryInfo();
        Debug.getMemoryInfo(info);
        Map<String, Object> m = new TreeMap<>();
        Map<String, Long> status = procStatusKb("VmRSS", "VmHWM");
        m.put("pss_kb", (long) info.getTotalPss());
        m.put("rss_kb", status.get("VmRSS"));
        m.put("native_heap_kb", Debug.getNativeHeapAllocatedSize() / 1024);
        m.put("peak_rss_kb", status.get("VmHWM"));
        return m;
    }

    @Override
    public String memorySource() {
        return "Debug.MemoryInfo.getTotalPss; /proc/self/status VmRSS, VmHWM; Debug.getNativeHeapAllocatedSize";
    }

    /** The named `Key:  123 kB` lines of /proc/self/status; a key it cannot read is absent. */
    private static Map<String, Long> procStatusKb(String... keys) {
        Map<String, Long> values = new TreeMap<>();
        try (BufferedReader in = new BufferedReader(new FileReader("/proc/self/status"))) {
            String line;
            while ((line = in.readLine()) != null) {
                for (String key : keys) {
                    if (line.startsWith(key + ":")) {
                        values.put(key, Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]));
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unreadable: the keys not read yet stay absent and report as null
        }
        return values;
    }

    @Override
    public Map<String, Object> environment() {
        Map<String, Object> env = new TreeMap<>();
        env.put("thermal_status", null);
        env.put("thermal_status_name", null);
        env.put("battery_temp_c", null);
        env.put("battery_level_pct", null);
        env.put("charging", null);
        List<String> notes = new ArrayList<>();
        if (Build.VERSION.SDK_INT >= 29) {
            PowerManager pm = (PowerManager) context.getSystemService(Context.POWER_SERVICE);
            if (pm != null) {
                int status = pm.getCurrentThermalStatus();
                env.put("thermal_status", status);
                env.put("thermal_status_name", status >= 0 && status < THERMAL_NAMES.length ? THERMAL_NAMES[status] : "unknown");
            }
        } else {
            notes.add("thermal status needs API 29");
        }
        // The sticky broadcast: registering a null receiver returns the last battery intent.
        Intent battery = context.registerReceiver(null, new IntentFilter(Intent.ACTION_BATTERY_CHANGED));
        if (battery != null) {
            int temp = battery.getIntExtra(BatteryManager.EXTRA_TEMPERATURE, Integer.MIN_VALUE);
            if (temp != Integer.MIN_VALUE) env.put("battery_temp_c", temp / 10.0);
            int level = battery.getIntExtra(BatteryManager.EXTRA_LEVEL, -1);
            int scale = battery.getIntExtra(BatteryManager.EXTRA_SCALE, -1);
            if (level >= 0 && scale > 0) env.put("battery_level_pct", Math.round(100f * level / scale));
            env.put("charging", battery.getIntExtra(BatteryManager.EXTRA_PLUGGED, 0) != 0);
        } else {
            notes.add("no battery intent");
        }
        StringBuilder note = new StringBuilder(); // String.join needs API 26
        for (String n : notes) note.append(note.length() > 0 ? "; " : "").append(n);
        env.put("note", note.length() == 0 ? null : note.toString());
        return env;
    }

    @Override
    public void enterForeground() {
        Intent intent = new Intent(context, IsolationActivity.class);
        intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK);
        try {
            activity = (IsolationActivity) instrumentation.startActivitySync(intent);
            foregroundNote = null;
        } catch (RuntimeException e) { // measure anyway, and say why the foreground was not held
            activity = null;
            foregroundNote = "isolation activity did not start: " + RunnerFailure.firstLine(e);
        }
    }

    @Override
    public Map<String, Object> foreground() {
        Map<String, Object> f = new TreeMap<>();
        ActivityManager.RunningAppProcessInfo info = new ActivityManager.RunningAppProcessInfo();
        ActivityManager.getMyMemoryState(info);
        f.put("isolation_activity", activity != null);
        f.put("importance", info.importance);
        f.put("importance_name", importanceName(info.importance));
        String note = foregroundNote;
        if (Build.VERSION.SDK_INT >= 24) {
            PowerManager pm = (PowerManager) context.getSystemService(Context.POWER_SERVICE);
            f.put("sustained_performance_supported", pm != null && pm.isSustainedPerformanceModeSupported());
            f.put("sustained_performance_enabled", activity != null && activity.sustainedPerformance);
        } else {
            f.put("sustained_performance_supported", false);
            f.put("sustained_performance_enabled", false);
            note = (note == null ? "" : note + "; ") + "sustained performance mode needs API 24";
        }
        f.put("note", note);
        return f;
    }

    private static String importanceName(int importance) {
        switch (importance) {
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_FOREGROUND: return "foreground";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_FOREGROUND_SERVICE: return "foreground_service";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_VISIBLE: return "visible";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_PERCEPTIBLE: return "perceptible";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_SERVICE: return "service";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_CACHED: return "cached";
            case ActivityManager.RunningAppProcessInfo.IMPORTANCE_GONE: return "gone";
            default: return "other";
        }
    }

    @Override
    public void leaveForeground() {
        final IsolationActivity shown = activity;
        activity = null;
        if (shown != null) {
            instrumentation.runOnMainSync(shown::finish);
        }
    }

    @Override
    public Map<String, Object> deviceFacts() {
        Map<String, Object> d = new TreeMap<>();
        d.put("manufacturer", Build.MANUFACTURER);
        d.put("brand", Build.BRAND);
        d.put("model", Build.MODEL);
        d.put("device", Build.DEVICE);
        d.put("product", Build.PRODUCT);
        d.put("hardware", Build.HARDWARE);
        d.put("board", Build.BOARD);
        d.put("fingerprint", Build.FINGERPRINT);
        d.put("sdk_int", Build.VERSION.SDK_INT);
        d.put("release", Build.VERSION.RELEASE);
        d.put("soc_model", Build.VERSION.SDK_INT >= 31 ? Build.SOC_MODEL : null);
        d.put("is_emulator", looksLikeEmulator());
        return d;
    }

    /** A guess from build properties; goldfish/ranchu are the emulator's kernels. */
    private static boolean looksLikeEmulator() {
        String fp = Build.FINGERPRINT == null ? "" : Build.FINGERPRINT;
        String hw = Build.HARDWARE == null ? "" : Build.HARDWARE;
        String product = Build.PRODUCT == null ? "" : Build.PRODUCT;
        return fp.startsWith("generic") || fp.contains("emulator") || hw.equals("goldfish") || hw.equals("ranchu")
                || product.contains("sdk_gphone") || product.startsWith("sdk");
    }

    @Override
    public List<String> abis() {
        return Arrays.asList(Build.SUPPORTED_ABIS);
    }

    @Override
    public Boolean debuggable() {
        return (context.getApplicationInfo().flags & ApplicationInfo.FLAG_DEBUGGABLE) != 0;
    }

    @Override
    public int cpuCount() {
        return Runtime.getRuntime().availableProcessors();
    }

    @Override
    public long pageSize() {
        return Os.sysconf(OsConstants._SC_PAGESIZE);
    }

    @Override
    /**
     * API 29+: the app's media folder (/sdcard/Android/media/PACKAGE), which the shell can read and
     * `adb pull` there, as AndroidX Benchmark writes its results; Android/data is doubtful for the
     * shell from API 29 on. Older: the app's external files folder (Android/data/PACKAGE/files).
     * The host pulls whatever path the result names (fermbench.runner.protocol.results_base_dir).
     */
    public File resultsDir() throws RunnerFailure {
        File base = null;
        if (Build.VERSION.SDK_INT >= MEDIA_DIR_SDK) {
            File[] media = context.getExternalMediaDirs();
            base = media.length > 0 ? media[0] : null;
        }
        if (base == null) {
            base = context.getExternalFilesDir(null);
        }
        if (base == null) {
            throw new RunnerFailure("internal", "the app's external storage folders are unavailable (storage not mounted?)");
        }
        return new File(base, "results");
    }

    static final int MEDIA_DIR_SDK = 29; // Build.VERSION_CODES.Q

    private Integer savedPriority; // the benchmark thread's priority before raiseThreadPriority

    @Override
    public Map<String, Long> loopCounters() {
        Map<String, Long> counters = new TreeMap<>();
        counters.put("gc_count_timed", gcCount());
        counters.put("native_heap_growth_timed", Debug.getNativeHeapAllocatedSize());
        return counters;
    }

    /** ART's count of garbage collections (Debug.getRuntimeStat, API 23+). */
    private static Long gcCount() {
        if (Build.VERSION.SDK_INT < 23) {
            return null;
        }
        String count = Debug.getRuntimeStat("art.gc.gc-count");
        try {
            return count == null ? null : Long.parseLong(count.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** THREAD_PRIORITY_URGENT_DISPLAY for the loops, as AndroidX Benchmark raises its thread; refused: unchanged. */
    @Override
    public Integer raiseThreadPriority() {
        int tid = android.os.Process.myTid();
        try {
            int before = android.os.Process.getThreadPriority(tid);
            android.os.Process.setThreadPriority(android.os.Process.THREAD_PRIORITY_URGENT_DISPLAY);
            savedPriority = before;
        } catch (RuntimeException e) { // SecurityException, IllegalArgumentException: measure at the default
            savedPriority = null;
        }
        try {
            return android.os.Process.getThreadPriority(tid);
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public void restoreThreadPriority() {
        if (savedPriority != null) {
            try {
                android.os.Process.setThreadPriority(savedPriority);
            } catch (RuntimeException e) { // the loops are over: nothing left to measure at the wrong priority
            }
            savedPriority = null;
        }
    }
}
