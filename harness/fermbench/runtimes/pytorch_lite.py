"""PyTorch Lite (pytorch_android_lite): TorchScript Lite .ptl files through the lite interpreter,
fp32 only. Deprecated upstream, still in many apps; its AAR's libraries are 4 KB aligned."""

from .base import Compat, Runtime

PYTORCH_LITE = Runtime(
    name="pytorch_lite",
    label="PyTorch Lite",
    versions=("pytorch_android_lite-2.1.0", "pytorch_android_lite-1.11.0", "pytorch_android_lite-1.10.0"),
    file_format="ptl",
    quants=("fp32",),
    model_file="{model}.ptl",
    meta_file="{model}.json",
    exporter="fermbench.export.lite:export_ptl",
    gates=("parity with eager", "bytecode version the runtime reads", "file loads in the lite interpreter"),
    engine="fermbench.runner.engines:LiteEngine",
    flavor="pytorchLite",
    package="org.fermbench.runner",
    libraries=("libpytorch_jni_lite.so", "libfbjni.so", "libc++_shared.so"),
    device=Compat(abis=("arm64-v8a", "armeabi-v7a", "x86_64", "x86"), min_sdk=21, library_align=4096),
)
