"""`fermbench run` and `fermbench doctor`: parse options, call bench.start, show progress and a summary."""

from __future__ import annotations

import signal
import threading

import click

from ..errors import ConfigError

SETTING_OPTIONS = ("models", "warmup", "warmup_seconds", "iterations", "min_seconds", "max_seconds", "threads",
                   "repeats", "cooldown_seconds", "fer_data", "fer_split", "fer_limit", "photos", "face_policy",
                   "apk", "install", "seed", "timeout_seconds", "reconnect_budget_seconds", "checkpoints",
                   "bytecode")


class RichProgress:
    """Live progress: one line per device with its current model and phase, and messages above it."""

    def __init__(self, console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.bar = Progress(TextColumn("{task.fields[device]:<22}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                            transient=False)
        self.tasks: dict[str, int] = {}
        self.lock = threading.Lock()

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def _task(self, serial: str, total: int | None = None) -> int:
        with self.lock:
            if serial not in self.tasks:
                self.tasks[serial] = self.bar.add_task("", device=serial, total=total)
            return self.tasks[serial]

    def start(self, serial: str, total: int) -> None:
        self.bar.update(self._task(serial), total=total)

    def step(self, serial: str, model: str, phase: str) -> None:
        self.bar.update(self._task(serial), description=f"{model}: {phase}")

    def done(self, serial: str, model: str, phase: str, status: str) -> None:
        self.bar.advance(self._task(serial))
        if status == "failed":
            self.console.print(f"[red]{serial} {model} {phase}: failed[/red]")

    def message(self, text: str) -> None:
        self.console.print(text)


def summary_table(outcome):
    from rich.table import Table

    table = Table(title=f"session {outcome.store.session_id}: {outcome.status}")
    for col in ("device", "model", "status", "median ms", "p90 ms", "n", "FER dev/host", "agree", "photos", "app size"):
        table.add_column(col, justify="left" if col in ("device", "model", "status") else "right")
    for rec in outcome.records:
        d = rec.data
        lat = [r for r in d.get("latency") or [] if r.get("status") == "ok"]
        med = [r["summary"]["median"] / 1e6 for r in lat]
        p90 = [r["summary"]["p90"] / 1e6 for r in lat]
        acc, rw, app = d.get("accuracy") or {}, d.get("realworld") or {}, d.get("appsize") or {}
        fmt = lambda v, f="{:.1%}": "-" if v is None else f.format(v)  # noqa: E731
        size = app.get("apk_with_model_bytes") or app.get("model_bytes")
        status = d["status"] if d["status"] == "ok" else f"[red]{d['status']}[/red]: {(d.get('error') or '')[:60]}"
        table.add_row(rec.device, rec.model, status,
                      "-" if not med else f"{sorted(med)[len(med) // 2]:.3f}",
                      "-" if not p90 else f"{max(p90):.3f}",
                      str(sum(r["summary"]["n"] for r in lat)) if lat else "-",
                      f"{fmt(acc.get('device_accuracy'))}/{fmt(acc.get('host_accuracy'))}" if acc.get("status") == "ok" else "-",
                      fmt(acc.get("agreement")) if acc.get("status") == "ok" else "-",
                      f"{fmt(rw.get('accuracy'))} ({rw['counts']['classified']}/{rw['counts']['photos']})"
                      if rw.get("status") == "ok" else "-",
                      "-" if not size else f"{size / 1e6:.2f} MB" + ("" if app.get("kind") == "apk" else " (model)"))
    return table


def _sigterm_as_interrupt() -> None:
    """SIGTERM ends a session like Ctrl-C: status `interrupted`, resumable, simulated phones stopped."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


@click.command("run")
@click.option("--device", "devices", multiple=True,
              help="adb serial, `host` (host CPU), `sim` (a simulated phone) or `auto` (attached phones, else sim); repeat for several")
@click.option("--models", default=None, help="comma-separated model names (default: the whole zoo)")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="TOML or JSON file of settings (unknown keys are errors)")
@click.option("--warmup", type=int, default=None, help="warm-up iterations (default 10)")
@click.option("--warmup-seconds", type=float, default=None, help="minimum warm-up time (default 0.5)")
@click.option("--iterations", type=int, default=None, help="minimum timed iterations (default 50)")
@click.option("--min-seconds", type=float, default=None, help="minimum timed-phase time (default 1.0)")
@click.option("--max-seconds", type=float, default=None, help="timed phase stops here (default 60)")
@click.option("--threads", type=int, default=None, help="runtime threads (default 1)")
@click.option("--repeats", type=int, default=None, help="latency repeats per model, for run-to-run spread")
@click.option("--cooldown-seconds", type=float, default=None,
              help="most to wait between models for thermal status and battery to settle (default 30)")
@click.option("--fer-data", default=None, help="FER-2013 folder or CSV for on-device accuracy")
@click.option("--fer-split", default=None, help="split to classify (default PublicTest)")
@click.option("--fer-limit", type=int, default=None, help="classify N images spread over the split")
@click.option("--photos", default=None, help="labelled photos: class subfolders or a CSV of path,label")
@click.option("--face-policy", type=click.Choice(["largest", "skip"]), default=None,
              help="photos with several faces: classify the largest (default) or skip them")
@click.option("--apk", default=None, help="runner APK: app-size measurement (and --install)")
@click.option("--install", is_flag=True, default=None, help="install the runner from --apk first")
@click.option("--seed", type=int, default=None, help="seed of the randomised model order")
@click.option("--timeout-seconds", type=float, default=None, help="limit of one runner call (default 600)")
@click.option("--reconnect-budget-seconds", type=float, default=None,
              help="how long to wait for a lost device (default 60)")
@click.option("--checkpoints", default=None, help="folder with <model>.ckpt (default models/)")
@click.option("--bytecode", type=int, default=None, help="export for an older runtime's bytecode version")
@click.option("--resume", default=None, metavar="SESSION",
              help="continue an interrupted session (id or folder) with its own settings")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="results folder (default results/)")
@click.option("--quiet", is_flag=True, help="no progress display")
def run_cmd(devices, models, config, resume, out, quiet, **options):
    """Benchmark models on devices and store the results.

    \b
    Examples:
      fermbench run --device sim --fer-data ../shared/fer2013 --fer-limit 500
      fermbench run --device emulator-5554 --apk runner.apk --install --repeats 3
      fermbench run --device host --models shallow_cnn --iterations 200
      fermbench run --resume 20240101-120000-a1b2
    """
    from rich.console import Console

    from .settings import build_settings
    from .start import run_benchmark

    given = {k: v for k, v in options.items() if v is not None}
    if resume and (devices or models or config or given):
        raise ConfigError("--resume continues with the session's own settings; drop the other options")
    settings = None
    if not resume:
        settings = build_settings(config, devices=tuple(devices), models=tuple(models.split(",")) if models else (),
                                  **given)
    console = Console(stderr=True)
    _sigterm_as_interrupt()
    try:
        if quiet:
            outcome = run_benchmark(settings, resume=resume, out=out)
        else:
            with RichProgress(console) as progress:
                outcome = run_benchmark(settings, resume=resume, out=out, progress=progress)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished results are stored; continue with --resume[/yellow]")
        raise SystemExit(130)
    out_console = Console()
    if not out_console.is_terminal:
        out_console = Console(width=160)  # pipes and logs: do not squeeze the table to 80 columns
    out_console.print(summary_table(outcome))
    click.echo(f"results: {outcome.store.path}")
    if any("simulated" in d.get("tags", []) for d in outcome.store.info["devices"].values()):
        click.echo("note: the simulated phone's latencies are the host CPU's, not a phone's")
    if outcome.status == "failed":
        raise SystemExit(1)


@click.command("doctor")
@click.option("--device", "device", default=None, help="adb serial, `host` or `sim` (default: every attached device)")
@click.option("--apk", default=None, help="runner APK: check its ABIs against the device")
def doctor_cmd(device, apk):
    """Check that a device is ready to benchmark: adb, state, runner, bytecode, space, battery, thermal.

    \b
    Examples:
      fermbench doctor --device emulator-5554
      fermbench doctor --device sim
    """
    from rich.console import Console
    from rich.table import Table

    from .settings import build_settings
    from .start import attached_serials, doctor

    settings = build_settings(apk=apk)
    specs = [device] if device else attached_serials()
    if not specs:
        raise ConfigError("no device attached; plug a phone in (USB debugging on), or try --device sim")
    failed = False
    for pf in [r for spec in specs for r in doctor(spec, settings)]:
        table = Table(title=f"doctor: {pf.serial}")
        for col in ("check", "result", "detail", "fix"):
            table.add_column(col)
        colour = {"ok": "green", "warn": "yellow", "fail": "red"}
        for c in pf.checks:
            table.add_row(c.name, f"[{colour[c.level]}]{c.level}[/{colour[c.level]}]", c.message, c.fix)
        Console().print(table)
        failed |= not pf.ok
    if failed:
        raise SystemExit(1)
