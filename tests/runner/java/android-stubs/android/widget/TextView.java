// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.widget;

import android.content.Context;
import android.view.View;

public class TextView extends View {
    public TextView(Context context) {}
    public final void setText(CharSequence text) {}
}
