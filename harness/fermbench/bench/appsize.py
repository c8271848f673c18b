"""App size: what bundling a model into the runner APK costs, measured rather than estimated.

With the runner APK (built by Gradle) the model is added as `assets/<model>.ptl`, stored
uncompressed and with its data 4-byte aligned (what `noCompress` plus zipalign produce, so the
app can memory-map it), and the resulting file is measured. The runtime's share per ABI is the
size of the `lib/<abi>/*.so` entries in the APK (the runner has no native code of its own, so
every .so there belongs to the runtime). Without an APK only the model's file size is known;
the result says so (`kind = "model_only"`).

The rebuilt APK is a measurement artifact: its signature no longer matches, it is not installed.
What is read from and written into the APK itself is apk/archive.py's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..apk.archive import add_aligned_asset, native_libs
from ..store import OK, AppSizePhase
from ..tempdirs import temp_dir


def measure_app_size(
    model: str | Path,
    apk: str | Path | None = None,
    installed_bytes: int | None = None,
    installed_note: str | None = None,
    work_dir: str | Path | None = None,
) -> AppSizePhase:
    """App size of `model` bundled into `apk` (or the model's size alone without an APK)."""
    model = Path(model)
    model_bytes = model.stat().st_size
    if apk is None:
        return AppSizePhase(
            status=OK,
            kind="model_only",
            model_bytes=model_bytes,
            installed_note=installed_note or "no --apk given: model file size only",
        )
    apk = Path(apk)
    libs = native_libs(apk)
    with temp_dir("appsize", Path(work_dir) if work_dir else None) as tmp:
        copy = Path(tmp) / apk.name
        shutil.copyfile(apk, copy)
        offset, stored = add_aligned_asset(copy, model, model.name)
        total = copy.stat().st_size
    return AppSizePhase(
        status=OK,
        kind="apk",
        model_bytes=model_bytes,
        apk=str(apk),
        apk_bytes=apk.stat().st_size,
        apk_with_model_bytes=total,
        model_asset_bytes=stored,
        model_asset_offset=offset,
        model_share=stored / total,
        runtime_bytes_by_abi={abi: c for abi, (c, _) in sorted(libs.items())},
        runtime_uncompressed_by_abi={abi: u for abi, (_, u) in sorted(libs.items())},
        runtime_share_by_abi={abi: c / total for abi, (c, _) in sorted(libs.items())},
        single_abi_bytes={
            abi: total - sum(c for other, (c, _) in libs.items() if other != abi) for abi in sorted(libs)
        },
        installed_bytes=installed_bytes,
        installed_note=installed_note,
    )
