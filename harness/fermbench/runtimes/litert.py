"""LiteRT (formerly TensorFlow Lite): .tflite files converted from PyTorch with litert-torch, run by
ai-edge-litert's interpreter with XNNPACK (export/litert/, runner/litert_engine.py), fp32 and int8.
Both packages are the `litert` extra; the Android flavor carries Google's LiteRT AAR (16 KB aligned)."""

from .base import Compat, Runtime

LITERT = Runtime(
    name="litert",
    label="LiteRT",
    versions=("litert-2.3.0",),
    file_format="tflite",
    quants=("fp32", "int8"),
    model_file="{model}.{quant}.tflite",
    meta_file="{model}.{quant}.tflite.json",
    tool_versions="fermbench.export.litert.exporter:package_versions",
    exporter="fermbench.export.litert.exporter:export_tflite",
    gates=(
        "parity with eager",
        "every operator delegated to XNNPACK",
        "readable by the pinned runtime",
        "int8 agreement",
    ),
    engine="fermbench.runner.litert_engine:LitertEngine",
    flavor="litert",
    package="org.fermbench.runner.litert",
    libraries=("libtensorflowlite_jni.so",),  # the Interpreter API's JNI library (org.tensorflow.lite)
    # The 2.3.0 AARs declare minSdk 24 (a lower one fails the manifest merge).
    device=Compat(abis=("arm64-v8a", "x86_64"), min_sdk=24, library_align=16384),
    modules=("litert_torch", "ai_edge_litert"),
    install_hint="install the litert extra: pip install '.[litert]' (litert-torch==0.10.0, ai-edge-litert==2.3.0)",
)
