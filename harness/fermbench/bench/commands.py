"""`fermbench run` and `fermbench doctor`: parse options, call bench.start, show progress and a summary."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from ..display import markup_safe, plain
from ..errors import ConfigError
from .progress import Progress
from .settings import build_settings, option_help, settings_options

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID
    from rich.table import Table

    from ..store import Record
    from .session import Outcome


class RichProgress(Progress):
    """Live progress: one line per device with its current model and phase, and messages above it."""

    def __init__(self, console: Console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.bar = Progress(
            TextColumn("{task.fields[device]:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def _task(self, serial: str, total: int | None = None) -> TaskID:
        with self.lock:
            if serial not in self.tasks:
                self.tasks[serial] = self.bar.add_task("", device=markup_safe(serial), total=total)
            return self.tasks[serial]

    def start(self, serial: str, total: int) -> None:
        self.bar.update(self._task(serial), total=total)

    def step(self, serial: str, model: str, phase: str) -> None:
        self.bar.update(self._task(serial), description=markup_safe(f"{model}: {phase}"))

    def done(self, serial: str, model: str, phase: str, status: str) -> None:
        self.bar.advance(self._task(serial))
        if status == "failed":
            self.console.print(f"[red]{markup_safe(serial)} {markup_safe(model)} {phase}: failed[/red]")

    def message(self, text: str) -> None:
        self.console.print(plain(text), soft_wrap=True, markup=False, highlight=False)  # logs and pipes: one line each


def timed_repeats(outcome: Outcome, rec: Record) -> list[Any]:
    """The timed samples (ns) of each successful repeat of a record, read back from the session."""
    from ..store import StoredSession
    from ..store.reader import sample_frames

    ok = {lat.repeat for lat in rec.latency if lat.ok}
    stored = StoredSession(outcome.store.path, outcome.store.info)
    return (
        [
            f[f.phase == "timed"].ns.to_numpy(dtype="float64")
            for f in sample_frames(stored, rec)
            if int(f.repeat.iloc[0]) in ok
        ]
        if ok
        else []
    )


def summary_table(outcome: Outcome) -> Table:
    """One line per (device, model): what the run measured, read from the typed records. Latency is
    stats.variant_latency over the stored samples, the same function `fermbench report` uses."""
    from rich.table import Table

    from ..stats import variant_latency

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    table = Table(title=f"session {outcome.store.session_id}: {outcome.status}")
    scored = {r.accuracy.dataset for r in outcome.records if r.accuracy is not None and r.accuracy.ok}
    for col in (
        "device",
        "model",
        "status",
        "median ms [95% CI]",
        "p90 ms",
        "n",
        # the accuracy column names its data: FER-2013, or each model's own --images set
        "FER dev/host" if scored <= {"fer2013"} else "images dev/host" if scored == {"images"} else "acc dev/host",
        "agree",
        "photos",
        "app size",
    ):
        table.add_column(col, justify="left" if col in ("device", "model", "status") else "right")
    several = len({(r.runtime, r.quant) for r in outcome.records}) > 1
    for rec in outcome.records:
        found = variant_latency(timed_repeats(outcome, rec))
        lat = found.summary if found else None
        ci = lat.median_ci_ms if lat else None
        acc = rec.accuracy if rec.accuracy is not None and rec.accuracy.ok else None
        rw = rec.realworld if rec.realworld is not None and rec.realworld.ok else None
        app = rec.appsize
        size = app and (app.apk_with_model_bytes or app.model_bytes)
        status = rec.status if rec.status == "ok" else f"[red]{rec.status}[/red]: {markup_safe((rec.error or '')[:60])}"
        table.add_row(
            markup_safe(rec.device),
            f"{rec.model} ({rec.runtime}, {rec.quant})" if several else rec.model,
            status,
            "-" if lat is None else f"{lat.median_ms:.3f}" + (f" [{ci[0]:.3f}-{ci[1]:.3f}]" if ci else ""),
            f"{lat.p90_ms:.3f}" if lat else "-",
            str(lat.n) if lat else "-",
            f"{pct(acc.device_accuracy)}/{pct(acc.host_accuracy)}" if acc else "-",
            pct(acc.agreement) if acc else "-",
            f"{pct(rw.accuracy)} ({rw.counts.classified}/{rw.counts.photos})" if rw and rw.counts else "-",
            "-" if not size else f"{size / 1e6:.2f} MB" + ("" if app and app.kind == "apk" else " (model)"),
        )
    return table


@contextlib.contextmanager
def interrupt_once() -> Iterator[None]:
    """The first Ctrl-C or SIGTERM stops the session as Ctrl-C does (status `interrupted`,
    resumable, simulated phones stopped); later ones change nothing, so that the session records
    where it stopped and the process exits 130 whatever else arrives. After an interrupt both stay
    ignored until the process exits: Python resets its own handlers to the default at exit, and a
    late SIGTERM would then kill the process (-15). Otherwise the handlers before it come back."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread sets handlers
        return
    fired = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if not fired.is_set():
            fired.set()
            raise KeyboardInterrupt

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, handler)
    if saved[signal.SIGINT] is signal.default_int_handler:  # one ignored from the start (nohup) stays ignored
        signal.signal(signal.SIGINT, handler)
    interrupted = False
    try:
        yield
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        for sig, before in saved.items():
            if interrupted:
                signal.signal(sig, signal.SIG_IGN)
            elif before is not None:  # None: set outside Python, cannot be put back
                signal.signal(sig, before)


