"""Benchmark settings, defined once: the `Settings` fields below are the table.

Each field carries its default, its help and its range. From that one table come the
`fermbench run` options (`settings_options`), the config-file keys (the field names) and the
stored settings of a session. The latency fields are rows of the latency table
(`fermbench.latency_settings`), which also gives the runner's `-e` arguments under the same
names (`Settings.protocol_args`), the protocol's defaults and the Java runner's.

Precedence: defaults < config file (TOML or JSON) < command-line options. Unknown keys are errors
(a typo must not silently fall back to a default); every value is type- and range-checked.

Example config (`--config bench.toml`):

    warmup = 10
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
import math
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from ..data.faces import FACE_POLICIES
from ..errors import ConfigError
from ..export.runtimes import DEFAULT_RUNTIME
from ..latency_settings import LATENCY, USER_LATENCY

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as a package (setup.cfg: tomli where python_version < "3.11")
    import tomli as tomllib

F = TypeVar("F", bound=Callable[..., Any])
COOLDOWNS = ("thermal", "fixed", "none")


def setting(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    unit: str = "",
    latency: bool = False,
    choices: tuple[str, ...] = (),
    option: bool = True,
) -> Any:
    """A Settings field: its default and how it is checked and shown; `latency`: passed to the
    runner under its own name. A number is always checked finite and, where given, within
    [minimum, maximum] `unit`."""
    return field(
        default=default,
        metadata={
            "help": help,
            "minimum": minimum,
            "maximum": maximum,
            "unit": unit,
            "latency": latency,
            "choices": choices,
            "option": option,
        },
    )


def latency_setting(name: str) -> Any:
    """A Settings field made from the latency table's row of that name: default, help, range, unit."""
    row = LATENCY[name]
    return setting(row.default, row.help, minimum=row.minimum, maximum=row.maximum, unit=row.unit, latency=True)


