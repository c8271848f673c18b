"""Older session files, read as the current schema (never rewritten on disk).

Schema 1 (fermbench before runtimes and quantisation) kept one record per (device, model), a
session's `models` keyed by model name, and one `runner` per device; every one of its files is
a PyTorch Lite fp32 export. Reading it fills in what it implies: the runtime its exports were
made for (`runtime_target` in their meta), quantisation fp32, and the device's runner under its
runtime. A schema-1 session can be reported, not resumed (its files are laid out differently).
"""

from __future__ import annotations

from typing import Any

from .records import LITE_FP32, SCHEMA_VERSION, variant_key


def _v1_runtime(models: dict[str, Any], model: str) -> str:
    meta = models.get(model)
    target = meta.get("runtime_target") if isinstance(meta, dict) else None
    return target if isinstance(target, str) and target else LITE_FP32[0]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def session_v1(obj: dict[str, Any]) -> dict[str, Any]:
    models = _dict(obj.get("models"))
    out = dict(obj, schema_version=SCHEMA_VERSION)
    out["models"] = {variant_key(name, _v1_runtime(models, name), LITE_FP32[1]): meta for name, meta in models.items()}
    devices = _dict(obj.get("devices"))
    out["devices"] = {}
    for serial, dev in devices.items():
        if isinstance(dev, dict) and "runner" in dev:
            dev = dict(dev)
            runner = dev.pop("runner")
            runtime = runner.get("runtime") if isinstance(runner, dict) else None
            dev["runners"] = {runtime or "pytorch_lite": runner} if runner else {}
        out["devices"][serial] = dev
    return out


def record_v1(obj: dict[str, Any], v1_models: dict[str, Any]) -> dict[str, Any]:
    model = obj.get("model")
    runtime = _v1_runtime(v1_models, model) if isinstance(model, str) else LITE_FP32[0]
    return dict(obj, schema_version=SCHEMA_VERSION, runtime=runtime, quant=LITE_FP32[1])
