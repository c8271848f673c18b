"""Older session files, read as the current schema (never rewritten on disk).

Schema 1 (fermbench before runtimes and quantisation) kept one record per (device, model), a
session's `models` keyed by model name, and one `runner` per device; every one of its files is
a PyTorch Lite fp32 export. Reading it fills in what it implies: the runtime its exports were
made for (`runtime_target` in their meta), quantisation fp32, and the device's runner under its
runtime. A schema-1 session can be reported, not resumed (its files are laid out differently).

Schema 2 kept a repeat's memory as the headline counter's value at each point
(`before_load_kb`, ...) and its thermal state as `status_before`, `battery_temp_after_c`, ...;
schema 3 keeps the runner's readings themselves (measures/readings.py). Reading schema 1 or 2
puts each stored value into its reading; what those files never kept stays None. A schema-2
session can be resumed: its files are read this way and rewritten as schema 3.
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
    return record_v2(dict(obj, runtime=runtime, quant=LITE_FP32[1]))


def session(obj: dict[str, Any]) -> dict[str, Any]:
    """session.json of any older schema as the current one."""
    return session_v1(obj) if obj.get("schema_version") == 1 else dict(obj, schema_version=SCHEMA_VERSION)


def record(obj: dict[str, Any], v1_models: dict[str, Any]) -> dict[str, Any]:
    """A record of any older schema as the current one (`v1_models`: a schema-1 session's models)."""
    return record_v1(obj, v1_models) if obj.get("schema_version") == 1 else record_v2(obj)


def _v2_memory(memory: Any) -> Any:
    """Schema 2's headline values (and the native heap and peak it kept) as readings."""
    if not isinstance(memory, dict):
        return memory  # null, or corrupt: the codec says which
    old = dict(memory)
    key = f"{str(old.get('counter', '')).lower()}_kb"
    points = {
        point: {key: old.pop(f"{point}_kb", None)}
        for point in ("before_load", "after_runtime", "after_load", "after_run")
    }
    points["before_load"]["native_heap_kb"] = old.pop("native_heap_before_load_kb", None)
    points["after_run"]["native_heap_kb"] = old.pop("native_heap_after_run_kb", None)
    points["after_run"]["peak_rss_kb"] = old.pop("peak_rss_kb", None)
    return {**old, **points}  # anything else stays, and the codec refuses it by name


def _v2_thermal(thermal: Any) -> Any:
    if not isinstance(thermal, dict):
        return thermal
    old = dict(thermal)
    note = old.pop("note", None)
    sides = {
        side: {
            "thermal_status": old.pop(f"status_{side}", None),
            "battery_temp_c": old.pop(f"battery_temp_{side}_c", None),
            "battery_level_pct": old.pop(f"battery_level_{side}_pct", None),
            "note": note,
        }
        for side in ("before", "after")
    }
    return {**old, **sides}


def record_v2(obj: dict[str, Any]) -> dict[str, Any]:
    latency = obj.get("latency")
    if isinstance(latency, list):
        latency = [
            dict(rep, memory=_v2_memory(rep.get("memory")), thermal=_v2_thermal(rep.get("thermal")))
            if isinstance(rep, dict)
            else rep
            for rep in latency
        ]
    return dict(obj, schema_version=SCHEMA_VERSION, latency=latency)
