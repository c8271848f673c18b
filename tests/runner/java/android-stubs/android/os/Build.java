// Compile-only stub of the documented Android API that the runner uses; bodies are never run.
package android.os;

public class Build {
    public static final String MANUFACTURER = stub();
    public static final String BRAND = stub();
    public static final String MODEL = stub();
    public static final String DEVICE = stub();
    public static final String PRODUCT = stub();
    public static final String HARDWARE = stub();
    public static final String BOARD = stub();
    public static final String FINGERPRINT = stub();
    public static final String SOC_MODEL = stub();
    public static final String[] SUPPORTED_ABIS = new String[0];

    private static String stub() { return null; }

    public static class VERSION {
        public static final int SDK_INT = Integer.parseInt("0");
        public static final String RELEASE = stub();
    }
}
