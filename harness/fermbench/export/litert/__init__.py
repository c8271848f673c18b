"""LiteRT (formerly TensorFlow Lite): .tflite files converted from PyTorch with litert-torch, run
with ai-edge-litert's interpreter and its XNNPACK delegate. Both packages are the `litert` extra.

- runtime.py: what the runtime is (name, versions, format, quantisations, install hint)
- interpreter.py: the pinned interpreter, with and without XNNPACK, and float in/out for int8 files
- gates.py: the checks a .tflite passes before it is accepted
- quantize.py: int8 with litert-torch's PT2E quantizer, on the same FER-2013 calibration images
- exporter.py: convert, write, gate, accept (export_litert_module)
"""
