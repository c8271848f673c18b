// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.app;

import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.content.pm.ApplicationInfo;
import android.content.pm.PackageManager;
import android.os.Bundle;
import android.view.View;
import android.view.Window;
import java.io.File;

public class Activity extends Context {
    public static final int RESULT_OK = -1;
    public static final int RESULT_CANCELED = 0;

    protected void onCreate(Bundle savedInstanceState) {}
    public Window getWindow() { throw new RuntimeException("stub"); }
    public void setContentView(View view) {}
    public void setShowWhenLocked(boolean showWhenLocked) {}
    public void setTurnScreenOn(boolean turnScreenOn) {}
    public void finish() {}

    @Override public Object getSystemService(String name) { throw new RuntimeException("stub"); }
    @Override public Intent registerReceiver(BroadcastReceiver receiver, IntentFilter filter) { throw new RuntimeException("stub"); }
    @Override public File getExternalFilesDir(String type) { throw new RuntimeException("stub"); }
    @Override public File[] getExternalMediaDirs() { throw new RuntimeException("stub"); }
    @Override public ApplicationInfo getApplicationInfo() { throw new RuntimeException("stub"); }
    @Override public PackageManager getPackageManager() { throw new RuntimeException("stub"); }
    @Override public String getPackageName() { throw new RuntimeException("stub"); }
}
