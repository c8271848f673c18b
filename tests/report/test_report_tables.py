"""`fermbench report` tables on sessions written by the real `fermbench run` (host runner).

Golden-text checks: the structure (headings, section titles, header rows, column names) is
pinned here; every number is recomputed from the store's raw files, never written by hand.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from fermbench.intervals import median_ranks, wilson
from fermbench.labels import CLASS_NAMES
from fermbench.report.commands import report_cmd
from fermbench.store import load_sessions

pytestmark = pytest.mark.slow

CSV_COLUMNS = [
    "session",
    "date",
    "device",
    "device_name",
    "device_kind",
    "device_tags",
    "abi",
    "runtime",
    "model",
    "status",
    "error",
    "model_sha256",
    "trained",
    "params",
    "macs",
    "model_bytes",
    "appsize_kind",
    "apk_bytes",
    "apk_with_model_bytes",
    "model_share",
    "installed_bytes",
    "threads",
    "load_ms",
    "first_inference_ms",
    "n",
    "median_ms",
    "p90_ms",
    "p99_ms",
    "min_ms",
    "max_ms",
    "mean_ms",
    "std_ms",
    "mad_ms",
    "cv",
    "repeats",
    "repeat_spread",
    "mem_counter",
    "mem_load_kb",
    "mem_run_kb",
    "thermal_max",
    "fer_split",
    "fer_n",
    "fer_acc_device",
    "fer_acc_host",
    "fer_agreement",
    "rw_accuracy",
    "rw_photos",
    "rw_classified",
    "rw_no_face",
    "rw_multi_face",
    "rw_undecodable",
    "train_run",
    "train_epochs",
    "train_loss",
    "val_loss",
    "val_acc",
    "warnings",
    "device_warnings",
    "fer_ci_low",
    "fer_ci_high",
    "rw_ci_low",
    "rw_ci_high",
    "rw_per_class",  # appended: names keep their meaning
    "export_runtime",
    "quant",
    "trimmed_mean_ms",
    "runtime_load_ms",
    "mem_runtime_kb",
    "peak_rss_kb",
    "foreground",
    "fer_change_vs_lite_fp32",
    "fer_change_ci_low",
    "fer_change_ci_high",
    "same_model_devices",
    "device_spread",
    "median_ci_low_ms",
    "median_ci_high_ms",
    "timed_stop",
    "gc_count_timed",
    "native_heap_growth_timed",  # appended from the metric table (measures/metrics.py)
    # appended for any model (issue 26): its input and classes, its accuracy phase on any data
    "model_source",
    "input_shape",
    "class_names",
    "acc_dataset",
    "acc_data",
    "acc_source",
    "acc_n",
    "acc_device",
    "acc_host",
    "acc_agreement",
    "acc_ci_low",
    "acc_ci_high",
    "acc_change_vs_lite_fp32",
    "acc_change_ci_low",
    "acc_change_ci_high",
    "acc_per_class",
]
SECTION_HEADERS = {
    "Size": ["Model", "Status", "Params", "Model MB", "APK+model MB", "Model share %", "Installed MB"],
    "Latency (ms)": [
        "Model",
        "Threads",
        "Runtime load",
        "Load",
        "First",
        "Median",
        "Median 95% CI",
        "Trimmed",
        "p90",
        "p99",
        "Min",
        "CV %",
        "n",
        "Mem runtime MiB",
        "Mem load MiB",
        "Mem run MiB",
        "Peak RSS MiB",
        "Foreground",
    ],
    "Accuracy (%)": [
        "Model",
        "FER n",
        "FER device",
        "FER 95% CI",
        "vs Lite fp32 (pts)",
        "FER host",
        "Agree",
        "Real-world",
        "RW 95% CI",
        "Photos",
        "Classified",
        "No face",
        "Multi-face",
        "Unreadable",
    ],
    "Real-world accuracy per class (%)": ["Model", "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
    "Training": ["Model", "Run", "Epochs", "Train loss", "Val loss", "Val acc %"],
}


def report(bench, *args: str) -> str:
    result = CliRunner().invoke(report_cmd, ["--results", str(bench.results), *args], env=bench.env)
    assert result.exit_code == 0, result.output
    return result.stdout


def store_truth(bench, session: str):
    """Per model: the stored record and the pooled timed samples (ns), straight from the store."""
    loaded = load_sessions([session], root=bench.results)
    s = loaded.samples
    truth = {}
    for rec in loaded.sessions[0].records:
        timed = s[(s.model == rec.model) & (s.phase == "timed")].ns.to_numpy(dtype=float)
        truth[rec.model] = (rec, timed)
    return loaded, truth


def _md_sections(text: str) -> dict[str, list[list[str]]]:
    """### title -> table rows (header first) as stripped cells, with warning marks removed."""
    out: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = line[4:]
            out[current] = []
        elif current and line.startswith("|") and not line.startswith("|---"):
            out[current].append([c.strip().replace(" ⚠", "") for c in line.strip("|").split(" | ")])
    return out


