"""`fermbench train` and `fermbench evaluate`: parse options, call the trainer or evaluator, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from ..errors import ConfigError
from ..labels import CLASS_NAMES

if TYPE_CHECKING:
    from .evaluate import EvalResult

# options that define a run; on --resume they come from run.json and must not be given again
RUN_SETTINGS = (
    "model",
    "epochs",
    "batch_size",
    "max_lr",
    "weight_decay",
    "grad_clip",
    "crop_padding",
    "seed",
    "val_split",
    "precision",
    "channels_last",
)


@click.command("train")
@click.option("--model", help="Architecture: shallow_cnn, deep_cnn or resnet9 (see `fermbench models`).")
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    help="FER-2013: image-folder root (train/, test/) or fer2013.csv. On --resume, defaults to the run's.",
)
@click.option("--epochs", default=20, show_default=True, type=int)
@click.option("--batch-size", default=256, show_default=True, type=int)
@click.option("--max-lr", default=0.008, show_default=True, type=float, help="Peak of the one-cycle schedule.")
@click.option("--weight-decay", default=1e-4, show_default=True, type=float, help="Adam's L2 term.")
@click.option("--grad-clip", default=0.1, show_default=True, type=float, help="Clip gradients by value; 0 disables.")
@click.option("--crop-padding", default=4, show_default=True, type=int, help="RandomCrop padding (reflected), pixels.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--val-split", default="PublicTest", show_default=True, type=click.Choice(["PublicTest", "PrivateTest"]))
@click.option(
    "--precision",
    default="fp32",
    show_default=True,
    type=click.Choice(["fp32", "bf16"]),
    help="bf16 = autocast to bfloat16 (about 2x faster on AVX-512-BF16 CPUs).",
)
@click.option("--channels-last/--no-channels-last", default=False, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto (CUDA where present), cpu, cuda, cuda:N.")
@click.option("--run-id", help="Name of the run folder under results/training/ (default: <model>-<time>).")
@click.option("--resume", is_flag=True, help="Continue --run-id (or the latest unfinished run of --model).")
@click.option(
    "--checkpoint",
    type=click.Path(path_type=Path),
    help="Where to save the latest weights (default: models/<model>.ckpt).",
)
@click.pass_context
def train_cmd(
    ctx: click.Context,
    /,
    data_path: Path | None,
    device: str,
    run_id: str | None,
    resume: bool,
    checkpoint: Path | None,
    **settings: Any,
) -> None:
    """Train a model with the study's protocol; write metrics.csv and run.json as it goes.

    \b
    Examples:
      fermbench train --model shallow_cnn --data ../shared/fer2013
      fermbench train --model resnet9 --data fer2013.csv --precision bf16 --channels-last
      fermbench train --resume --run-id resnet9-20250101-120000
    """
    from ..data.fer2013 import load_split
    from .config import TrainConfig
    from .progress import RichReporter
    from .run_folder import RunFolder, latest_unfinished, new_run_id
    from .trainer import train

    if resume:
        given = [n for n in RUN_SETTINGS if n != "model" and ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]
        if given:
            raise ConfigError(
                f"--resume keeps the run's own settings: drop --{', --'.join(g.replace('_', '-') for g in given)}"
            )
        if run_id:
            run = RunFolder.for_id(run_id)
        elif settings["model"]:
            found = latest_unfinished(settings["model"])
            if found is None:
                raise ConfigError(f"no unfinished run of {settings['model']} to resume: start one without --resume")
            run = found
        else:
            raise ConfigError("--resume needs --run-id ID or --model NAME (to pick its latest unfinished run)")
        if not run.exists():
            raise ConfigError(f"run {run.run_id} does not exist under {run.path.parent}: check --run-id")
        info = run.read_info()
        if info.get("status") == "finished":
            raise ConfigError(
                f"run {run.run_id} already finished all {info.get('epochs_done')} epochs: nothing to resume"
            )
        config = TrainConfig.from_dict(info["config"])
        data_path = data_path or Path(info["data"]["path"])
        checkpoint = checkpoint or Path(info["checkpoint"])
    else:
        if not settings["model"]:
            raise ConfigError("--model is required: choose shallow_cnn, deep_cnn or resnet9")
        if data_path is None:
            raise ConfigError("--data is required: the FER-2013 folder (train/, test/) or fer2013.csv")
        from ..zoo import check_name

        config = TrainConfig(**{**settings, "model": check_name(settings["model"])})
        run = RunFolder.for_id(run_id or new_run_id(config.model))

    train_data = load_split(data_path, "Training")
    val_data = load_split(data_path, config.val_split)
    click.echo(
        f"run {run.run_id}: {config.model}, {len(train_data)} training / {len(val_data)} {config.val_split} images"
        f" ({'cached' if train_data.from_cache else 'decoded'} in {train_data.seconds + val_data.seconds:.1f} s)"
    )
    try:
        result = train(
            config,
            train_data,
            val_data,
            run,
            resume=resume,
            device=device,
            checkpoint=checkpoint,
            data_path=str(data_path),
            reporter=RichReporter(),
        )
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; continue with: fermbench train --resume --run-id {run.run_id}", err=True)
        sys.exit(130)
    last = result.rows[-1]
    click.echo(
        f"done: val_acc {last['val_acc']:.4f} after {int(last['epoch'])} epochs on {result.device}; "
        f"weights {result.checkpoint}, curve {result.run_dir / 'metrics.csv'}"
    )


@click.command("evaluate")
@click.option("--checkpoint", type=click.Path(path_type=Path), help="Checkpoint file (default: models/<model>.ckpt).")
@click.option(
    "--model",
    help="A study model (reads models/<model>.ckpt when --checkpoint is not given), or with --images any "
    "model: a name from `fermbench models` or package.module:factory.",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    help="FER-2013: image-folder root or fer2013.csv.",
)
@click.option(
    "--images",
    "images_path",
    type=click.Path(path_type=Path),
    help="Labelled images (class subfolders or a CSV of path,label), read with the model's own preprocessing.",
)
@click.option(
    "--split", default="PublicTest", show_default=True, type=click.Choice(["PublicTest", "PrivateTest", "Training"])
)
@click.option("--device", default="auto", show_default=True)
@click.option(
    "--precision",
    default="fp32",
    show_default=True,
    type=click.Choice(["fp32", "bf16"]),
    help="Inference precision: fp32 as the exported model runs on the phone; bf16 (autocast) only "
    "to see what bf16 inference gives.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def evaluate_cmd(
    checkpoint: Path | None,
    model: str | None,
    data_path: Path | None,
    images_path: Path | None,
    split: str,
    device: str,
    precision: str,
    as_json: bool,
) -> None:
    """Accuracy, per-class accuracy, confusion matrix and mean loss of a checkpoint on one split.

    \b
    Examples:
      fermbench evaluate --checkpoint models/resnet9.ckpt --data ../shared/fer2013
      fermbench evaluate --model shallow_cnn --data fer2013.csv --split PrivateTest --json
      fermbench evaluate --model resnet9 --data ../shared/fer2013 --precision bf16
      fermbench evaluate --model examples.mobilenet_v3_small:mobilenet_v3_small --images shapes
    """
    from ..data.fer2013 import load_split
    from ..zoo.checkpoint import model_from_checkpoint
    from .evaluate import evaluate
    from .trainer import default_checkpoint, pick_device

    if (data_path is None) == (images_path is None):
        raise ConfigError("pass --data FER2013 (a study checkpoint) or --images PATH (any model's labelled images)")
    if images_path is not None:
        _evaluate_images(model, checkpoint, images_path, device, precision, as_json)
        return
    assert data_path is not None
    if checkpoint is None:
        if not model:
            raise ConfigError("pass --checkpoint FILE or --model NAME (which reads models/<model>.ckpt)")
        checkpoint = default_checkpoint(model)
    net, ckpt = model_from_checkpoint(checkpoint, expect_arch=model)
    if tuple(ckpt.class_names) != CLASS_NAMES:
        raise ConfigError(
            f"checkpoint {checkpoint} has classes {', '.join(ckpt.class_names)}; FER-2013 needs {', '.join(CLASS_NAMES)}"
        )
    data = load_split(data_path, split)
    dev = pick_device(device)
    trained_in = str(ckpt.meta.get("config", {}).get("precision", "fp32"))
    result = evaluate(net.to(dev), data.images, data.labels, split, dev, precision=precision)
    if as_json:
        click.echo(
            json.dumps(
                {"checkpoint": str(checkpoint), "arch": ckpt.arch, "trained_precision": trained_in, **result.to_dict()},
                indent=2,
            )
        )
        return
    _print_eval(str(checkpoint), ckpt.arch, result, trained_in)


def _evaluate_images(
    model: str | None, checkpoint: Path | None, images: Path, device: str, precision: str, as_json: bool
) -> None:
    """Any model on a labelled image folder, on this computer, preprocessed its own way."""
    from ..data.labelled import load_labelled
    from ..zoo import resolve
    from ..zoo.checkpoint import model_from_checkpoint
    from .evaluate import evaluate, spec_input
    from .trainer import default_checkpoint, pick_device

    if not model:
        raise ConfigError("--images needs --model NAME or --model package.module:factory")
    arch = resolve(model)
    net, spec = arch.build(seed=0)
    weights = "the factory's weights"
    if checkpoint is not None or arch.study:
        path = checkpoint or default_checkpoint(arch.name)
        net, _ = model_from_checkpoint(path, expect_arch=arch.name)
        weights = str(path)
    data = load_labelled(str(images), spec)
    dev = pick_device(device)
    result = evaluate(
        net.to(dev),
        torch_tensor(data.images),
        torch_tensor(data.labels),
        str(images),
        dev,
        precision=precision,
        class_names=spec.classes,
        to_input=spec_input(spec),
    )
    if as_json:
        click.echo(json.dumps({"model": arch.name, "weights": weights, **result.to_dict()}, indent=2))
        return
    _print_eval(weights, arch.name, result, "n/a")


def torch_tensor(array: Any) -> Any:
    import torch

    return torch.from_numpy(array.copy())


def _print_eval(checkpoint: str, arch: str, result: EvalResult, trained_in: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    shipped = " (as exported models run)" if result.precision == "fp32" else " (not the precision models ship in)"
    console.print(
        f"{arch} ({checkpoint}) on {result.split}: accuracy [bold]{result.accuracy:.4f}[/bold] "
        f"({result.count} images), mean loss {result.mean_loss:.4f}; inference in "
        f"{result.precision}{shipped}, trained in {trained_in}"
    )
    names = result.class_names
    table = Table("true \\ pred", *[n[:4] for n in names], "n", "accuracy")
    for name, row, acc in zip(names, result.confusion, result.per_class_accuracy):
        table.add_row(name, *map(str, row), str(sum(row)), "-" if acc is None else f"{acc:.3f}")
    console.print(table)
