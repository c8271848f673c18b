"""`fermbench data ...`: look at a FER-2013 copy before training on it."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("data")
def data_cmd() -> None:
    """Inspect FER-2013 data (image folders or the Kaggle CSV).

    \b
    Example:
      fermbench data check ../shared/fer2013
    """


@data_cmd.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(path: Path, as_json: bool) -> None:
    """Counts per split and class, duplicates, train/test overlap and near-blank images.

    Validates every image on the way (a bad one is an error naming it). Findings are reported,
    not fixed: the dataset is used as published.

    \b
    Examples:
      fermbench data check ../shared/fer2013
      fermbench data check fer2013.csv --json
    """
    from .check import NEAR_BLANK_STD, check_dataset

    report = check_dataset(path)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("split", *[n[:4] for n in report.class_names], "total", title=f"FER-2013 at {report.source}")
    for split, counts in report.counts.items():
        table.add_row(split, *map(str, counts), str(sum(counts)))
    console.print(table)
    console.print(
        f"exact duplicates: {report.duplicate_groups} groups, {report.duplicate_images} images; "
        f"{report.conflicting_groups} groups with conflicting labels"
    )
    for split, n in report.overlap.items():
        size = sum(report.counts[split])
        console.print(
            f"{split}: {n} images ({n / size:.1%}) byte-identical to a training image, "
            f"{report.overlap_conflicting.get(split, 0)} of them labelled differently"
        )
    blanks = ", ".join(f"{s} {n}" for s, n in report.near_blank.items())
    console.print(f"near-blank images (pixel std < {NEAR_BLANK_STD:g}): {blanks}")
    for key, names in report.examples.items():
        console.print(f"  e.g. {key}: {'; '.join(names[:3])}", soft_wrap=True, highlight=False)
