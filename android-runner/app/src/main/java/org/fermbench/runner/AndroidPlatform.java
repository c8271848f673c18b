package org.fermbench.runner;

import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.content.pm.ApplicationInfo;
import android.content.pm.PackageManager;
import android.os.BatteryManager;
import android.os.Build;
import android.os.Debug;
import android.os.PowerManager;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Memory, thermal, battery and device facts as the app can see them (PROTOCOL.md, "Counters"). */
final class AndroidPlatform implements Platform {
    private static final String[] THERMAL_NAMES = {"none", "light", "moderate", "severe", "critical", "emergency", "shutdown"};
    private final Context context;

    AndroidPlatform(Context context) {
        this.context = context;
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
        m.put("pss_kb", (long) info.getTotalPss());
        m.put("rss_kb", vmRssKb());
        m.put("native_heap_kb", Debug.getNativeHeapAllocatedSize() / 1024);
        return m;
    }

    @Override
    public String memorySource() {
        return "Debug.MemoryInfo.getTotalPss; /proc/self/status VmRSS; Debug.getNativeHeapAllocatedSize";
    }

    private static Long vmRssKb() {
        try (BufferedReader in = new BufferedReader(new FileReader("/proc/self/status"))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
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
    public File resultsDir() throws RunnerFailure {
        File external = context.getExternalFilesDir(null);
        if (external == null) {
            throw new RunnerFailure("internal", "the app's external files folder is unavailable (storage not mounted?)");
        }
        return new File(external, "results");
    }
}
