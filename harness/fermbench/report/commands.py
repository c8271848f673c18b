"""`fermbench report`: tables, charts and comparisons from stored sessions."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError
from .formats import FORMATS


@click.command("report")
@click.argument("sessions", nargs=-1)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also draw PNG charts (the study's Charts 1-7, confusion matrices, latency vs accuracy) here.",
)
@click.option(
    "--compare",
    "compare",
    nargs=2,
    metavar="A B",
    help="Compare session B against session A, per model (ratio of medians, CI, verdict).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table (terminal), markdown, csv or json (stable column names).",
)
@click.option(
    "--results",
    "results_root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder holding the sessions and training/ (default: $FERMBENCH_RESULTS or ./results).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 0.999),
    default=0.95,
    show_default=True,
    help="Confidence level of the comparison's interval and test.",
)
@click.option(
    "--min-change",
    type=click.FloatRange(0, 1),
    default=0.02,
    show_default=True,
    help="Smallest relative change of the median that --compare calls faster or slower.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap (same seed, same interval)."
)
def report_cmd(
    sessions: tuple[str, ...],
    charts_dir: Path | None,
    compare: tuple[str, str] | None,
    fmt: str,
    results_root: Path | None,
    confidence: float,
    min_change: float,
    seed: int,
) -> None:
    """Show stored benchmark results as tables, charts or a comparison.

    SESSIONS are session ids (folders under the results folder), session folders, or
    "latest" (the default).

    \b
    Examples:
      fermbench report                              # latest session, terminal tables
      fermbench report --charts charts/             # plus the PNG charts
      fermbench report 20240101-120000-a1b2 --format markdown > results.md
      fermbench report --compare 20240101-120000-a1b2 latest
    """
    from .results import build_report_data
    from .tables import render_results

    if compare and sessions:
        raise ConfigError("--compare A B takes its two sessions itself: drop the SESSIONS arguments")
    if compare:
        from .compare import compare_sessions, render_comparison

        data_a = build_report_data([compare[0]], root=results_root)
        data_b = build_report_data([compare[1]], root=results_root)
        comparisons = compare_sessions(data_a, data_b, confidence=confidence, seed=seed, min_change=min_change)
        label_a = data_a.sessions[0].id
        label_b = data_b.sessions[0].id
        click.echo(render_comparison(comparisons, label_a, label_b, fmt, min_change=min_change), nl=False)
        datasets = [data_a, data_b] if label_a != label_b else [data_a]
    else:
        data = build_report_data(list(sessions) or None, root=results_root)
        click.echo(render_results(data, fmt), nl=False)
        datasets = [data]
    if charts_dir is not None:
        from .charts import write_charts

        for data in datasets:
            files, skipped = write_charts(data, charts_dir if len(datasets) == 1 else charts_dir / data.sessions[0].id)
            for f in files:
                click.echo(f"chart: {f.path}", err=True)
            for line in skipped:
                click.echo(f"not drawn: {line}", err=True)
