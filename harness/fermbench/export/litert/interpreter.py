"""ai-edge-litert's interpreter, as the gates and the host engine use it.

The default op resolver applies XNNPACK when tensors are allocated; the resolver without default
delegates runs every operator on LiteRT's reference (builtin) kernels. An int8 file from
litert-torch takes and returns int8 tensors (the converter folds the first quantize and the last
dequantize into the interface), so feeding it float means quantising the input with the input
tensor's scale and zero point, and reading it means dequantising the output: what an app does
with a fully integer model.

Errors are left as the interpreter raises them (ValueError, RuntimeError): the exporter turns
them into ExportErrors, the engine into RunnerErrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...quiet import native_stderr

DELEGATE_NODE = "DELEGATE"  # op name of a node that stands for a delegated partition


def open_interpreter(path: Path, threads: int | None = None, xnnpack: bool = True) -> Any:
    """The interpreter for `path` with tensors allocated (which applies XNNPACK when asked)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    with native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
        interpreter = Interpreter(model_path=str(path), num_threads=threads, experimental_op_resolver_type=resolver)
        interpreter.allocate_tensors()
    return interpreter


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of the model: where it is, its shape and type, and its quantisation."""

    index: int
    shape: tuple[int, ...]
    dtype: str  # numpy's name: float32, int8
    scale: float  # 0.0 when the tensor is not quantised
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale > 0.0

    def encode(self, x: np.ndarray) -> np.ndarray:
        """float32 values as this tensor holds them (quantised when it is)."""
        if not self.quantized:
            plain: np.ndarray = np.ascontiguousarray(x, dtype=np.dtype(self.dtype))
            return plain
        info = np.iinfo(np.dtype(self.dtype))
        q = np.round(np.asarray(x, dtype=np.float32) / self.scale) + self.zero_point
        quantized: np.ndarray = np.clip(q, info.min, info.max).astype(np.dtype(self.dtype))
        return quantized

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """The tensor's values as float32 (dequantised when it is quantised)."""
        if not self.quantized:
            return np.asarray(raw, dtype=np.float32)
        return ((raw.astype(np.float32) - self.zero_point) * self.scale).astype(np.float32)


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero_point = detail["quantization"]
    return TensorSpec(
        int(detail["index"]),
        tuple(int(d) for d in detail["shape"]),
        np.dtype(detail["dtype"]).name,
        float(scale),
        int(zero_point),
    )


def input_specs(interpreter: Any) -> list[TensorSpec]:
    return [_spec(d) for d in interpreter.get_input_details()]


def output_specs(interpreter: Any) -> list[TensorSpec]:
    return [_spec(d) for d in interpreter.get_output_details()]


def run_once(interpreter: Any, inp: TensorSpec, out: TensorSpec, x: np.ndarray) -> np.ndarray:
    """One forward from float32 input to float32 output."""
    interpreter.set_tensor(inp.index, inp.encode(x))
    interpreter.invoke()
    return out.decode(interpreter.get_tensor(out.index))


@dataclass(frozen=True)
class Delegation:
    """The model's operators, by who runs them: XNNPACK or LiteRT's reference kernels."""

    by_operator: dict[str, tuple[int, int]]  # op -> (on XNNPACK, on reference kernels)
    partitions: int  # delegate nodes: XNNPACK subgraphs

    @property
    def delegated(self) -> int:
        return sum(x for x, _ in self.by_operator.values())

    @property
    def reference(self) -> int:
        return sum(r for _, r in self.by_operator.values())

    def to_meta(self) -> dict[str, Any]:
        total = self.delegated + self.reference
        return {
            "backend": "XNNPACK",
            "delegated": self.delegated,
            "reference": self.reference,
            "share": self.delegated / total if total else 0.0,
            "partitions": self.partitions,
            "by_operator": {op: {"xnnpack": x, "reference": r} for op, (x, r) in sorted(self.by_operator.items())},
        }


def delegation(interpreter: Any) -> Delegation:
    """Count who runs each operator, from the op details of an interpreter whose delegate is applied.

    The details list every node of the model followed by one DELEGATE node per partition; the
    replaced nodes stay listed though they no longer run. So walk back from the model's outputs,
    taking a delegate as the producer of every tensor it writes: the model's own nodes reached
    that way run on reference kernels, the others inside a partition.
    """
    ops = interpreter._get_ops_details()  # the interpreter's public API has no execution plan
    delegates = [op for op in ops if op["op_name"] == DELEGATE_NODE]
    producer: dict[int, dict[str, Any]] = {}
    for op in sorted(ops, key=lambda o: o["op_name"] == DELEGATE_NODE):  # delegates last: they win
        for tensor in op["outputs"]:
            producer[int(tensor)] = op
    reached: set[int] = set()
    pending = [int(d["index"]) for d in interpreter.get_output_details()]
    seen: set[int] = set()
    while pending:
        tensor = pending.pop()
        if tensor in seen or tensor not in producer:
            continue
        seen.add(tensor)
        op = producer[tensor]
        if op["op_name"] != DELEGATE_NODE:
            reached.add(int(op["index"]))
        pending.extend(int(t) for t in op["inputs"] if t >= 0)
    counts: dict[str, list[int]] = {}
    for op in ops:
        if op["op_name"] != DELEGATE_NODE:
            counts.setdefault(op["op_name"], [0, 0])[int(op["index"]) in reached] += 1
    return Delegation({name: (x, r) for name, (x, r) in counts.items()}, len(delegates))
