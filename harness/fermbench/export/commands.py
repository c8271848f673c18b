"""`fermbench export`: checkpoints -> gated .ptl or .pte files under models/."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from .common import ExportResult
from .runtimes import DEFAULT_RUNTIME, QUANTS, RUNTIMES

if TYPE_CHECKING:
    from ..zoo.registry import Architecture


@click.command("export")
@click.argument("models", nargs=-1)
@click.option(
    "--model",
    "model_opts",
    multiple=True,
    help="A model to export (repeatable, or a comma list): a registered name (`fermbench models`) or "
    "package.module:factory.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    help="Checkpoint to export (one model only). Default: models/<model>.ckpt.",
)
@click.option(
    "--untrained",
    is_flag=True,
    help="Export freshly initialised weights even if a checkpoint exists (the study's models; any other "
    "model has the weights its factory gives).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: models/).")
@click.option(
    "--runtime",
    default=DEFAULT_RUNTIME,
    show_default=True,
    help=f"Android runtime the file must load in: {', '.join(sorted(RUNTIMES))}.",
)
@click.option(
    "--quant",
    default="fp32",
    show_default=True,
    help=f"Quantisation: {', '.join(QUANTS)} (int8: ExecuTorch and LiteRT).",
)
@click.option("--fer-data", type=click.Path(), help="FER-2013 copy for int8 calibration and its agreement gate.")
@click.option(
    "--images",
    type=click.Path(),
    help="int8 of a model that is not a FER-2013 model: labelled images of its own kind (class subfolders "
    "or a CSV of path,label), prepared its way, for calibration and the agreement gate.",
)
@click.option("--bytecode", type=int, help="Lite only: backport to this bytecode version (4 and up).")
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON instead of a table.")
def export_cmd(
    models: tuple[str, ...],
    model_opts: tuple[str, ...],
    checkpoint: str | None,
    untrained: bool,
    out_dir: str | None,
    runtime: str,
    quant: str,
    fer_data: str | None,
    images: str | None,
    bytecode: int | None,
    as_json: bool,
) -> None:
    """Export models for a phone's runtime, checked before they can reach a phone.

    PyTorch Lite (.ptl): reloaded with the host lite interpreter and compared with eager PyTorch
    (max abs difference <= 1e-4, times the largest logit above 1), bytecode version checked
    against the runtime, operator list recorded. ExecuTorch (.pte, XNNPACK): fp32 compared with eager the same way; int8 quantised
    with calibration images from FER-2013 Training and refused below 98% top-1 agreement with
    fp32 on 1,000 PublicTest images; refused where a convolution or linear layer is not run by
    XNNPACK or the .pte format is not one the runtime reads. LiteRT (.tflite, XNNPACK): the same
    parity and int8 gates, every operator in an XNNPACK partition, the file read by the pinned
    interpreter (needs the litert extra). Metadata goes beside each file
    (models/<model>.json, models/<model>.<quant>.json, models/<model>.<quant>.tflite.json). With no MODELS, the study's
    three. A model is a registered name or package.module:factory (e.g. --model my_package.models:my_net,
    a function returning the module and its fermbench.zoo.ModelSpec), exported with the weights the
    factory gives; int8 of a model that is not a FER-2013 model calibrates on its own kind of images.

    \b
    Examples:
      fermbench export
      fermbench export resnet9 --checkpoint models/resnet9.ckpt
      fermbench export shallow_cnn --runtime pytorch_android_lite-1.10.0 --bytecode 7
      fermbench export --runtime executorch-1.4.1 --quant int8 --fer-data ../shared/fer2013
      fermbench export --runtime litert-2.3.0 --quant fp32
      fermbench export --model examples.mobilenet_v3_small:mobilenet_v3_small --runtime executorch-1.4.1 --quant int8 --images shapes
    """
    from .. import runtimes
    from ..errors import ExportError
    from ..zoo import MODEL_NAMES
    from ..zoo.checkpoint import served_line
    from .models import export_model
    from .runtimes import LiteRuntime, check_quant, get_runtime

    check_quant(get_runtime(runtime), quant)
    names = [*models, *(n.strip() for opt in model_opts for n in opt.split(",") if n.strip())] or list(MODEL_NAMES)
    archs = resolve_models(names)
    if checkpoint and len(names) != 1:
        raise ExportError("--checkpoint names one model's weights: pass exactly one model name with it")
    console = Console(stderr=as_json)
    results = []
    for name, arch in zip(names, archs):
        result = export_model(
            name,
            arch=arch,
            checkpoint=checkpoint,
            out_dir=out_dir,
            bytecode=bytecode,
            runtime=runtime,
            untrained=untrained,
            quant=quant,
            fer_data=fer_data,
            samples=own_images(arch, images) if quant == "int8" and images else None,
        )
        if result.meta["trained"]:  # which file served the model, checked for architecture and hashed
            source = result.meta["checkpoint"]
            console.print(
                served_line(arch.name, source["path"], source["sha256"], result.meta["training"]),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        for note in result.notes:
            console.print(f"[bold yellow]WARNING[/] {note}")
        results.append(result)
    if as_json:
        click.echo(json.dumps([r.meta for r in results], indent=2, sort_keys=True))
        return
    target = get_runtime(runtime)
    # Lite's files carry a bytecode version and no delegation; every other runtime's gates count operators.
    console.print(
        _lite_table(results, runtime) if isinstance(target, LiteRuntime) else _gated_table(results, runtime, quant)
    )
    beside = runtimes.by_version(runtime).meta_file.format(model="<model>", quant=quant)
    console.print(f"written to {results[0].path.parent}/ (metadata beside each file as {beside})")


def resolve_models(names: list[str]) -> list[Architecture]:
    """Each name's architecture (one-line errors for unknown ones), no model named twice."""
    from ..errors import ConfigError
    from ..zoo import resolve

    archs = [resolve(name) for name in names]
    seen: dict[str, str] = {}
    for name, arch in zip(names, archs):
        if arch.name in seen:
            raise ConfigError(
                f"{name} and {seen[arch.name]} are both the model {arch.name}: name each model once"
                if name != seen[arch.name]
                else f"model {name} is named twice: name each model once"
            )
        seen[arch.name] = name
    return archs