def test_markdown_golden_structure_and_store_numbers(bench_sessions):
    bench = bench_sessions
    text = report(bench, bench.host, "--format", "markdown")
    loaded, truth = store_truth(bench, bench.host)
    session = loaded.sessions[0]
    # heading: device label, session id, date, runtime
    heading = next(line for line in text.splitlines() if line.startswith("## "))
    assert heading.startswith("## ") and f"session {bench.host}" in heading
    assert session.info.created[:10] in heading
    sections = _md_sections(text)
    assert list(sections) == list(SECTION_HEADERS)
    for title, headers in SECTION_HEADERS.items():
        assert sections[title][0] == headers, title
        assert sorted(r[0] for r in sections[title][1:]) == sorted(truth), title

    latency = {r[0]: dict(zip(SECTION_HEADERS["Latency (ms)"], r)) for r in sections["Latency (ms)"][1:]}
    for model, (rec, timed) in truth.items():
        if not timed.size:
            continue
        row = latency[model]
        assert row["Median"] == f"{np.median(timed) / 1e6:.3f}"
        low, high, _ = median_ranks(timed.size)  # order statistics of the pooled timed samples
        ordered = np.sort(timed) / 1e6
        assert row["Median 95% CI"] == f"{ordered[low - 1]:.3f}-{ordered[high - 1]:.3f}"
        assert row["p90"] == f"{np.percentile(timed, 90) / 1e6:.3f}"
        assert row["p99"] == f"{np.percentile(timed, 99) / 1e6:.3f}"
        assert row["Min"] == f"{timed.min() / 1e6:.3f}"
        assert row["n"] == f"{timed.size:,}"
        assert row["CV %"] == f"{100 * timed.std(ddof=1) / timed.mean():.1f}"
        assert row["Load"] == f"{np.median([lat.load_ms for lat in rec.latency]):.3f}"
        assert row["First"] == f"{np.median([lat.first_inference_ms for lat in rec.latency]):.3f}"

    size = {r[0]: dict(zip(SECTION_HEADERS["Size"], r)) for r in sections["Size"][1:]}
    accuracy = {r[0]: dict(zip(SECTION_HEADERS["Accuracy (%)"], r)) for r in sections["Accuracy (%)"][1:]}
    for model, (rec, _) in truth.items():
        assert size[model]["Status"] == rec.status
        if rec.status == "ok":
            assert size[model]["Model MB"] == f"{session.info.models[rec.key]['bytes'] / 1e6:.3f}"
            assert accuracy[model]["FER device"] == f"{100 * rec.accuracy.device_accuracy:.1f}"
            assert accuracy[model]["FER host"] == f"{100 * rec.accuracy.host_accuracy:.1f}"
            assert accuracy[model]["Photos"] == f"{rec.realworld.counts.photos:,}"
            assert accuracy[model]["No face"] == f"{rec.realworld.counts.no_face:,}"
            # the interval beside the accuracy is Wilson's on the stored count of images
            iv = wilson(round(rec.accuracy.device_accuracy * rec.accuracy.n), rec.accuracy.n)
            assert accuracy[model]["FER 95% CI"] == f"{100 * iv.low:.1f}-{100 * iv.high:.1f}"

    # per class: from the stored per-photo predictions; classes the photos lack are "absent", not 0%
    per_class = {
        r[0]: dict(zip(SECTION_HEADERS["Real-world accuracy per class (%)"], r))
        for r in sections["Real-world accuracy per class (%)"][1:]
    }
    photos = loaded.predictions[(loaded.predictions.dataset == "photos") & (loaded.predictions.model == "shallow_cnn")]
    for index, name in enumerate(CLASS_NAMES):
        mine = photos[photos.label == index]
        done = mine[mine.status == "classified"]
        cell = per_class["shallow_cnn"][name]
        if not len(mine):
            assert cell == "absent", name
        elif not len(done):
            assert cell == f"– (0 of {len(mine)} classified)", name
        else:
            right = int((done.device_pred.astype(int) == index).sum())
            assert cell == f"{100 * right / len(done):.1f} ({right}/{len(done)})", name

    # training: the final epoch of the run the checkpoint names, from its metrics.csv
    metrics = (bench.results / "training" / bench.train_run / "metrics.csv").read_text().splitlines()
    last = dict(zip(metrics[0].split(","), metrics[-1].split(",")))
    training = {r[0]: dict(zip(SECTION_HEADERS["Training"], r)) for r in sections["Training"][1:]}
    assert training["shallow_cnn"]["Run"] == bench.train_run
    assert training["shallow_cnn"]["Epochs"] == str(len(metrics) - 1)
    assert training["shallow_cnn"]["Train loss"] == f"{float(last['train_loss']):.4f}"
    assert training["shallow_cnn"]["Val loss"] == f"{float(last['val_loss']):.4f}"
    assert training["shallow_cnn"]["Val acc %"] == f"{100 * float(last['val_acc']):.1f}"
    assert training["deep_cnn"]["Run"] == "–"  # never trained: no run, no numbers