@dataclass(frozen=True)
class Settings:
    devices: tuple[str, ...] = setting(
        (),
        "adb serial (HOST:PORT/SERIAL when two adb servers have it), `host` "
        "(host CPU), `sim` (a simulated phone), `auto` (attached phones, else "
        "sim) or `all` (every ready device of every adb server); repeat for "
        "several",
        option=False,
    )
    models: tuple[str, ...] = setting(
        (),
        "models: names from `fermbench models` or package.module:factory; repeat --model or "
        "comma-separate --models (default: the study's three)",
        option=False,
    )
    model_files: tuple[str, ...] = setting(
        (), "a ready model file (.ptl, .pte, .tflite) to time as it is; repeat for several", option=False
    )
    input_shape: str | None = setting(
        None, "input shape of a --model-file that does not record it (a .ptl), e.g. 1x3x224x224"
    )
    adb_servers: tuple[str, ...] = setting(
        (),
        "adb server HOST:PORT to find devices on; repeat for a device farm "
        "(default: the local one, ANDROID_ADB_SERVER_PORT or 5037); a device "
        "two servers have is named HOST:PORT/SERIAL",
        option=False,
    )
    shard: bool = setting(
        False,
        "identical devices (same model and build fingerprint) share the work: each model "
        "repeat runs once, on whichever device of the pool is free",
    )
    runtimes: tuple[str, ...] = setting(
        (DEFAULT_RUNTIME,),
        "comma-separated runtimes to export for and run on, "
        "e.g. pytorch_android_lite-2.1.0,executorch-1.4.1,litert-2.3.0 (`fermbench export --help`)",
    )
    quant: tuple[str, ...] = setting(
        ("fp32",), "comma-separated quantisations: fp32, int8 (int8: ExecuTorch and LiteRT; calibrated on --fer-data)"
    )
    # latency: the rows of latency_settings.py (a test checks these names against the table)
    warmup: int = latency_setting("warmup")
    warmup_seconds: float = latency_setting("warmup_seconds")
    iterations: int = latency_setting("iterations")
    min_seconds: float = latency_setting("min_seconds")
    max_seconds: float = latency_setting("max_seconds")
    target_precision: float = latency_setting("target_precision")
    threads: int = latency_setting("threads")
    repeats: int = setting(
        1, "latency repeats per model, for run-to-run spread", minimum=1, maximum=1000, unit="repeats"
    )
    cooldown: str = setting(
        "thermal",
        "between models: wait for thermal status none and the battery back near its "
        "start temperature (thermal), keep the device idle for cooldown_seconds (fixed, as "
        "ExecuTorch's device-farm jobs do), or not at all (none)",
        choices=COOLDOWNS,
    )
    cooldown_seconds: float = setting(
        30.0,
        "the cool-down's length: at most this long (thermal), exactly this long (fixed)",
        minimum=0.0,
        maximum=3600.0,
        unit="seconds",
    )
    # accuracy
    fer_data: str | None = setting(None, "FER-2013 folder or CSV for on-device accuracy")
    fer_split: str = setting("PublicTest", "split to classify")
    fer_limit: int | None = setting(
        None, "classify N images spread over the split", minimum=1, maximum=10_000_000, unit="images"
    )
    photos: str | None = setting(None, "labelled photos: class subfolders or a CSV of path,label")
    images: str | None = setting(
        None,
        "labelled images (class subfolders or a CSV of path,label) that each model classifies with its "
        "own preprocessing: the accuracy set of models that are not FER-2013's (int8 calibrates on it)",
    )
    face_policy: str = setting(
        "largest", "photos with several faces: classify the largest or skip them", choices=FACE_POLICIES
    )
    # app size and runner
    apk: tuple[str, ...] = setting(
        (), "runner APKs, comma-separated (one per runtime flavor): app size with the model bundled, and --install"
    )
    install: bool = setting(False, "install the runner from --apk first")
    # robustness
    seed: int | None = setting(
        None, "seed of the randomised model order (default: drawn and recorded)", minimum=0, maximum=2**63 - 1
    )
    timeout_seconds: float = setting(600.0, "limit of one runner call", minimum=1.0, maximum=86400.0, unit="seconds")
    reconnect_budget_seconds: float = setting(
        60.0, "how long to wait for a lost device", minimum=0.0, maximum=86400.0, unit="seconds"
    )
    checkpoints: str | None = setting(None, "folder with <model>.ckpt (default models/)")
    untrained: bool = setting(
        False,
        "models without a checkpoint run with random weights, flagged UNTRAINED "
        "(without it, a missing checkpoint stops the run)",
    )
    bytecode: int | None = setting(None, "export for an older runtime's bytecode version", minimum=1, maximum=99)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for name in _LISTS:
            d[name] = list(getattr(self, name))
        return d

    def protocol_args(self) -> dict[str, Any]:
        """The runner's latency arguments (`protocol.latency_args`): the same names on the wire."""
        args: dict[str, Any] = {name: getattr(self, name) for name in USER_LATENCY}
        if self.iterations > LATENCY["max_iterations"].default:  # the runner refuses a cap below the minimum
            args["max_iterations"] = self.iterations
        return args


SETTINGS = {f.name: f for f in fields(Settings)}
KEYS = tuple(SETTINGS)
_LISTS = ("devices", "models", "model_files", "adb_servers", "runtimes", "quant", "apk")


def _kind(name: str) -> type:
    """int, float, str or bool: the field's type without its None."""
    tp = typing.get_type_hints(Settings)[name]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    return tp  # type: ignore[no-any-return]


def _optional(name: str) -> bool:
    return SETTINGS[name].default is None


def _check(key: str, value: Any, where: str) -> Any:
    if key in _LISTS:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: {key} must be a list of names")
        return tuple(value)
    if value is None:
        if not _optional(key):
            raise ConfigError(f"{where}: {key} needs a value")
        return None
    kind, meta = _kind(key), SETTINGS[key].metadata
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false")
        return value
    if kind in (int, float):
        return _number(key, value, where, kind, meta)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{where}: {key} must be one of {', '.join(meta['choices'])}, got {value!r}")
    if not value.strip():
        raise ConfigError(f"{where}: {key} is empty; give a value or leave the setting out")
    return value


def _number(key: str, value: Any, where: str, kind: type, meta: Any) -> int | float:
    """A whole number, or a finite number, within the setting's range, in its unit."""
    lo, hi, unit = meta["minimum"], meta["maximum"], meta["unit"]
    units = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        what = "a whole number" if kind is int else f"a number of {unit or 'units'}"
        raise ConfigError(f"{where}: {key} must be {what}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number{' of ' + unit if unit else ''}, got {value!r}")
    if lo is not None and value < lo:
        raise ConfigError(f"{where}: {key} must be at least {_shown(lo)}{units}, got {_shown(value)}")
    if hi is not None and value > hi:
        raise ConfigError(f"{where}: {key} must be at most {_shown(hi)}{units}, got {_shown(value)}")
    return kind(value)  # type: ignore[no-any-return]


