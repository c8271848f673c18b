package org.fermbench.runner;

import android.app.Activity;
import android.content.Context;
import android.os.Build;
import android.os.Bundle;
import android.os.PowerManager;
import android.view.Window;
import android.view.WindowManager;
import android.widget.TextView;

/**
 * An opaque full-screen activity the instrumentation shows for the length of a measured run, so the
 * process is the top app: schedulers on big.LITTLE phones then keep it on the big cores and boost it,
 * as AndroidX Benchmark's isolation activity does. It keeps the screen on, shows over the lock screen
 * and, where the device supports it, asks for sustained performance mode (clocks it can hold
 * without throttling).
 */
public final class IsolationActivity extends Activity {
    volatile boolean sustainedPerformance;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        Window window = getWindow();
        window.addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        if (Build.VERSION.SDK_INT >= 27) {
            setShowWhenLocked(true);
            setTurnScreenOn(true);
        } else {
            window.addFlags(WindowManager.LayoutParams.FLAG_SHOW_WHEN_LOCKED | WindowManager.LayoutParams.FLAG_TURN_SCREEN_ON);
        }
        if (Build.VERSION.SDK_INT >= 24) {
            PowerManager pm = (PowerManager) getSystemService(Context.POWER_SERVICE);
            if (pm != null && pm.isSustainedPerformanceModeSupported()) {
                window.setSustainedPerformanceMode(true);
                sustainedPerformance = true;
            }
        }
        TextView text = new TextView(this);
        text.setText("fermbench is measuring: please leave the phone alone");
        setContentView(text);
    }
}