def test_findings_state_the_study_claims_with_their_numbers(bench_sessions):
    bench = bench_sessions
    doc = json.loads(report(bench, bench.host, "--format", "json"))
    (group,) = doc["findings"]
    claims = {f["claim"]: f for f in group["findings"]}
    speed = claims["fastest model on this device"]
    _, truth = store_truth(bench, bench.host)
    medians = {m: np.median(t) for m, (_, t) in truth.items() if t.size}
    fastest = min(medians, key=medians.get)
    assert speed["verdict"].startswith((fastest, "not distinguishable"))
    assert f"{medians[fastest] / 1e6:.3f} ms" in speed["evidence"]
    # deep_cnn is untrained in the fixture: only shallow_cnn takes part in accuracy claims
    fer = claims["most accurate on FER-2013 (on the device)"]
    assert fer["verdict"] == "shallow_cnn (the only trained model measured)" and "deep_cnn" not in fer["evidence"]
    assert claims["both plain CNN files are larger than ResNet-9's"]["verdict"] == "cannot say"  # resnet9 failed
    text = report(bench, bench.host, "--format", "markdown")
    assert "## The study's findings · " in text and f"- fastest model on this device: {speed['verdict']}." in text


def test_failed_model_shows_as_failed_with_its_error(bench_sessions):
    bench = bench_sessions
    _, truth = store_truth(bench, bench.host)
    rec, _ = truth["resnet9"]
    assert rec.status == "failed", "the corrupt resnet9 checkpoint must fail that model only"
    text = report(bench, bench.host)
    line = next(line for line in text.splitlines() if line.strip().startswith("resnet9: FAILED"))
    assert rec.error.splitlines()[0][:60] in line
    assert truth["shallow_cnn"][0].status == "ok"


def test_interrupted_session_says_how_to_resume(bench_sessions, derive):
    bench = bench_sessions
    path = derive(bench.host, "interrupted", status="running")
    text = report(bench, path)
    assert "session still running or interrupted: finish it with `fermbench run --resume interrupted`" in text
    assert "resume" not in report(bench, bench.host)


def test_rich_table_has_every_section_and_model(bench_sessions):
    bench = bench_sessions
    text = report(bench)  # default: the latest session
    latest = max(p.name for p in bench.results.iterdir() if (p / "session.json").is_file())
    assert f"session {latest}" in text
    lines = text.splitlines()
    for title, headers in SECTION_HEADERS.items():
        at = lines.index(title)
        header_line = next(line for line in lines[at + 1 :] if line.strip())
        assert header_line.split() == " ".join(headers).split(), title
    assert "⚠ " in text  # the host/simulated device warning at least


