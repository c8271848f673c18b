"""The report for models that are not the study's (issue 26): their own class names, input sizes
and labelled image sets; a ready model file with latency only; the study's findings only about
the study's models, and only when they are in the session.

Sessions come from any_model_sessions.py (the real store API, seeded predictions with known
counts per class): tiny_rgb (Lite and ExecuTorch) and tiny_other, 5 classes at 1x3x64x64 on the
labelled set "shapes", and my_model.int8, a .pte given as a file (latency only).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.report.charts import write_charts
from fermbench.report.commands import report_cmd
from fermbench.report.results import build_report_data
from fermbench.report.tables import render_results


def _module():
    path = Path(__file__).with_name("any_model_sessions.py")
    spec = importlib.util.spec_from_file_location("any_model_sessions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sessions = _module()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("any-model")
    alone = sessions.write_any_model_session(root, with_study=False)
    beside = sessions.write_any_model_session(root, with_study=True)
    return root, alone, beside


def _report(root: Path, session: str, fmt: str) -> str:
    result = CliRunner().invoke(report_cmd, ["--results", str(root), session, "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def _rows(root: Path, session: str) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(_report(root, session, "csv")))
    return {f"{r['model']}/{r['export_runtime']}/{r['quant']}": r for r in rows}


def test_results_carry_each_models_classes_input_and_data(written):
    root, alone, _ = written
    data = build_report_data([alone], root=root)
    by = {r.variant.key: r for r in data.results}
    tiny = by["tiny_rgb/pytorch_android_lite-2.1.0/fp32"]
    assert tiny.classes == sessions.SHAPES and tiny.input_shape == (1, 3, 64, 64)
    assert (tiny.acc_dataset, tiny.acc_label) == ("images", "shapes")
    assert tiny.fer_interval is None and tiny.acc_interval is not None and tiny.acc_interval.n == 32
    assert [(c.name, c.correct, c.n) for c in tiny.acc_per_class] == [
        ("circle", 8, 8),
        ("square", 6, 8),
        ("triangle", 4, 8),
        ("star", 2, 8),
        ("heart", 0, 0),
    ]
    assert tiny.acc_per_class[-1].absent
    # ExecuTorch against the same model's Lite fp32 on the same images: one star fewer right
    et = by["tiny_rgb/executorch-1.4.1/fp32"]
    assert et.acc_change is not None and et.acc_change.value == pytest.approx(-1 / 32)
    assert et.fer_change is None
    model_file = by["my_model.int8/executorch-1.4.1/int8"]
    assert model_file.classes == () and model_file.source == "file" and model_file.input_shape == (1, 3, 224, 224)
    assert model_file.latency is not None and model_file.acc_interval is None and model_file.acc_per_class == ()


def test_csv_keeps_fer_columns_for_fer_and_appends_the_labelled_sets(written):
    root, _, beside = written
    rows = _rows(root, beside)
    tiny = rows["tiny_rgb/pytorch_android_lite-2.1.0/fp32"]
    assert tiny["fer_n"] == "" and tiny["fer_acc_device"] == ""  # FER-2013 columns mean FER-2013 only
    assert (tiny["acc_dataset"], tiny["acc_data"], tiny["acc_source"]) == ("images", "shapes", sessions.IMAGES_SOURCE)
    assert (tiny["acc_n"], float(tiny["acc_device"])) == ("32", 20 / 32)
    assert tiny["acc_per_class"] == "circle:8/8;square:6/8;triangle:4/8;star:2/8;heart:absent"
    assert tiny["input_shape"] == "1;3;64;64" and tiny["class_names"] == ";".join(sessions.SHAPES)
    study = rows["shallow_cnn/pytorch_android_lite-2.1.0/fp32"]
    assert (study["fer_n"], study["acc_n"], study["acc_dataset"]) == ("70", "70", "fer2013")
    assert study["fer_acc_device"] == study["acc_device"] and study["acc_per_class"] == ""
    model_file = rows["my_model.int8/executorch-1.4.1/int8"]
    assert model_file["model_source"] == "file" and float(model_file["median_ms"]) > 0
    assert model_file["acc_n"] == "" and model_file["params"] == "" and model_file["model_bytes"] == "5000"
    header = next(csv.reader(io.StringIO(_report(root, beside, "csv"))))
    assert header[-1] == "acc_per_class" and header.index("fer_n") < header.index("acc_n")


def test_markdown_headers_name_the_set_and_per_class_tables_use_the_models_classes(written):
    root, alone, beside = written
    md = _report(root, alone, "markdown")
    assert "| Model | shapes n | shapes device | shapes 95% CI |" in md
    assert "FER" not in md  # no FER-2013 model, no FER-2013 wording
    assert "### Accuracy per class on shapes (%)" in md
    assert "| Model | circle | square | triangle | star | heart |" in md
    assert "| tiny_rgb (executorch-1.4.1, fp32) | 100.0 (8/8) | 75.0 (6/8) | 50.0 (4/8) | 12.5 (1/8) | absent |" in md
    assert "| my_model.int8 (executorch-1.4.1, int8) | – | – |" in md  # latency and size rows, blank accuracy
    assert "### Training" not in md
    mixed = _report(root, beside, "markdown")
    assert "| Model | Data | Acc n | Acc device |" in mixed  # two sets: each row names its own
    assert "| shallow_cnn (pytorch_android_lite-2.1.0, fp32) | FER-2013 | 70 |" in mixed


def test_findings_only_with_the_study_models_and_only_about_them(written):
    root, alone, beside = written
    assert "The study's findings" not in _report(root, alone, "markdown")
    assert json.loads(_report(root, alone, "json"))["findings"] == []
    found = json.loads(_report(root, beside, "json"))["findings"]
    assert len(found) == 1
    text = json.dumps(found)
    assert "shallow_cnn" in text
    for other in ("tiny_rgb", "tiny_other", "my_model"):
        assert other not in text
    fastest = next(f for f in found[0]["findings"] if f["claim"] == "fastest model on this device")
    assert fastest["verdict"] == "shallow_cnn"  # tiny_other is faster, but no part of the study's claims


def test_pairs_only_on_the_same_data_and_classes(written):
    root, alone, beside = written
    for session in (alone, beside):
        comparisons = json.loads(_report(root, session, "json"))["accuracy_comparisons"]
        assert len(comparisons) == 1
        pairs = comparisons[0]["pairs"]
        assert [(p["model_a"], p["model_b"], p["data"], p["images"]) for p in pairs] == [
            ("tiny_rgb", "tiny_other", "shapes", 32)
        ]
        assert pairs[0]["only_a_correct"] == 12 and pairs[0]["only_b_correct"] == 0
    assert "not_paired" not in json.loads(_report(root, alone, "json"))["accuracy_comparisons"][0]
    mixed = json.loads(_report(root, beside, "json"))["accuracy_comparisons"][0]["not_paired"]
    assert mixed == (
        "models scored on different data or classes are not paired across them: "
        "shapes (5 classes): tiny_rgb, tiny_other; FER-2013 (7 classes): shallow_cnn"
    )
    assert f"- {mixed}" in _report(root, beside, "markdown")


def test_charts_for_any_model(written, tmp_path):
    root, alone, _ = written
    files, skipped = write_charts(build_report_data([alone], root=root), tmp_path)
    names = sorted(f.name for f in files)
    assert names == [
        "chart4-model-size.png",
        "chart5-app-size.png",
        "chart6-latency-host.png",
        "confusion-shapes-host.png",
        "latency-vs-accuracy-host.png",
    ]
    for f in files:
        assert f.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any("confusion" in s for s in skipped)  # drawn for the labelled set: nothing missing


def test_a_session_with_only_a_model_file_reports_latency_and_size(tmp_path):
    sid = sessions.write_file_only_session(tmp_path)
    data = build_report_data([sid], root=tmp_path)
    (only,) = data.results
    assert only.latency is not None and only.model_bytes == 5_000 and only.acc_interval is None
    md = render_results(data, "markdown")
    assert "| my_model.int8 | ok | – | 0.005 |" in md and "Paired" not in md and "findings" not in md
    files, skipped = write_charts(data, tmp_path / "charts")
    assert sorted(f.name for f in files) == ["chart4-model-size.png", "chart5-app-size.png", "chart6-latency-host.png"]
    assert f"{sid} host: confusion matrices need FER-2013 predictions or a labelled image set's; none stored" in skipped


def test_terminal_table_renders(written):
    root, _, beside = written
    text = render_results(build_report_data([beside], root=root), "table", width=250)
    assert "my_model.int8" in text and "circle" in text


def test_a_model_file_named_like_a_study_model_gets_no_findings(tmp_path):
    sid = sessions.write_file_only_session(tmp_path, name="shallow_cnn")
    data = build_report_data([sid], root=tmp_path)
    assert [r.model for r in data.results] == ["shallow_cnn"]
    assert "The study's findings" not in render_results(data, "markdown")


def test_compare_pairs_any_model_by_variant(written):
    root, alone, _ = written
    result = CliRunner().invoke(report_cmd, ["--results", str(root), "--compare", alone, alone, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["model"] for r in rows) == sorted(
        [
            "my_model.int8 (executorch-1.4.1, int8)",
            "tiny_other (pytorch_android_lite-2.1.0, fp32)",
            "tiny_rgb (executorch-1.4.1, fp32)",
            "tiny_rgb (pytorch_android_lite-2.1.0, fp32)",
        ]
    )
    assert {r["verdict"] for r in rows} == {"no change"}
