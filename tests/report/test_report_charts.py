"""`fermbench report --charts`: every expected PNG is written, opens, and has its size;
the chart functions name the device and date and draw every raw sample."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib import image as mpimg

from fermbench.report import charts
from fermbench.report.commands import report_cmd
from fermbench.report.results import build_report_data
from fermbench.store import slug

pytestmark = pytest.mark.slow
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def expected_files(device: str, *, training: bool = True) -> set[str]:
    tag = slug(device)
    names = {
        "chart4-model-size.png",
        "chart5-app-size.png",
        f"chart6-latency-{tag}.png",
        f"chart7-realworld-accuracy-{tag}.png",
        f"chart7b-realworld-per-class-{tag}.png",
        f"confusion-{tag}.png",
        f"latency-vs-accuracy-{tag}.png",
    }
    if training:
        names |= {"chart1-training-loss.png", "chart2-validation-loss.png", "chart3-validation-accuracy.png"}
    return names


def test_charts_written_and_open_as_png(bench_sessions, tmp_path):
    bench = bench_sessions
    out = tmp_path / "charts"
    result = CliRunner().invoke(
        report_cmd, ["--results", str(bench.results), bench.host, "--charts", str(out)], env=bench.env
    )
    assert result.exit_code == 0, result.output
    written = {p.name for p in out.iterdir()}
    assert written == expected_files("host")
    for path in out.iterdir():
        assert path.read_bytes()[:8] == PNG_SIGNATURE, path.name
        pixels = mpimg.imread(path)
        height, width = pixels.shape[:2]
        assert width >= 8 * charts.DPI and height >= 5 * charts.DPI, (path.name, width, height)
        assert pixels.std() > 0.01, f"{path.name} looks blank"
        assert f"chart: {path}" in result.stderr


def test_charts_for_two_sessions_go_to_subfolders(bench_sessions, tmp_path):
    bench = bench_sessions
    if bench.sim is None:
        pytest.skip(bench.sim_skip_reason)
    data = build_report_data([bench.host, bench.sim], root=bench.results)
    files, skipped = charts.write_charts(data, tmp_path)
    assert {p.name for p in (tmp_path / bench.host).iterdir()} == expected_files("host")
    sim_serial = next(r.device.serial for r in data.results if r.session == bench.sim)
    assert {p.name for p in (tmp_path / bench.sim).iterdir()} == expected_files(sim_serial)
    assert len(files) == 20 and skipped == []


def test_each_chart_names_device_and_date(bench_sessions):
    bench = bench_sessions
    data = build_report_data([bench.host], root=bench.results)
    results = data.results
    date = results[0].date
    label = results[0].device.label
    figures = [
        charts.model_size_chart(results),
        charts.app_size_chart(results),
        charts.latency_chart(results, data.samples),
        charts.realworld_chart(results),
        charts.latency_accuracy_chart(results),
    ]
    for fig in figures:
        title = fig.axes[0].get_title(loc="left")
        assert label in title and date in title, title
    conf = charts.confusion_chart(charts._confusions(data, bench.host, "host"), charts._where(results))
    assert label in conf._suptitle.get_text()
    run = next(r.curve for r in data.results if r.model == "shallow_cnn")
    fig = charts.training_chart({"shallow_cnn": run}, "val_acc", "Chart 3", "acc")
    title = fig.axes[0].get_title(loc="left")
    assert run.device in title and (run.started is None or run.started[:10] in title)
    # the failed model is named on the charts that have no data for it
    assert "no data: resnet9 (failed)" in figures[2].axes[0].get_title(loc="left")


def test_latency_chart_draws_every_sample(bench_sessions):
    bench = bench_sessions
    data = build_report_data([bench.host], root=bench.results)
    fig = charts.latency_chart(data.results, data.samples)
    ax = fig.axes[0]
    with_samples = [r for r in data.results if r.key in data.samples]
    points = [
        c
        for c in ax.collections
        if c.get_offsets().shape[0] > 1 and c.get_offsets().shape[1] == 2 and type(c).__name__ == "PathCollection"
    ]
    assert len(points) == len(with_samples)
    for coll, r in zip(points, with_samples):
        ys = np.sort(coll.get_offsets()[:, 1])
        expected = np.sort(data.samples[r.key] / 1e6)
        assert expected.size <= charts.MAX_POINTS  # the fixture's 30 samples: every one is drawn
        assert np.allclose(ys, expected)


def test_confusion_matrix_counts():
    cm = charts.confusion_matrix([0, 0, 1, 6, 6, 6], [0, 1, 1, 6, 6, 0])
    assert cm.shape == (7, 7) and cm.sum() == 6
    assert cm[0, 0] == 1 and cm[0, 1] == 1 and cm[1, 1] == 1 and cm[6, 6] == 2 and cm[6, 0] == 1


def test_latency_chart_shows_each_median_with_its_interval(bench_sessions):
    bench = bench_sessions
    data = build_report_data([bench.host], root=bench.results)
    fig = charts.latency_chart(data.results, data.samples)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    timed = [r for r in data.results if r.key in data.samples]
    assert len(labels) == len(timed)
    for label, r in zip(labels, timed):
        low, high = r.latency.median_ci_ms
        assert f"[{low:.3f}-{high:.3f}]" in label and low <= r.latency.median_ms <= high
    bars = [c for c in fig.axes[0].collections if type(c).__name__ == "LineCollection"]
    assert len(bars) >= len(timed)  # one error bar per timed model