def test_warnings_sit_beside_the_numbers(bench_sessions):
    bench = bench_sessions
    text = report(bench, bench.host, "--format", "markdown")
    # 30 timed samples: p99 is near the maximum -> marked, with advice under the table
    assert "⚠ shallow_cnn: p99 from 30 samples" in text
    assert "⚠ deep_cnn: untrained weights" in text  # no deep_cnn checkpoint was trained
    assert "host CPU, not a phone" in text


def test_csv_columns_are_stable_and_values_from_store(bench_sessions):
    bench = bench_sessions
    rows = list(csv.DictReader(io.StringIO(report(bench, bench.host, "--format", "csv"))))
    with io.StringIO(report(bench, bench.host, "--format", "csv")) as fh:
        assert next(csv.reader(fh)) == CSV_COLUMNS
    _, truth = store_truth(bench, bench.host)
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == set(truth)
    timed = truth["shallow_cnn"][1]
    assert float(by_model["shallow_cnn"]["median_ms"]) == pytest.approx(np.median(timed) / 1e6)
    assert int(by_model["shallow_cnn"]["n"]) == timed.size
    assert by_model["shallow_cnn"]["train_run"] == bench.train_run
    assert by_model["resnet9"]["status"] == "failed" and by_model["resnet9"]["error"]
    # the metric table's measured rows: the worst repeat's value, as stored by the runner
    stored = truth["shallow_cnn"][0].latency
    for name in ("gc_count_timed", "native_heap_growth_timed"):
        assert by_model["shallow_cnn"][name] == str(max(lat.metrics[name] for lat in stored))


def test_json_has_columns_results_and_warning_objects(bench_sessions):
    bench = bench_sessions
    doc = json.loads(report(bench, bench.host, "--format", "json"))
    assert doc["format_version"] == 1 and doc["columns"] == CSV_COLUMNS
    assert all(list(r) == CSV_COLUMNS for r in doc["results"])
    shallow = next(r for r in doc["results"] if r["model"] == "shallow_cnn")
    assert shallow["trained"] is True and shallow["train_epochs"] == 2
    assert all(set(w) == {"code", "message", "advice"} for w in shallow["warnings"])
    metrics = (bench.results / "training" / bench.train_run / "metrics.csv").read_text().splitlines()
    last = dict(zip(metrics[0].split(","), metrics[-1].split(",")))
    # the checkpoint's own curve (full precision) against metrics.csv's 6 significant digits
    assert shallow["val_acc"] == pytest.approx(float(last["val_acc"]), rel=1e-5)
    assert shallow["train_loss"] == pytest.approx(float(last["train_loss"]), rel=1e-5)


def test_sim_session_names_the_simulated_phone(bench_sessions):
    bench = bench_sessions
    if bench.sim is None:
        pytest.skip(bench.sim_skip_reason)
    text = report(bench, bench.sim, "--format", "markdown")
    assert "simulated phone: latencies are the host's CPU" in text
    ((serial, device),) = load_sessions([bench.sim], root=bench.results).sessions[0].info.devices.items()
    heading = next(line for line in text.splitlines() if line.startswith("## "))
    ident = device.identity
    assert f"{ident['manufacturer']} {ident['model']} ({serial})" in heading
    assert all(runner.runtime in heading for runner in device.runners.values()) and device.runners
    assert device.warnings, "the simulated phone's preflight warns about its latencies"
    for warning in device.warnings:
        assert f"⚠ preflight: {warning}" in text  # the run's own device warnings, under the heading


def test_unknown_or_missing_sessions_are_one_line_errors(tmp_path):
    from fermbench.cli import main

    empty = CliRunner().invoke(main, ["report", "--results", str(tmp_path)])
    assert empty.exit_code == 1
    assert empty.output.startswith("Error: no sessions in") and "fermbench run" in empty.output
    unknown = CliRunner().invoke(main, ["report", "--results", str(tmp_path), "no-such-session"])
    assert unknown.exit_code == 1 and unknown.output.count("\n") == 1
    assert "no session 'no-such-session'" in unknown.output
    both = CliRunner().invoke(main, ["report", "--results", str(tmp_path), "x", "--compare", "a", "b"])
    assert both.exit_code == 1 and "--compare A B takes its two sessions" in both.output
