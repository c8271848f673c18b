"""Stand-in runner APKs: what `fermbench runner build` would leave, made without Gradle.

The emulator job (ci/android-emulator.sh) runs against a simulated phone in `.ci/run`, where no
Android SDK exists. There the Gradle build is the one step replaced: this writes, where Gradle
would (`<project>/app/build/outputs/apk/<flavor>/release/`), one APK-shaped zip per flavor that
the simulated phone installs (sim/apk.py), carrying each runtime's native libraries as minimal
ELF files with the LOAD alignment the real ones have (runtimes/: ExecuTorch and LiteRT 16 KB, Lite 4 KB), so
the job's alignment check reads real ELF program headers.

    python3 -m fermbench.sim.standin PROJECT      # prints each APK's path, like `runner build`
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

from .. import __version__
from ..apk.flavors import FLAVORS, Flavor
from ..runner.protocol import PROTOCOL_VERSION
from .apk import make_apk_bytes

_MACHINE = {"x86_64": 62, "arm64-v8a": 183, "x86": 3, "armeabi-v7a": 40}


def elf_library(abi: str, align: int) -> bytes:
    """A 64- or 32-bit little-endian shared object with one LOAD segment aligned to `align`."""
    bits = 32 if abi in ("x86", "armeabi-v7a") else 64
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 1, 1]) + bytes(9)
    if bits == 64:
        header = struct.pack("<HHIQQQIHHHHHH", 3, _MACHINE[abi], 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
        phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, 120, 120, align)
    else:
        header = struct.pack("<HHIIIIIHHHHHH", 3, _MACHINE[abi], 1, 0, 52, 0, 0, 52, 32, 1, 0, 0, 0)
        phdr = struct.pack("<IIIIIIII", 1, 0, 0, 0, 84, 84, 5, align)
    return ident + header + phdr


def standin_apk(flavor: Flavor) -> bytes:
    names, align = flavor.spec.libraries, flavor.spec.device.library_align  # as each AAR ships them
    buf = io.BytesIO(make_apk_bytes(flavor.package, version_code=PROTOCOL_VERSION, version_name=__version__))
    with zipfile.ZipFile(buf, "a") as z:
        for abi in flavor.abis:
            for name in names:
                z.writestr(zipfile.ZipInfo(f"lib/{abi}/{name}"), elf_library(abi, align))
    return buf.getvalue()


def write_standin_apks(project: Path) -> list[Path]:
    """One release APK per flavor under `project`, where Gradle puts them; their paths."""
    paths = []
    for flavor in FLAVORS:
        path = flavor.apk_dir(project, "release") / f"app-{flavor.name}-release.apk"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(standin_apk(flavor))
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m fermbench.sim.standin PROJECT_DIR", file=sys.stderr)
        return 2
    for path in write_standin_apks(Path(argv[0])):
        print(path)
    aligned = ", ".join(f"{f.spec.label} {f.spec.device.library_align // 1024} KB" for f in FLAVORS)
    print(f"stand-in APKs (no Gradle): native libraries aligned {aligned}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
