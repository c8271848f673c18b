package org.fermbench.runner;

import android.app.Activity;
import android.app.Instrumentation;
import android.os.Bundle;
import java.util.Map;
import java.util.TreeMap;

/**
 * Entry point: `am instrument -w -r -e mode ... org.fermbench.runner/.BenchmarkInstrumentation`.
 * Runs one request of PROTOCOL.md on its own thread, reports status bundles, then finishes.
 * The APK instruments itself (targetPackage is its own package); during a measured run it shows
 * IsolationActivity so the process is the top app.
 */
public final class BenchmarkInstrumentation extends Instrumentation {
    private Bundle arguments;

    @Override
    public void onCreate(Bundle arguments) {
        super.onCreate(arguments);
        this.arguments = arguments == null ? new Bundle() : arguments;
        start(); // calls onStart() on a new thread
    }

    @Override
    public void onStart() {
        super.onStart();
        Map<String, String> extras = new TreeMap<>();
        for (String key : arguments.keySet()) {
            String value = arguments.getString(key); // `am instrument -e` passes strings only
            extras.put(key, value == null ? "" : value);
        }
        Reporter reporter = new Reporter() {
            @Override
            public void status(int code, Map<String, String> values) {
                Bundle bundle = new Bundle();
                for (Map.Entry<String, String> e : values.entrySet()) bundle.putString(e.getKey(), e.getValue());
                sendStatus(code, bundle);
            }
        };
        String outcome;
        try {
            outcome = new Benchmark(Engines.create(), new AndroidPlatform(this), reporter).run(extras);
        } catch (Throwable t) { // e.g. UnsatisfiedLinkError for a missing ABI: report it, then finish
            Bundle bundle = new Bundle();
            bundle.putString("id", "fermbench");
            bundle.putString("fermbench_protocol", String.valueOf(RunSettings.PROTOCOL_VERSION));
            bundle.putString("fermbench_error_code", "internal");
            bundle.putString("fermbench_error_message", t.getClass().getSimpleName() + ": " + RunnerFailure.firstLine(t));
            sendStatus(Benchmark.STATUS_ERROR, bundle);
            outcome = "error";
        }
        Bundle result = new Bundle();
        result.putString("fermbench_status", outcome);
        finish(Activity.RESULT_OK, result);
    }
}
