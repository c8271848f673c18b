"""16 KB page compatibility of an APK's native libraries, from their ELF program headers.

A shared library loads on a device with 16 KB pages only if every LOAD segment is aligned to at
least 16 KB (`p_align >= 16384`); pytorch_android_lite's are aligned to 4 KB, executorch-android's
(NDK r28+) to 16 KB. This reads `lib/<abi>/*.so` inside the APK (a zip) and reports each library's
LOAD alignments, for 32- and 64-bit little-endian ELF (every Android ABI). Only the ELF side is
checked: the zip alignment of uncompressed libraries is the packager's part (AGP 8.5.1+, zipalign -P 16).
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import FermbenchError

PAGE_16K = 16384
PT_LOAD = 1
_MAGIC = b"\x7fELF"
_CLASSES = {1: 32, 2: 64}  # EI_CLASS
_LITTLE_ENDIAN = 1  # EI_DATA
_MACHINES = {3: "x86", 40: "arm", 62: "x86_64", 183: "aarch64"}  # e_machine
# After e_ident (16 bytes): where e_phoff, e_phentsize and e_phnum sit, and one program header.
_HEADER = {32: struct.Struct("<HHIIIIIHHHHHH"), 64: struct.Struct("<HHIQQQIHHHHHH")}
_PHDR = {32: struct.Struct("<IIIIIIII"), 64: struct.Struct("<IIQQQQQQ")}


class ApkError(FermbenchError):
    """An APK or a library in it that cannot be read as the format says."""


@dataclass(frozen=True)
class LoadSegment:
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int  # p_align


@dataclass(frozen=True)
class NativeLibrary:
    path: str  # inside the APK: lib/<abi>/<name>.so
    abi: str
    bits: int  # 32 or 64
    machine: str  # aarch64, arm, x86_64, x86 (or e_machine's number)
    segments: tuple[LoadSegment, ...]

    @property
    def min_align(self) -> int:
        """The smallest LOAD alignment: what decides whether the library loads."""
        return min(s.align for s in self.segments)

    @property
    def compatible_16k(self) -> bool:
        return self.min_align >= PAGE_16K


@dataclass(frozen=True)
class ApkAlignment:
    apk: str
    libraries: tuple[NativeLibrary, ...]

    @property
    def compatible_16k(self) -> bool:
        """Every native library loads with 16 KB pages (an APK without any does trivially)."""
        return all(lib.compatible_16k for lib in self.libraries)

    def incompatible(self) -> list[NativeLibrary]:
        return [lib for lib in self.libraries if not lib.compatible_16k]


def read_load_segments(data: bytes, name: str = "ELF file") -> tuple[int, str, tuple[LoadSegment, ...]]:
    """(bits, machine, LOAD segments) of a little-endian ELF image; ApkError if it is not one."""
    if len(data) < 16 or data[:4] != _MAGIC:
        raise ApkError(f"{name} is not an ELF file (no \\x7fELF magic): the APK's lib/ folder holds something else")
    bits = _CLASSES.get(data[4])
    if bits is None:
        raise ApkError(f"{name} has ELF class {data[4]}, neither 32- nor 64-bit: the file is corrupt")
    if data[5] != _LITTLE_ENDIAN:
        raise ApkError(f"{name} is big-endian ELF: no Android ABI uses that, the file is not an Android library")
    header = _HEADER[bits]
    if len(data) < 16 + header.size:
        raise ApkError(f"{name} is {len(data)} bytes, shorter than its {bits}-bit ELF header: the file is cut off")
    _, machine, _, _, phoff, _, _, _, phentsize, phnum, _, _, _ = header.unpack_from(data, 16)
    phdr = _PHDR[bits]
    if phnum and phentsize < phdr.size:
        raise ApkError(f"{name} declares {phentsize}-byte program headers, less than the {phdr.size} of {bits}-bit ELF")
    if phoff + phnum * phentsize > len(data):
        raise ApkError(
            f"{name}: its {phnum} program headers at offset {phoff} run past the end of the file "
            f"({len(data)} bytes): the file is cut off"
        )
    segments = []
    for i in range(phnum):
        fields = phdr.unpack_from(data, phoff + i * phentsize)
        if bits == 64:
            p_type, _, offset, vaddr, _, filesz, memsz, align = fields
        else:
            p_type, offset, vaddr, _, filesz, memsz, _, align = fields
        if p_type == PT_LOAD:
            segments.append(LoadSegment(offset, vaddr, filesz, memsz, align))
    if not segments:
        raise ApkError(f"{name} has no LOAD segment: it is not a loadable library")
    return bits, _MACHINES.get(machine, str(machine)), tuple(segments)


def read_apk_alignment(apk: str | Path) -> ApkAlignment:
    """Every lib/<abi>/*.so in the APK with its LOAD alignments; ApkError for a bad APK or library."""
    path = Path(apk)
    if not path.is_file():
        raise ApkError(f"APK {path} not found: pass the path of a built runner APK")
    try:
        with zipfile.ZipFile(path) as z:
            libraries = []
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                parts = info.filename.split("/")
                if len(parts) == 3 and parts[0] == "lib" and parts[2].endswith(".so"):
                    where = f"{path.name}!{info.filename}"
                    bits, machine, segments = read_load_segments(z.read(info), where)
                    libraries.append(NativeLibrary(info.filename, parts[1], bits, machine, segments))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ApkError(f"{path} is not a readable APK (zip): {exc}") from None
    return ApkAlignment(str(path), tuple(libraries))
