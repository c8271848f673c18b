"""The APK's native-library alignment reader on ELF files made here: written byte by byte with
struct (32- and 64-bit), and linked by gcc with 4 KB and 16 KB maximum page sizes where gcc exists."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from fermbench.apk.elf import PAGE_16K, ApkError, read_apk_alignment, read_load_segments
from fermbench.errors import FermbenchError

PT_LOAD, PT_DYNAMIC, PT_GNU_STACK = 1, 2, 0x6474E551


def elf_bytes(bits: int, machine: int, segments: list[tuple[int, int]]) -> bytes:
    """A minimal little-endian ELF shared object: its header and program headers (type, align)."""
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 1, 1]) + bytes(9)
    if bits == 64:
        header = struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, 64, 0, 0, 64, 56, len(segments), 64, 0, 0)
        phdrs = b"".join(
            struct.pack("<IIQQQQQQ", t, 5, i * 0x1000, i * 0x10000, i * 0x10000, 0x100, 0x100, align)
            for i, (t, align) in enumerate(segments)
        )
    else:
        header = struct.pack("<HHIIIIIHHHHHH", 3, machine, 1, 0, 52, 0, 0, 52, 32, len(segments), 40, 0, 0)
        phdrs = b"".join(
            struct.pack("<IIIIIIII", t, i * 0x1000, i * 0x10000, i * 0x10000, 0x100, 0x100, 5, align)
            for i, (t, align) in enumerate(segments)
        )
    return ident + header + phdrs


def apk_with(tmp_path: Path, libs: dict[str, bytes], name: str = "runner.apk") -> Path:
    apk = tmp_path / name
    with zipfile.ZipFile(apk, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00")
        z.writestr("classes.dex", b"dex\n035\x00")
        for path, data in libs.items():
            z.writestr(path, data)
    return apk


def test_load_alignment_of_each_library_per_abi_32_and_64_bit(tmp_path):
    apk = apk_with(
        tmp_path,
        {
            "lib/arm64-v8a/libexecutorch.so": elf_bytes(
                64, 183, [(PT_LOAD, 0x4000), (PT_DYNAMIC, 8), (PT_LOAD, 0x4000)]
            ),
            "lib/x86_64/libexecutorch.so": elf_bytes(64, 62, [(PT_LOAD, 0x4000), (PT_LOAD, 0x10000)]),
            "lib/armeabi-v7a/libpytorch_jni_lite.so": elf_bytes(32, 40, [(PT_LOAD, 0x1000), (PT_GNU_STACK, 16)]),
            "lib/arm64-v8a/libfbjni.so": elf_bytes(64, 183, [(PT_LOAD, 0x4000), (PT_LOAD, 0x1000)]),
        },
    )
    result = read_apk_alignment(apk)
    libs = {lib.path: lib for lib in result.libraries}
    assert sorted(libs) == [
        "lib/arm64-v8a/libexecutorch.so",
        "lib/arm64-v8a/libfbjni.so",
        "lib/armeabi-v7a/libpytorch_jni_lite.so",
        "lib/x86_64/libexecutorch.so",
    ]
    et = libs["lib/arm64-v8a/libexecutorch.so"]
    assert (et.abi, et.bits, et.machine) == ("arm64-v8a", 64, "aarch64")
    assert [s.align for s in et.segments] == [0x4000, 0x4000]  # only LOAD segments count
    assert et.compatible_16k and et.min_align == PAGE_16K
    assert (
        libs["lib/x86_64/libexecutorch.so"].min_align == 0x4000
        and libs["lib/x86_64/libexecutorch.so"].machine == "x86_64"
    )
    lite = libs["lib/armeabi-v7a/libpytorch_jni_lite.so"]
    assert (lite.bits, lite.machine, lite.min_align, lite.compatible_16k) == (32, "arm", 0x1000, False)
    assert not libs["lib/arm64-v8a/libfbjni.so"].compatible_16k  # one 4 KB segment is enough to fail
    assert not result.compatible_16k
    assert {lib.path for lib in result.incompatible()} == {
        "lib/armeabi-v7a/libpytorch_jni_lite.so",
        "lib/arm64-v8a/libfbjni.so",
    }


def test_an_apk_whose_libraries_are_all_16k_aligned_is_compatible(tmp_path):
    apk = apk_with(
        tmp_path,
        {
            "lib/arm64-v8a/libexecutorch.so": elf_bytes(64, 183, [(PT_LOAD, 0x4000)]),
            "lib/x86_64/libexecutorch.so": elf_bytes(64, 62, [(PT_LOAD, 0x4000)]),
            "lib/README.txt": b"not a library",
            "assets/x.so": b"not under lib/<abi>/",
        },
    )
    result = read_apk_alignment(apk)
    assert result.compatible_16k and len(result.libraries) == 2 and result.incompatible() == []


@pytest.mark.parametrize(
    "data, words",
    [
        (b"PK\x03\x04 not an elf", "not an ELF file"),
        (b"\x7fELF" + bytes([3, 1, 1]) + bytes(60), "ELF class 3"),
        (b"\x7fELF" + bytes([2, 2, 1]) + bytes(60), "big-endian"),
        (elf_bytes(64, 183, [(PT_LOAD, 0x4000)])[:40], "shorter than its 64-bit ELF header"),
        (elf_bytes(64, 183, [(PT_LOAD, 0x4000), (PT_LOAD, 0x4000)])[:-10], "run past the end"),
        (elf_bytes(32, 40, [(PT_DYNAMIC, 4)]), "no LOAD segment"),
    ],
)
def test_malformed_libraries_are_one_line_errors(tmp_path, data, words):
    apk = apk_with(tmp_path, {"lib/arm64-v8a/libbad.so": data})
    with pytest.raises(ApkError) as err:
        read_apk_alignment(apk)
    assert isinstance(err.value, FermbenchError) and words in str(err.value)
    assert "\n" not in str(err.value) and "runner.apk!lib/arm64-v8a/libbad.so" in str(err.value)


def test_a_missing_or_non_zip_apk_is_a_one_line_error(tmp_path):
    with pytest.raises(ApkError) as err:
        read_apk_alignment(tmp_path / "absent.apk")
    assert "not found" in str(err.value)
    (tmp_path / "text.apk").write_text("hello")
    with pytest.raises(ApkError) as err:
        read_apk_alignment(tmp_path / "text.apk")
    assert "not a readable APK" in str(err.value) and "\n" not in str(err.value)


GCC = shutil.which("gcc")


@pytest.mark.skipif(GCC is None, reason="no gcc on PATH to link a real shared library")
@pytest.mark.parametrize("page, compatible", [(4096, False), (16384, True)])
def test_a_library_linked_with_a_max_page_size_reads_back_with_that_alignment(tmp_path, page, compatible):
    source = tmp_path / "tiny.c"
    source.write_text("int fermbench_answer(void) { return 42; }\n")
    lib = tmp_path / "libtiny.so"
    done = subprocess.run(
        [GCC, "-shared", "-fPIC", "-o", str(lib), str(source), f"-Wl,-z,max-page-size={page}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    bits, machine, segments = read_load_segments(lib.read_bytes(), lib.name)
    assert bits == 64 and {s.align for s in segments} == {page}
    result = read_apk_alignment(apk_with(tmp_path, {"lib/x86_64/libtiny.so": lib.read_bytes()}))
    assert result.compatible_16k is compatible and result.libraries[0].min_align == page