def _weights(r: ExportResult) -> str:
    """trained (a checkpoint), UNTRAINED (a study model's fresh weights), or factory (its own)."""
    if r.meta["trained"] is None:
        return "factory"
    return "trained" if r.meta["trained"] else "[yellow]UNTRAINED[/]"


def _lite_table(results: list[ExportResult], runtime: str) -> Table:
    table = Table(title=f"exported for {runtime}")
    for col in ("model", "file", "size", "bytecode", "max |Δ|", "ops", "weights"):
        table.add_column(col, no_wrap=True)
    for r in results:
        m = r.meta
        table.add_row(
            r.name,
            r.path.name,
            f"{m['bytes'] / 2**20:.1f} MiB",
            str(m["bytecode_version"]),
            f"{m['max_abs_diff']:.1e}",
            str(len(m["operators"])),
            _weights(r),
        )
    return table


def _gated_table(results: list[ExportResult], runtime: str, quant: str) -> Table:
    """ExecuTorch's and LiteRT's exports: parity or int8 agreement, and operators on XNNPACK."""
    table = Table(title=f"exported for {runtime}, {quant}")
    for col in ("model", "file", "size", "max |Δ|", "agreement", "on XNNPACK", "weights"):
        table.add_column(col, no_wrap=True)
    for r in results:
        m = r.meta
        check = m.get("agreement")
        diff = check["max_abs_diff"] if check else m["max_abs_diff"]
        d = m["delegation"]
        operators = sum(sum(counts.values()) for counts in d["by_operator"].values())
        table.add_row(
            r.name,
            r.path.name,
            f"{m['bytes'] / 2**20:.1f} MiB",
            f"{diff:.1e}",
            f"{check['top1_agreement']:.1%} of {check['images']}" if check else "-",
            f"{d['delegated']}/{operators} ops",
            _weights(r),
        )
    return table


def own_images(arch: Any, images: str) -> Any:
    """int8 samples from a labelled folder prepared the model's way (none for a FER-2013 model:
    it calibrates on --fer-data as the study's do)."""
    from ..data.labelled import load_labelled
    from ..zoo.study import is_fer_spec
    from .samples import own_samples

    spec = arch.spec()
    if is_fer_spec(spec):
        return None
    data = load_labelled(images, spec, arch.name)
    return own_samples(data.images, spec.preprocess, str(images), list(data.names))
