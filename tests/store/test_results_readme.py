"""results/README.md documents the schema from the record dataclasses themselves, so it cannot drift."""

from __future__ import annotations

from pathlib import Path

from fermbench.store.docs import replace_block

README = Path(__file__).resolve().parents[2] / "results" / "README.md"


def test_results_readme_schema_is_generated_from_the_dataclasses():
    text = README.read_text(encoding="utf-8")
    assert replace_block(text) == text, "run `python -m fermbench.store.docs results/README.md`"
    for name in ("device_accuracy", "apk_with_model_bytes", "before_load", "stop_reason", "counts"):
        assert f"`{name}`" in text
