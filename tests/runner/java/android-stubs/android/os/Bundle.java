// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

import java.util.Set;

public final class Bundle {
    public Bundle() {}
    public Set<String> keySet() { throw new RuntimeException("stub"); }
    @Deprecated
    public Object get(String key) { throw new RuntimeException("stub"); }
    public String getString(String key) { throw new RuntimeException("stub"); }
    public void putString(String key, String value) {}
}