@click.command("run")
@click.option("--device", "devices", multiple=True, help=option_help("devices"))
@click.option("--adb-server", "adb_servers", multiple=True, metavar="HOST:PORT", help=option_help("adb_servers"))
@click.option("--models", default=None, help=option_help("models"))
@click.option(
    "--model",
    "model",
    multiple=True,
    metavar="NAME|package.module:factory",
    help="one model (a name from `fermbench models`, or a factory returning (nn.Module, ModelSpec)); repeat for several",
)
@click.option(
    "--model-file",
    "model_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help=option_help("model_files"),
)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML or JSON file of settings (unknown keys are errors)",
)
@settings_options
@click.option(
    "--resume",
    default=None,
    metavar="SESSION",
    help="continue an interrupted session (id or folder) with its own settings",
)
@click.option(
    "--remeasure-changed",
    is_flag=True,
    help="with --resume: a model whose file changed since the session measured it is measured again "
    "from scratch (without it, such a resume is refused)",
)
@click.option("--out", default=None, type=click.Path(file_okay=False), help="results folder (default results/)")
@click.option("--quiet", is_flag=True, help="no progress display")
def run_cmd(
    devices: tuple[str, ...],
    adb_servers: tuple[str, ...],
    models: str | None,
    model: tuple[str, ...],
    model_files: tuple[str, ...],
    config: str | None,
    resume: str | None,
    remeasure_changed: bool,
    out: str | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Benchmark models on devices and store the results.

    \b
    Examples:
      fermbench run --device sim --fer-data ../shared/fer2013 --fer-limit 500
      fermbench run --device emulator-5554 --apk runner.apk --install --repeats 3
      fermbench run --device host --models shallow_cnn --iterations 200
      fermbench run --device sim --model examples.mobilenet_v3_small:mobilenet_v3_small --images shapes/
      fermbench run --device sim --model-file mine.ptl --input-shape 1x3x224x224
      fermbench run --adb-server 127.0.0.1:5037 --adb-server 127.0.0.1:15037 --device all --shard
      fermbench run --resume 20240101-120000-a1b2
    """
    from rich.console import Console

    from .start import run_benchmark

    given = {k: v for k, v in options.items() if v is not None}
    if resume and (devices or adb_servers or models or model or model_files or config or given):
        raise ConfigError("--resume continues with the session's own settings and adb servers; drop the other options")
    for name, value in (("--out", out), ("--resume", resume), ("--config", config)):
        if value is not None and not value.strip():
            raise ConfigError(f"{name} is empty; give a value or leave the option out")
    if remeasure_changed and not resume:
        raise ConfigError("--remeasure-changed goes with --resume SESSION; drop it for a new session")
    settings = None
    if not resume:
        settings = build_settings(
            config,
            devices=tuple(devices),
            adb_servers=adb_servers,
            models=(*(models.split(",") if models else ()), *model),
            model_files=tuple(model_files),
            **given,
        )
    console = Console(stderr=True)
    try:
        with interrupt_once():
            if quiet:
                outcome = run_benchmark(settings, resume=resume, out=out, remeasure_changed=remeasure_changed)
            else:
                with RichProgress(console) as progress:
                    outcome = run_benchmark(
                        settings, resume=resume, out=out, progress=progress, remeasure_changed=remeasure_changed
                    )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished results are stored; continue with --resume[/yellow]")
        raise SystemExit(130) from None
    out_console = Console()
    if not out_console.is_terminal:
        out_console = Console(width=160)  # pipes and logs: do not squeeze the table to 80 columns
    out_console.print(summary_table(outcome))
    for rec in outcome.records:  # the table cuts errors short: each failure in full, one line each
        if rec.status == "failed" and rec.error:
            click.echo(f"failed: {plain(rec.device)} {rec.model} ({rec.runtime}, {rec.quant}): {plain(rec.error)}")
    click.echo(f"results: {outcome.store.path}")
    if any("simulated" in d.tags for d in outcome.store.info.devices.values()):
        click.echo("note: the simulated phone's latencies are the host CPU's, not a phone's")
    if outcome.status == "failed":
        raise SystemExit(1)


@click.command("doctor")
@click.option(
    "--device",
    "device",
    default=None,
    help="adb serial (HOST:PORT/SERIAL on one of several servers), `host` or `sim` (default: every attached device)",
)
@click.option("--adb-server", "adb_servers", multiple=True, metavar="HOST:PORT", help=option_help("adb_servers"))
@click.option("--apk", default=None, help="runner APK: check its ABIs and 16 KB alignment against the device")
@click.option(
    "--build", is_flag=True, help="also check what `fermbench runner build` needs: JDK 17, the Android SDK, Gradle"
)
def doctor_cmd(device: str | None, adb_servers: tuple[str, ...], apk: str | None, build: bool) -> None:
    """Check that this computer and a device are ready to benchmark; each problem with its fix.

    This computer: adb, its version and each adb server (with --build: the JDK, Android SDK and
    Gradle). The device: state, each runner flavor (installed?, protocol, page size, ABIs), the
    exported models' format, space, battery, thermal state, build type.

    \b
    Examples:
      fermbench doctor
      fermbench doctor --device emulator-5554 --build
      fermbench doctor --device sim
      fermbench doctor --adb-server 127.0.0.1:5037 --adb-server 127.0.0.1:15037
    """
    from rich.console import Console
    from rich.table import Table

    from ..apk.flavors import default_project
    from ..tempdirs import sweep
    from .settings import build_settings
    from .start import doctor, doctor_host, farm_for

    sweep()  # what a killed fermbench left (its adb servers, simulated phones' folders)
    settings = build_settings(apk=apk, adb_servers=adb_servers, devices=(device,) if device else ())
    farm = farm_for(settings)
    host, specs = doctor_host(device, build, default_project(), farm)
    reports = [host] if host.checks else []
    reports += [r for spec in specs for r in doctor(spec, settings, farm)]
    colour = {"ok": "green", "warn": "yellow", "fail": "red"}
    for pf in reports:
        table = Table(title=markup_safe(f"doctor: {pf.serial}"))
        for col in ("check", "result", "detail", "fix"):
            table.add_column(col)
        for c in pf.checks:
            table.add_row(
                c.name, f"[{colour[c.level]}]{c.level}[/{colour[c.level]}]", markup_safe(c.message), markup_safe(c.fix)
            )
        Console().print(table)
    if not all(pf.ok for pf in reports):
        raise SystemExit(1)
