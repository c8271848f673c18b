// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.view;

public class View {
}
