"""App size: what bundling a model into the runner APK costs, measured rather than estimated.

With the runner APK (built by Gradle) the model is added as `assets/<model>.ptl`, stored
uncompressed and with its data 4-byte aligned (what `noCompress` plus zipalign produce, so the
app can memory-map it), and the resulting file is measured. The runtime's share per ABI is the
size of the `lib/<abi>/*.so` entries in the APK (the runner has no native code of its own, so
every .so there belongs to the runtime). Without an APK only the model's file size is known;
the result says so (`kind = "model_only"`).

The rebuilt APK is a measurement artifact: its signature no longer matches, it is not installed.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

from ..errors import ConfigError
from ..store import OK, AppSizePhase
from ..tempdirs import temp_dir

ALIGNMENT = 4
ALIGN_EXTRA_ID = 0xD935  # the extra-field id Android's zipalign uses for alignment padding
LOCAL_HEADER_SIZE = 30


def apk_runtime(apk: Path) -> str | None:
    """Which runner flavor an APK is (pytorch_lite or executorch), from its runtime's native libraries,
    else from the package name in its manifest; None when it is neither."""
    from ..runner import protocol as p

    with _open_apk(apk) as zf:
        names = zf.namelist()
        if any("libexecutorch" in n for n in names):
            return p.RUNTIME_EXECUTORCH
        if any("libpytorch_jni_lite" in n for n in names):
            return p.RUNTIME_LITE
        manifest = zf.read("AndroidManifest.xml") if "AndroidManifest.xml" in names else b""
    for runtime in sorted(p.RUNTIMES, key=lambda r: -len(p.runner_package(r))):  # the longer name first
        package = p.runner_package(runtime)
        if package.encode("utf-16-le") in manifest or package.encode() in manifest:
            return runtime
    return None


def _open_apk(apk: Path) -> zipfile.ZipFile:
    if not apk.is_file():
        raise ConfigError(f"APK {apk} does not exist; build the runner with `fermbench runner build`, or drop --apk")
    try:
        return zipfile.ZipFile(apk)
    except zipfile.BadZipFile as exc:
        raise ConfigError(f"{apk} is not an APK (not a zip archive); pass the runner's built APK") from exc


def native_libs(apk: Path) -> dict[str, tuple[int, int]]:
    """{abi: (compressed bytes, uncompressed bytes)} of `lib/<abi>/*.so` in the APK."""
    libs: dict[str, tuple[int, int]] = {}
    with _open_apk(apk) as z:
        for info in z.infolist():
            parts = info.filename.split("/")
            if len(parts) == 3 and parts[0] == "lib" and parts[2].endswith(".so"):
                c, u = libs.get(parts[1], (0, 0))
                libs[parts[1]] = (c + info.compress_size, u + info.file_size)
    return libs


def _align_extra(data_offset_without_extra: int) -> bytes:
    """An extra field that pushes the entry's data to the next ALIGNMENT boundary."""
    pad = (-(data_offset_without_extra + 6)) % ALIGNMENT
    return struct.pack("<HHH", ALIGN_EXTRA_ID, 2 + pad, ALIGNMENT) + b"\0" * pad


def add_aligned_asset(apk_copy: Path, model: Path, asset_name: str) -> tuple[int, int]:
    """Append `model` to the zip `apk_copy` as a stored, aligned entry; (data offset, stored size)."""
    name = f"assets/{asset_name}"
    with zipfile.ZipFile(apk_copy, "a") as z:
        if name in z.namelist():
            raise ConfigError(f"{apk_copy.name} already holds {name}; pass the runner APK without models")
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        header_offset = z.start_dir  # append mode writes the new entry where the directory was
        info.extra = _align_extra(header_offset + LOCAL_HEADER_SIZE + len(name.encode()))
        with open(model, "rb") as src, z.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return entry_data_offset(apk_copy, name)


def entry_data_offset(apk: Path, name: str) -> tuple[int, int]:
    """(offset of the entry's data in the file, stored size), read from its local header."""
    with zipfile.ZipFile(apk) as z:
        info = z.getinfo(name)
    with open(apk, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(LOCAL_HEADER_SIZE)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + LOCAL_HEADER_SIZE + name_len + extra_len, info.compress_size


def measure_app_size(model: str | Path, apk: str | Path | None = None,
                     installed_bytes: int | None = None, installed_note: str | None = None,
                     work_dir: str | Path | None = None) -> AppSizePhase:
    """App size of `model` bundled into `apk` (or the model's size alone without an APK)."""
    model = Path(model)
    model_bytes = model.stat().st_size
    if apk is None:
        return AppSizePhase(status=OK, kind="model_only", model_bytes=model_bytes,
                            installed_note=installed_note or "no --apk given: model file size only")
    apk = Path(apk)
    libs = native_libs(apk)
    with temp_dir("appsize", Path(work_dir) if work_dir else None) as tmp:
        copy = Path(tmp) / apk.name
        shutil.copyfile(apk, copy)
        offset, stored = add_aligned_asset(copy, model, model.name)
        total = copy.stat().st_size
    return AppSizePhase(
        status=OK, kind="apk", model_bytes=model_bytes, apk=str(apk), apk_bytes=apk.stat().st_size,
        apk_with_model_bytes=total, model_asset_bytes=stored, model_asset_offset=offset,
        model_share=stored / total,
        runtime_bytes_by_abi={abi: c for abi, (c, _) in sorted(libs.items())},
        runtime_uncompressed_by_abi={abi: u for abi, (_, u) in sorted(libs.items())},
        runtime_share_by_abi={abi: c / total for abi, (c, _) in sorted(libs.items())},
        single_abi_bytes={abi: total - sum(c for other, (c, _) in libs.items() if other != abi)
                          for abi in sorted(libs)},
        installed_bytes=installed_bytes, installed_note=installed_note,
    )
