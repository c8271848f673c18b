"""Benchmark settings: defaults, then a config file (TOML or JSON), then command-line options.

Unknown keys are errors (a typo must not silently fall back to a default). Every value is
type- and range-checked, and the effective settings are stored in the session's session.json.

Example config (`--config bench.toml`):

    warmup = 10
    warmup_seconds = 0.5
    iterations = 100
    min_seconds = 2.0
    repeats = 3
    models = ["shallow_cnn", "resnet9"]
    fer_data = "../shared/fer2013"
    fer_limit = 500
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..data.faces import FACE_POLICIES
from ..errors import ConfigError


@dataclass(frozen=True)
class Settings:
    devices: tuple[str, ...] = ()  # serials, or "host" / "sim"
    models: tuple[str, ...] = ()  # empty = every model in the zoo
    # latency (TFLite benchmark_model-like: both the count and the time must be reached)
    warmup: int = 10
    warmup_seconds: float = 0.5
    iterations: int = 50
    min_seconds: float = 1.0
    max_seconds: float = 60.0  # a timed phase stops here whatever the count
    threads: int = 1
    repeats: int = 1
    cooldown_seconds: float = 30.0  # the most to wait between models for thermal/battery to settle
    # accuracy
    fer_data: str | None = None
    fer_split: str = "PublicTest"
    fer_limit: int | None = None  # first N images of the split (stratification is not needed: it is a smoke check)
    photos: str | None = None
    face_policy: str = "largest"
    # app size and runner
    apk: str | None = None
    install: bool = False  # install (or update) the runner from `apk` before the session
    # robustness
    seed: int | None = None  # model order; None = drawn and recorded
    timeout_seconds: float = 600.0  # one runner call
    reconnect_budget_seconds: float = 60.0  # how long to wait for a lost device to come back
    checkpoints: str | None = None  # folder with <model>.ckpt (default: models/)
    bytecode: int | None = None  # export for an older runtime

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["devices"], d["models"] = list(self.devices), list(self.models)
        return d


KEYS = tuple(f.name for f in fields(Settings))
_INTS = {"warmup": 0, "iterations": 1, "threads": 1, "repeats": 1, "fer_limit": 1, "seed": 0, "bytecode": 1}
_FLOATS = {"warmup_seconds": 0.0, "min_seconds": 0.0, "max_seconds": 0.001, "cooldown_seconds": 0.0,
           "timeout_seconds": 1.0, "reconnect_budget_seconds": 0.0}
_STRINGS = ("fer_data", "fer_split", "photos", "face_policy", "apk", "checkpoints")


def _check(key: str, value: Any, where: str) -> Any:
    if key in ("devices", "models"):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: {key} must be a list of names")
        return tuple(value)
    if value is None:
        if key in _INTS and key not in ("fer_limit", "seed", "bytecode") or key in _FLOATS:
            raise ConfigError(f"{where}: {key} needs a value")
        return None
    if key in _INTS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
        if value < _INTS[key]:
            raise ConfigError(f"{where}: {key} must be at least {_INTS[key]}, got {value}")
        return value
    if key in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} must be a number of seconds, got {value!r}")
        if value < _FLOATS[key]:
            raise ConfigError(f"{where}: {key} must be at least {_FLOATS[key]}, got {value}")
        return float(value)
    if key == "install":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: install must be true or false")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    if key == "face_policy" and value not in FACE_POLICIES:
        raise ConfigError(f"{where}: face_policy must be one of {', '.join(FACE_POLICIES)}, got {value!r}")
    return value


def read_config(path: str | Path) -> dict[str, Any]:
    """The keys of a TOML (`.toml`) or JSON (`.json`) config file, checked against KEYS."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; pass an existing --config file") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} does not parse ({exc}); fix its syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold key = value settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; "
                          f"valid keys: {', '.join(KEYS)}")
    return {k: _check(k, v, f"config file {path}") for k, v in data.items()}


def build_settings(config: str | Path | None = None, **options: Any) -> Settings:
    """Defaults < config file < options (an option left as None or () does not override)."""
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(KEYS)}")
    values: dict[str, Any] = read_config(config) if config else {}
    for key, value in options.items():
        if value is None or (key in ("devices", "models") and not value):
            continue
        values[key] = _check(key, value, f"option --{key.replace('_', '-')}")
    settings = Settings(**values)
    if settings.install and not settings.apk:
        raise ConfigError("--install needs --apk PATH (the runner APK to install)")
    if settings.min_seconds > settings.max_seconds or settings.warmup_seconds > settings.max_seconds:
        raise ConfigError(f"min_seconds and warmup_seconds must not exceed max_seconds ({settings.max_seconds})")
    return settings


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Settings stored in a session.json (for --resume); unknown keys mean a newer harness wrote it."""
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"stored settings have unknown key(s) {', '.join(unknown)}; resume with "
                          f"the fermbench version that started the session")
    return Settings(**{k: _check(k, v, "stored settings") for k, v in data.items()})


def describe() -> list[tuple[str, str]]:
    """(key, default) pairs for help texts."""
    return [(f.name, repr(f.default) if f.default is not dataclasses.MISSING else "()")
            for f in fields(Settings)]

