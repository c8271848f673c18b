"""What a session measures: every (model, runtime, quantisation) the settings ask for.

`--runtimes A,B --quant fp32,int8` is a matrix: each model is exported for each runtime at each
quantisation that runtime has (int8 is ExecuTorch's, so Lite contributes its fp32 only). A
quantisation that no requested runtime has is a mistake, said in one line.
"""

from __future__ import annotations

from .. import runtimes as registry
from ..errors import ConfigError, FermbenchError
from ..export.runtimes import QUANTS, RUNTIMES, Runtime, get_runtime
from ..store import Variant


def runner_runtime(runtime: Runtime) -> str:
    """The runner that runs an export runtime's files: pytorch_lite, executorch, litert (runtimes/)."""
    return registry.by_version(runtime.name).name


def check_runtimes(runtimes: tuple[str, ...], quants: tuple[str, ...]) -> list[Runtime]:
    try:
        chosen = [get_runtime(name) for name in runtimes]
    except FermbenchError as exc:
        raise ConfigError(f"--runtimes: {exc}") from None
    unknown = [q for q in quants if q not in QUANTS]
    if unknown:
        raise ConfigError(f"--quant {','.join(unknown)}: choose from {', '.join(QUANTS)}")
    for quant in quants:
        if not any(quant in r.quants for r in chosen):
            having = [r.name for r in RUNTIMES.values() if quant in r.quants]
            raise ConfigError(
                f"--quant {quant}: none of --runtimes {','.join(runtimes)} has it; add --runtimes {having[0]}"
                if having
                else f"--quant {quant}: no runtime has it"
            )
    if len(set(runtimes)) != len(runtimes) or len(set(quants)) != len(quants):
        raise ConfigError("a runtime or quantisation is named twice; name each once")
    for runtime in chosen:
        spec = registry.by_version(runtime.name)
        missing = registry.missing_modules(spec)
        if missing:
            raise ConfigError(
                f"--runtimes {runtime.name} needs the Python modules {', '.join(missing)}: {spec.install_hint}"
            )
    return chosen


def plan_variants(models: list[str], runtimes: tuple[str, ...], quants: tuple[str, ...]) -> list[Variant]:
    """Every (model, runtime, quant) to measure, in a stable order."""
    chosen = check_runtimes(runtimes, quants)
    return [
        Variant(model, runtime.name, quant)
        for model in models
        for runtime in chosen
        for quant in quants
        if quant in runtime.quants
    ]