def _shown(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else f"{x:g}"


def read_config(path: str | Path) -> dict[str, Any]:
    """The keys of a TOML (`.toml`) or JSON (`.json`) config file, checked against KEYS."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; pass an existing --config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not text (UTF-8); pass a TOML or JSON file") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc.strerror}); pass a readable file") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} does not parse ({exc}); fix its syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold key = value settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(KEYS)}")
    return {k: _check(k, v, f"config file {path}") for k, v in data.items()}


def build_settings(config: str | Path | None = None, **options: Any) -> Settings:
    """Defaults < config file < options (an option left as None or () does not override)."""
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(KEYS)}")
    values: dict[str, Any] = read_config(config) if config else {}
    for key, value in options.items():
        if key in _LISTS and isinstance(value, str) and not value.strip(",").strip():
            raise ConfigError(f"option --{key.replace('_', '-')} is empty; give a value or leave the option out")
        if value is None or (key in _LISTS and not value):
            continue
        values[key] = _check(key, value, f"option --{key.replace('_', '-')}")
    settings = _combined(Settings(**values))
    _check_apks(settings.apk)
    return settings


def _combined(settings: Settings) -> Settings:
    """The checks between settings, for new and resumed sessions alike."""
    _check_servers(settings)
    if settings.install and not settings.apk:
        raise ConfigError("--install needs --apk PATH (the runner APK to install)")
    if settings.min_seconds > settings.max_seconds or settings.warmup_seconds > settings.max_seconds:
        raise ConfigError(f"min_seconds and warmup_seconds must not exceed max_seconds ({settings.max_seconds})")
    return settings


def _check_apks(apks: tuple[str, ...]) -> None:
    """Each --apk must be an existing APK (a zip), not a typo found only at the app-size phase."""
    import zipfile

    for apk in apks:
        path = Path(apk)
        if not path.is_file():
            raise ConfigError(f"--apk {apk}: no such file; pass the runner APK (`fermbench runner build` makes it)")
        if not zipfile.is_zipfile(path):
            raise ConfigError(f"--apk {apk} is not an APK (not a zip archive); pass the runner APK")


def _check_servers(settings: Settings) -> None:
    """Every --adb-server, and the server of every HOST:PORT/SERIAL device, must be HOST:PORT."""
    from ..device.farm import Farm

    Farm.from_texts(settings.adb_servers, settings.devices)


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Settings stored in a session.json (for --resume); unknown keys mean a newer harness wrote it."""
    if not isinstance(data, dict):
        raise ConfigError("the session's stored settings are not an object; the session.json is corrupt")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"stored settings have unknown key(s) {', '.join(unknown)}; resume with "
            f"the fermbench version that started the session"
        )
    return _combined(Settings(**{k: _check(k, v, "stored settings") for k, v in data.items()}))


def option_help(name: str) -> str:
    """A setting's help with its default, as `fermbench run --help` shows it."""
    meta, default = SETTINGS[name].metadata, SETTINGS[name].default
    shown = (
        ""
        if default in (None, False, ())
        else f" (default {default:g})"
        if isinstance(default, float)
        else f" (default {','.join(default)})"
        if isinstance(default, tuple)
        else f" (default {default})"
    )
    return str(meta["help"]) + shown


def settings_options(func: F) -> F:
    """Add one click option per setting (`--iterations`, `--fer-data`, ...) to a command."""
    import click

    for name in reversed(KEYS):
        if not SETTINGS[name].metadata["option"]:
            continue
        if name in _LISTS:  # a comma-separated list
            func = click.option(f"--{name.replace('_', '-')}", default=None, help=option_help(name))(func)
            continue
        kind, flag = _kind(name), f"--{name.replace('_', '-')}"
        choices = SETTINGS[name].metadata["choices"]
        if kind is bool:
            func = click.option(flag, is_flag=True, default=None, help=option_help(name))(func)
        else:
            func = click.option(
                flag, type=click.Choice(choices) if choices else kind, default=None, help=option_help(name)
            )(func)
    return func
