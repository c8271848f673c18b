"""APK-shaped files the simulated phone can install.

A real APK is a zip whose AndroidManifest.xml is binary XML. The simulated phone does not parse
binary XML; it reads the package name and version from a small text entry that fermbench's test
APKs carry (`fermbench-package.txt`: `package=`, `versionCode=`, `versionName=` lines). Without
that entry, `pm install <path>` falls back to the file name (`org.example.app.apk`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

MARKER = "fermbench-package.txt"
_PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class ApkInfo:
    package: str
    version_code: int
    version_name: str


class ApkError(Exception):
    """Not an installable APK; `code` is the PackageManager failure name."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def make_apk_bytes(package: str, version_code: int = 1, version_name: str = "1.0", payload: bytes = b"") -> bytes:
    """Build an APK-shaped zip for tests and for installing the runner on the simulated phone."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("AndroidManifest.xml", f'<manifest package="{package}"/>\n')
        z.writestr(MARKER, f"package={package}\nversionCode={version_code}\nversionName={version_name}\n")
        z.writestr("classes.dex", b"dex\n035\0" + payload)
    return buf.getvalue()


def read_apk_info(data: bytes | io.BufferedIOBase, file_name: str | None = None) -> ApkInfo:
    """Package name and version of an APK-shaped zip, or ApkError with PackageManager's code."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ApkError("INSTALL_PARSE_FAILED_NOT_APK", f"Failed to parse base.apk: not a zip archive ({exc})") from None
    with z:
        names = set(z.namelist())
        if "AndroidManifest.xml" not in names:
            raise ApkError("INSTALL_PARSE_FAILED_BAD_MANIFEST", "Failed to parse base.apk: no AndroidManifest.xml")
        if MARKER in names:
            fields = dict(
                line.split("=", 1) for line in z.read(MARKER).decode("utf-8", "replace").splitlines() if "=" in line
            )
            package = fields.get("package", "").strip()
            try:
                version_code = int(fields.get("versionCode", "1"))
            except ValueError:
                raise ApkError("INSTALL_PARSE_FAILED_MANIFEST_MALFORMED", "versionCode is not a number") from None
            version_name = fields.get("versionName", str(version_code)).strip()
        elif file_name:
            package = file_name.rsplit("/", 1)[-1].removesuffix(".apk")
            version_code, version_name = 1, "1"
        else:
            raise ApkError(
                "INSTALL_PARSE_FAILED_MANIFEST_MALFORMED",
                f"the simulated phone reads the package name from {MARKER}, which this APK lacks",
            )
    if not _PACKAGE_RE.match(package):
        raise ApkError("INSTALL_PARSE_FAILED_BAD_PACKAGE_NAME", f"Invalid package name '{package}'")
    return ApkInfo(package, version_code, version_name)
