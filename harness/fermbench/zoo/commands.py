"""`fermbench models`: every architecture the harness can build, where it comes from, and its size."""

from __future__ import annotations

from dataclasses import dataclass

import click

from ..errors import FermbenchError
from .registry import Architecture, architectures, count_macs, resolve


@dataclass(frozen=True)
class ZooEntry:
    """One architecture as `fermbench models` lists it; `error` when its factory cannot build it."""

    name: str
    origin: str  # "fermbench 0.1.0 (entry point)", "my-pkg 1.2 (entry point)", "--model pkg.mod:factory"
    ref: str  # package.module:factory
    input_shape: tuple[int, ...] | None = None
    classes: int | None = None  # 0: the model declares none (timed, never scored)
    params: int | None = None
    macs: int | None = None  # multiply-accumulates for one input of its shape
    fp32_bytes: int | None = None  # parameters and floating-point buffers at 4 bytes each
    error: str | None = None  # one line: why it could not be built

    @property
    def input_text(self) -> str:
        return "x".join(map(str, self.input_shape)) if self.input_shape else "–"


def describe(arch: Architecture) -> ZooEntry:
    """Build the architecture (seeded) and measure it; a factory that fails is an entry with its error."""
    try:
        model, spec = arch.build(seed=0)
    except FermbenchError as exc:
        return ZooEntry(arch.name, arch.origin, arch.ref, error=_one_line(str(exc)))
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    try:
        macs = count_macs(model, spec.input_shape)
    except Exception as exc:  # the user's forward() on its own declared input: its bug, told in one line
        shape = "x".join(map(str, spec.input_shape))
        error = f"model factory {arch.ref}: a forward pass on its input {shape} raised {type(exc).__name__}: {exc}"
        return ZooEntry(arch.name, arch.origin, arch.ref, spec.input_shape, len(spec.classes), error=_one_line(error))
    return ZooEntry(
        arch.name, arch.origin, arch.ref, spec.input_shape, len(spec.classes), params, macs, 4 * (params + buffers)
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def zoo_entries(model: str | None = None) -> list[ZooEntry]:
    """Every registered architecture (the study's first), or the one `model` names."""
    found = [resolve(model)] if model else list(architectures().values())
    return [describe(arch) for arch in found]


@click.command("models")
@click.option(
    "--model",
    "model",
    metavar="NAME|package.module:factory",
    help="Show one architecture: a registered name or a factory.",
)
def models_cmd(model: str | None) -> None:
    """List every model architecture: where it comes from, its input, classes, parameters,
    multiply-accumulates and fp32 size. Architectures come from the `fermbench.models` entry
    points (the study's three among them) or `--model package.module:factory`.

    \b
    Examples:
      fermbench models
      fermbench models --model fermbench.zoo.study:resnet9
    """
    from rich.console import Console
    from rich.table import Table

    entries = zoo_entries(model)
    table = Table(title="fermbench models")
    for name, justify in (
        ("model", "left"),
        ("origin", "left"),
        ("factory", "left"),
        ("input", "left"),
        ("classes", "right"),
        ("parameters", "right"),
        ("MACs", "right"),
        ("fp32 size", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for e in entries:
        table.add_row(
            e.name,
            e.origin,
            e.ref,
            e.input_text,
            "–" if e.classes is None else str(e.classes),
            "–" if e.params is None else f"{e.params / 1e6:.2f} M",
            "–" if e.macs is None else f"{e.macs / 1e6:.1f} M",
            "–" if e.fp32_bytes is None else f"{e.fp32_bytes / 2**20:.1f} MiB",
        )
    Console().print(table)
    for e in entries:  # under the table, unwrapped: the whole line is the fix
        if e.error:
            click.echo(f"{e.name} ({e.origin}) cannot be built: {e.error}")
