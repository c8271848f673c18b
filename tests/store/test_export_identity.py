"""session.json's model meta read as a typed ExportIdentity, as the report and the store use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fermbench.errors import ResultsError
from fermbench.store import load_session
from fermbench.store.identity import ExportIdentity

HERE = Path(__file__).resolve().parent


def test_identity_of_schema_1_and_2_sessions():
    v2 = load_session(HERE / "golden" / "v2-session" / "session").info
    lite = v2.identity("shallow_cnn/pytorch_android_lite-2.1.0/fp32")
    meta = v2.models["shallow_cnn/pytorch_android_lite-2.1.0/fp32"]
    assert (lite.sha256, lite.bytes, lite.params, lite.trained, lite.quant) == (
        meta["sha256"],
        meta["bytes"],
        meta["params"],
        False,
        "fp32",
    )
    v1 = load_session(HERE.parent / "fixtures" / "v1-session" / "session").info
    shallow = v1.identity("shallow_cnn/pytorch_android_lite-2.1.0/fp32")  # keyed by variant once migrated
    assert shallow.trained is True and shallow.quant is None and len(shallow.sha256 or "") == 64
    assert v1.identity("resnet9/pytorch_android_lite-2.1.0/fp32") == ExportIdentity()  # export failed: no meta


@pytest.mark.parametrize("key, value", [("bytes", "12"), ("trained", 1), ("params", True), ("sha256", 7)])
def test_a_wrong_kind_is_a_corrupt_file_named_by_its_key(key, value):
    with pytest.raises(ResultsError, match=f"models.{key}: expected"):
        ExportIdentity.from_meta({"sha256": "ab", key: value}, "models")
