// Compile-only stub of org.tensorflow.lite.DataType (com.google.ai.edge.litert:litert 2.3.0).
package org.tensorflow.lite;

public enum DataType {
    FLOAT32, INT32, UINT8, INT64, STRING, BOOL, INT16, INT8
}
