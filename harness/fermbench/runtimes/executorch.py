"""ExecuTorch with the XNNPACK delegate: .pte programs, fp32 and int8 (PT2E, calibrated on FER-2013)."""

from .base import Compat, Runtime

EXECUTORCH = Runtime(
    name="executorch",
    label="ExecuTorch",
    versions=("executorch-1.4.1",),
    file_format="pte",
    quants=("fp32", "int8"),
    model_file="{model}.{quant}.pte",
    meta_file="{model}.{quant}.json",
    tool_versions="fermbench.export.executorch_api:tool_versions",
    exporter="fermbench.export.pte:export_pte",
    gates=(
        "parity with eager",
        "every operator delegated to XNNPACK",
        "program identifier the runtime reads",
        "int8 agreement",
    ),
    engine="fermbench.runner.engines:ExecutorchEngine",
    flavor="executorch",
    package="org.fermbench.runner.executorch",
    libraries=("libexecutorch.so", "libfbjni.so"),
    device=Compat(abis=("arm64-v8a", "x86_64"), min_sdk=26, library_align=16384),
    modules=("executorch",),
    install_hint="pip install the executorch release that matches torch (see README)",
)
