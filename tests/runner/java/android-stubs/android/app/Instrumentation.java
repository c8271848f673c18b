// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.app;

import android.content.Context;
import android.content.Intent;
import android.os.Bundle;

public class Instrumentation {
    public void onCreate(Bundle arguments) {}
    public void start() { throw new RuntimeException("stub"); }
    public void onStart() {}
    public Context getContext() { throw new RuntimeException("stub"); }
    public Context getTargetContext() { throw new RuntimeException("stub"); }
    public Activity startActivitySync(Intent intent) { throw new RuntimeException("stub"); }
    public void runOnMainSync(Runnable runner) {}
    public void sendStatus(int resultCode, Bundle results) {}
    public void finish(int resultCode, Bundle results) {}
}
