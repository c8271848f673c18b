"""Which of the three formats a file is, read from its first bytes (its name only has to agree).

- .ptl (PyTorch Lite): a zip archive with a `<name>/bytecode.pkl` (what `_save_for_lite_interpreter`
  adds to a TorchScript archive; a plain `torch.jit.save` file has none and the lite interpreter
  refuses it).
- .pte (ExecuTorch): a flatbuffer whose file identifier, bytes 4..8, is "ET" and two digits.
- .tflite (LiteRT): a flatbuffer whose file identifier is "TFL3".
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

PTL, PTE, TFLITE = "ptl", "pte", "tflite"
FORMATS = (PTL, PTE, TFLITE)
CONTENT = {PTL: "a PyTorch Lite archive", PTE: "an ExecuTorch program", TFLITE: "a LiteRT model"}
KNOWN = "fermbench reads a PyTorch Lite .ptl, an ExecuTorch .pte or a LiteRT .tflite"

_ZIP_MAGIC = b"PK\x03\x04"
_PTE_IDENTIFIER = re.compile(rb"^ET[0-9]{2}$")
_TFLITE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class FileKind:
    """What a file's content says it is."""

    format: str  # ptl | pte | tflite
    identifier: str  # the content's mark: the .pte/.tflite file identifier (ET12, TFL3), "zip" for .ptl


def _content_format(path: Path, head: bytes) -> FileKind | None:
    identifier = head[4:8]
    if _PTE_IDENTIFIER.match(identifier):
        return FileKind(PTE, identifier.decode("ascii"))
    if identifier == _TFLITE_IDENTIFIER:
        return FileKind(TFLITE, identifier.decode("ascii"))
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return None
        if any(n.endswith("/bytecode.pkl") or n == "bytecode.pkl" for n in names):
            return FileKind(PTL, "zip")
        if any(n.endswith("/data.pkl") for n in names):
            raise ConfigError(
                f"{path}: a TorchScript archive without lite-interpreter bytecode: save it with "
                f"module._save_for_lite_interpreter(path) ({KNOWN})"
            )
    return None


def detect_format(path: Path) -> FileKind:
    """The file's format, from its content; a ConfigError naming the file and the three formats
    when it is none of them, or when its suffix names another one."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file: pass the path of a model file ({KNOWN})")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}): check its permissions") from None
    kind = _content_format(path, head)
    suffix = path.suffix.lower().lstrip(".")
    if kind is None:
        said = f" (its name says .{suffix}, its content is not one)" if suffix in FORMATS else ""
        raise ConfigError(f"{path}: not a model file of a known format{said}: {KNOWN}")
    if suffix != kind.format:
        raise ConfigError(
            f"{path}: its content is {CONTENT[kind.format]} (.{kind.format}) but its name ends in "
            f"{path.suffix or 'no suffix'}: rename it to {path.stem}.{kind.format} ({KNOWN})"
        )
    return kind
