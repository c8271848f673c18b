// Compile-only stub of org.tensorflow.lite.Tensor (com.google.ai.edge.litert:litert 2.3.0).
package org.tensorflow.lite;

public interface Tensor {
    class QuantizationParams {
        public QuantizationParams(float scale, int zeroPoint) {}
        public float getScale() { return 0f; }
        public int getZeroPoint() { return 0; }
    }

    DataType dataType();
    int numBytes();
    int numElements();
    int[] shape();
    QuantizationParams quantizationParams();
}
