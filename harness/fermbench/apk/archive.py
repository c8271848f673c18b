"""What fermbench reads from a runner APK as a zip archive: which runtime it carries, the size of its
native libraries per ABI, and a model added as an aligned asset (where its data starts).

The ELF side of the native libraries (their LOAD alignment) is elf.py's.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

from .. import runtimes
from ..errors import ConfigError

ALIGNMENT = 4
ALIGN_EXTRA_ID = 0xD935  # the extra-field id Android's zipalign uses for alignment padding
LOCAL_HEADER_SIZE = 30


def apk_runtime(apk: Path) -> str | None:
    """Which runtime's runner an APK is, from the native library that marks each runtime
    (runtimes/), else from the package name in its manifest; None when it is none of them."""
    with _open_apk(apk) as zf:
        names = zf.namelist()
        libraries = {n.rsplit("/", 1)[-1] for n in names if n.startswith("lib/")}
        for spec in runtimes.RUNTIMES.values():
            if spec.marker in libraries:
                return spec.name
        manifest = zf.read("AndroidManifest.xml") if "AndroidManifest.xml" in names else b""
    for spec in sorted(runtimes.RUNTIMES.values(), key=lambda r: -len(r.package)):  # the longer name first
        if spec.package.encode("utf-16-le") in manifest or spec.package.encode() in manifest:
            return spec.name
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
