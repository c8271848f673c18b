// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.content;

public abstract class BroadcastReceiver {
    public abstract void onReceive(Context context, Intent intent);
}
