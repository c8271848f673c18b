// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content;

import android.content.pm.ApplicationInfo;
import android.content.pm.PackageManager;
import java.io.File;

public abstract class Context {
    public static final String POWER_SERVICE = "power";
    public abstract Object getSystemService(String name);
    public abstract Intent registerReceiver(BroadcastReceiver receiver, IntentFilter filter);
    public abstract File getExternalFilesDir(String type);
    public abstract File[] getExternalMediaDirs();
    public abstract ApplicationInfo getApplicationInfo();
    public abstract PackageManager getPackageManager();
    public abstract String getPackageName();
}
