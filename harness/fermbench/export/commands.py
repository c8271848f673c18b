"""`fermbench export`: checkpoints -> gated .ptl files under models/."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from .runtimes import DEFAULT_RUNTIME, RUNTIMES


@click.command("export")
@click.argument("models", nargs=-1)
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="Checkpoint to export (one model only). Default: models/<model>.ckpt.")
@click.option("--untrained", is_flag=True, help="Export freshly initialised weights even if a checkpoint exists.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: models/).")
@click.option("--runtime", type=click.Choice(sorted(RUNTIMES)), default=DEFAULT_RUNTIME, show_default=True, help="Android runtime the file must load in.")
@click.option("--bytecode", type=int, help="Backport to this lite bytecode version (4 and up).")
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON instead of a table.")
def export_cmd(models, checkpoint, untrained, out_dir, runtime, bytecode, as_json) -> None:
    """Export models to TorchScript Lite, checked before they can reach a phone.

    Each file is reloaded with the host lite interpreter and compared with eager PyTorch
    (max abs difference <= 1e-4), its bytecode version is checked against the runtime, and its
    operator list and size are recorded in models/<model>.json (also embedded in the .ptl).
    With no MODELS, all models of the zoo are exported.

    \b
    Examples:
      fermbench export
      fermbench export resnet9 --checkpoint models/resnet9.ckpt
      fermbench export shallow_cnn --runtime pytorch_android_lite-1.10.0 --bytecode 7
    """
    from ..errors import ExportError
    from ..zoo import MODEL_NAMES, check_name
    from ..zoo.checkpoint import served_line
    from .lite import export_model

    names = list(models) or list(MODEL_NAMES)
    for name in names:
        check_name(name)
    if checkpoint and len(names) != 1:
        raise ExportError("--checkpoint names one model's weights: pass exactly one model name with it")
    console = Console(stderr=as_json)
    results = []
    for name in names:
        result = export_model(name, checkpoint=checkpoint, out_dir=out_dir, bytecode=bytecode, runtime=runtime, untrained=untrained)
        if result.meta["trained"]:  # which file served the model, checked for architecture and hashed
            source = result.meta["checkpoint"]
            console.print(served_line(name, source["path"], source["sha256"], result.meta["training"]),
                          markup=False, highlight=False, soft_wrap=True)
        for note in result.notes:
            console.print(f"[bold yellow]WARNING[/] {note}")
        results.append(result)
    if as_json:
        click.echo(json.dumps([r.meta for r in results], indent=2, sort_keys=True))
        return
    table = Table(title=f"exported for {runtime}")
    for col in ("model", "file", "size", "bytecode", "max |Δ|", "ops", "weights"):
        table.add_column(col, no_wrap=True)
    for r in results:
        m = r.meta
        table.add_row(
            r.name, r.path.name, f"{m['bytes'] / 2**20:.1f} MiB", str(m["bytecode_version"]), f"{m['max_abs_diff']:.1e}",
            str(len(m["operators"])), "trained" if m["trained"] else "[yellow]UNTRAINED[/]",
        )
    console.print(table)
    console.print(f"written to {results[0].path.parent}/ (metadata beside each file as <model>.json)")
