"""Rich progress for `fermbench train`: epochs and batches with running loss and ETA.

Bars are drawn only on a terminal; the one line per finished epoch is printed everywhere
(logs of a headless run included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

if TYPE_CHECKING:
    from .config import TrainConfig


class RichReporter:
    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self.progress: Progress | None = None
        self.total_epochs = 0

    def begin(self, config: TrainConfig, first_epoch: int, batches: int) -> None:
        self.total_epochs = config.epochs
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.epochs_task = self.progress.add_task("epochs", total=config.epochs, completed=first_epoch - 1, loss="")
        self.batch_task = self.progress.add_task(f"epoch {first_epoch}", total=batches, loss="")
        self.progress.start()

    def batch(self, epoch: int, batch: int, running_loss: float) -> None:
        assert self.progress is not None, "begin() first"
        self.progress.update(
            self.batch_task,
            completed=batch,
            description=f"epoch {epoch}/{self.total_epochs}",
            loss=f"loss {running_loss:.4f}",
        )

    def epoch(self, row: dict[str, float]) -> None:
        assert self.progress is not None, "begin() first"
        self.progress.console.print(
            f"epoch {int(row['epoch']):>3}/{self.total_epochs}  train_loss {row['train_loss']:.4f}  "
            f"val_loss {row['val_loss']:.4f}  val_acc {row['val_acc']:.4f}  lr {row['lr']:.2e}  "
            f"{row['images_per_s']:,.0f} img/s  {row['wall_s']:.1f} s",
            soft_wrap=True,
            highlight=False,
        )
        self.progress.update(self.epochs_task, advance=1)
        self.progress.reset(self.batch_task, description=f"epoch {int(row['epoch']) + 1}", loss="")

    def end(self) -> None:
        if self.progress is not None:
            self.progress.remove_task(self.batch_task)  # not a half-started "next epoch" line
            self.progress.stop()
