"""Imports only point down: the package-level import graph, read from the source with `ast`, has
no arrow from a layer to a layer above it.

Every import counts: `import fermbench.x`, `from fermbench.x import`, `from ..x import`, inside
functions and TYPE_CHECKING blocks too, and `importlib.import_module("fermbench.x")` with a
literal name. A "package" is the first name under fermbench/ (a folder or a top-level module).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import fermbench

# Lowest first. A module may import its own package and any package of an earlier layer, nothing
# else. Packages that do not need each other are still put in an order, each as low as its own
# imports let it sit, so that it may import as little as possible.
LAYERS: list[tuple[str, ...]] = [
    ("fermbench",),  # the package's __init__: __version__
    ("errors",),  # one error family
    ("runtimes",),  # the runtime registry: one module per runtime (exporter and engine named, not imported)
    ("fileio", "paths", "quiet", "display", "intervals", "labels", "threads", "logs"),  # helpers of one concern each
    ("measures", "latency_settings"),  # the metric table and the latency settings table (issue 24's other parts)
    ("locks", "stats"),
    ("tempdirs",),
    ("zoo",),  # the model architectures and their specs (input, classes, preprocessing)
    ("data",),  # FER-2013, photos, labelled folders (prepared by a model's spec)
    ("training",),
    ("export",),  # .ptl and .pte files with their gates
    # the runner protocol, its wire format (am instrument output), the host runner; a ready
    # .ptl/.pte/.tflite given to `run --model-file`: its runtime and input, read from the file
    ("runner", "modelfiles"),
    ("store",),  # the results on disk (may hold the runner's typed results, never run anything)
    ("report",),  # tables and charts from stored results only
    ("device",),  # the only adb code; parses the runner's output with runner/instrument_output.py
    ("checklist",),  # a device's checks with their fixes
    ("targets",),  # where a benchmark runs: the host CPU, an Android device
    ("apk",),  # `fermbench runner`: the runner APK, its contents, whether it fits a device, installing it
    ("sim",),  # the simulated phone (serves the runner flavors apk/ describes)
    ("bench",),  # one benchmark session, doctor, verify
    ("cli",),
]

# Upward arrows the order must keep forbidding whatever else moves (issue 24).
NAMED_UPWARD = [
    ("apk", "bench"),
    ("device", "bench"),
    ("runner", "device"),
    ("sim", "bench"),
    ("store", "bench"),
    ("targets", "bench"),
    ("targets", "apk"),
    ("targets", "sim"),
    ("report", "bench"),
    ("store", "device"),
]

# Arrows allowed although they point up: (from, to) -> why. None are left; prefer moving code.
EXCEPTIONS: dict[tuple[str, str], str] = {}

SOURCE = Path(fermbench.__file__).resolve().parent


@dataclass(frozen=True)
class Arrow:
    source: str  # package that imports
    target: str  # package imported
    where: str  # file:line
    module: str = ""  # the dotted name imported

    def __str__(self) -> str:
        return f"{self.where} imports {self.module} ({self.source} -> {self.target})"


def package_of(root: Path, file: Path) -> str:
    parts = file.relative_to(root).with_suffix("").parts
    return "fermbench" if parts == ("__init__",) else parts[0]


def _top(dotted: str) -> str | None:
    """The package a dotted module name belongs to; None outside fermbench."""
    parts = dotted.split(".")
    if parts[0] != "fermbench":
        return None
    return parts[1] if len(parts) > 1 else "fermbench"


def _named(root: Path, base: str, names: list[str]) -> list[str]:
    """`from fermbench import x`: x is a package when there is one by that name, else a name of __init__."""
    if base != "fermbench":
        return [base]
    return [f"fermbench.{n}" if (root / n).is_dir() or (root / f"{n}.py").is_file() else "fermbench" for n in names]


def imported_modules(root: Path, file: Path) -> list[tuple[str, int]]:
    """(dotted module, line) of every import in a file, at any depth."""
    module = ["fermbench", *file.relative_to(root).with_suffix("").parts]
    package = module[:-1]  # what `from .` means, in a package's __init__ as in its modules
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                dotted = ".".join(base + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            found += [(m, node.lineno) for m in _named(root, dotted, [a.name for a in node.names])]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return found


def import_graph(root: Path) -> list[Arrow]:
    """Every arrow between two different packages of the source tree at `root` (the fermbench folder)."""
    arrows: list[Arrow] = []
    for file in sorted(root.rglob("*.py")):
        source = package_of(root, file)
        for dotted, line in imported_modules(root, file):
            target = _top(dotted)
            if target is not None and target != source:
                arrows.append(Arrow(source, target, f"{file.relative_to(root)}:{line}", dotted))
    return arrows


def rank() -> dict[str, int]:
    return {name: i for i, layer in enumerate(LAYERS) for name in layer}


def upward(arrows: list[Arrow]) -> list[Arrow]:
    order = rank()
    return [
        a
        for a in arrows
        if (a.source, a.target) not in EXCEPTIONS
        and a.source in order
        and a.target in order
        and order[a.target] >= order[a.source]
    ]


def test_imports_only_point_down():
    bad = upward(import_graph(SOURCE))
    assert not bad, "imports that point up (move the code down, or invert the dependency):\n" + "\n".join(map(str, bad))


def test_every_import_names_a_module_that_exists():
    """A lazy import inside a function fails only when that function runs: a moved module must not
    leave one behind."""
    stale = [
        f"{file.relative_to(SOURCE)}:{line} imports {dotted}"
        for file in sorted(SOURCE.rglob("*.py"))
        for dotted, line in imported_modules(SOURCE, file)
        if dotted.startswith("fermbench") and not _exists(SOURCE, dotted)
    ]
    assert not stale, "imports of modules that do not exist:\n" + "\n".join(stale)


def _exists(root: Path, dotted: str) -> bool:
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_every_package_has_its_layer():
    packages = {package_of(SOURCE, f) for f in SOURCE.rglob("*.py")}
    missing = sorted(packages - set(rank()))
    assert not missing, f"packages with no place in LAYERS: {missing}; add each where its imports let it sit"


def test_each_package_is_in_one_layer():
    names = [n for layer in LAYERS for n in layer]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("source,target", NAMED_UPWARD)
def test_the_order_forbids_the_named_upward_arrows(source, target):
    order = rank()
    assert order[target] > order[source] and (source, target) not in EXCEPTIONS


def test_exceptions_are_still_needed():
    """An exception nothing uses any more is removed, so it cannot let a new arrow in."""
    used = {(a.source, a.target) for a in import_graph(SOURCE)}
    assert set(EXCEPTIONS) <= used


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "fermbench" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "fermbench"


def test_the_graph_sees_imports_inside_functions_type_checking_and_import_module(tmp_path):
    root = _tree(
        tmp_path,
        {
            "__init__.py": "__version__ = '1'\n",
            "errors.py": "",
            "runner/__init__.py": "",
            "runner/protocol.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..device.adb import X\n",
            "device/__init__.py": "from .. import __version__\n",
            "device/adb.py": "def f():\n    from fermbench.bench import start\n    import fermbench.errors\n",
            "apk/__init__.py": "import importlib\nm = importlib.import_module('fermbench.bench.preflight')\n",
            "bench/__init__.py": "from .. import errors\nfrom ..runner import protocol\n",
        },
    )
    arrows = {(a.source, a.target, a.where) for a in import_graph(root)}
    assert arrows == {
        ("runner", "device", "runner/protocol.py:3"),
        ("device", "fermbench", "device/__init__.py:1"),
        ("device", "bench", "device/adb.py:2"),
        ("device", "errors", "device/adb.py:3"),
        ("apk", "bench", "apk/__init__.py:2"),
        ("bench", "errors", "bench/__init__.py:1"),
        ("bench", "runner", "bench/__init__.py:2"),
    }
    assert {(a.source, a.target) for a in upward(import_graph(root))} == {
        ("runner", "device"),
        ("device", "bench"),
        ("apk", "bench"),
    }
    assert not _exists(root, "fermbench.device.adb.X") and _exists(root, "fermbench.device.adb")
