"""setup.cfg says Python 3.10+: the code must not use what 3.10 lacks.

Two checks. The syntax: every file of the package, the tests and the benchmarks compiled by a real
Python 3.10 (found on PATH or in pyenv's folder; skipped, saying so, where there is none). The
standard library: an AST scan, on any Python, for the names added in 3.11 and 3.12 (a compile on 3.10
cannot see `datetime.UTC` inside a function body). CI's 3.10 job runs the whole suite on 3.10.
"""

from __future__ import annotations

import ast
import configparser
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("harness", "tests", "benchmarks")

# (module, name): the Python that added it. Imported from the module, or read as module.name.
NEWER_NAMES = {
    ("datetime", "UTC"): "3.11",
    ("enum", "StrEnum"): "3.11",
    ("enum", "ReprEnum"): "3.11",
    ("enum", "verify"): "3.11",
    ("enum", "member"): "3.11",
    ("enum", "nonmember"): "3.11",
    ("typing", "Self"): "3.11",
    ("typing", "Never"): "3.11",
    ("typing", "assert_never"): "3.11",
    ("typing", "assert_type"): "3.11",
    ("typing", "reveal_type"): "3.11",
    ("typing", "LiteralString"): "3.11",
    ("typing", "Required"): "3.11",
    ("typing", "NotRequired"): "3.11",
    ("typing", "TypeVarTuple"): "3.11",
    ("typing", "Unpack"): "3.11",
    ("typing", "dataclass_transform"): "3.11",
    ("typing", "override"): "3.12",
    ("hashlib", "file_digest"): "3.11",
    ("asyncio", "TaskGroup"): "3.11",
    ("asyncio", "timeout"): "3.11",
    ("asyncio", "Runner"): "3.11",
    ("contextlib", "chdir"): "3.11",
    ("sys", "exception"): "3.11",
    ("logging", "getLevelNamesMapping"): "3.11",
    ("math", "cbrt"): "3.11",
    ("math", "exp2"): "3.11",
    ("operator", "call"): "3.11",
    ("itertools", "batched"): "3.12",
}
NEWER_MODULES = {"tomllib": "3.11"}
NEWER_BUILTINS = {"ExceptionGroup": "3.11", "BaseExceptionGroup": "3.11"}
# methods and keywords whose owner a scan cannot type: flagged by name (os.walk and ast.walk excepted)
NEWER_METHODS = {"add_note": "3.11 (BaseException.add_note)", "walk": "3.12 (Path.walk)"}
NEWER_KEYWORDS = {
    "process_group": "3.11 (subprocess)",
    "delete_on_close": "3.12 (tempfile)",
    "onexc": "3.12 (shutil.rmtree)",
    "walk_up": "3.12 (Path.relative_to)",
}


def _version_guarded(node: ast.If) -> bool:
    """`if sys.version_info >= (3, 11):` (the branch that runs only where the name exists)."""
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Attribute)
        and test.left.attr == "version_info"
        and isinstance(test.ops[0], (ast.GtE, ast.Gt))
    )


def newer_than_310(source: str, filename: str = "<source>") -> list[str]:
    """'file:line: what (version)' for each use of the standard library that Python 3.10 lacks."""
    tree = ast.parse(source, filename)
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _version_guarded(node):
            guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        what = None
        if isinstance(node, ast.Import):
            newer = [a.name for a in node.names if a.name in NEWER_MODULES]
            what = f"import {newer[0]} ({NEWER_MODULES[newer[0]]})" if newer else None
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in NEWER_MODULES:
                what = f"from {node.module} import ({NEWER_MODULES[node.module]})"
            what = what or next(
                (
                    f"from {node.module} import {a.name} ({NEWER_NAMES[node.module, a.name]})"
                    for a in node.names
                    if (node.module, a.name) in NEWER_NAMES
                ),
                None,
            )
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if (owner, node.attr) in NEWER_NAMES:
                what = f"{owner}.{node.attr} ({NEWER_NAMES[owner, node.attr]})"
            elif node.attr in NEWER_METHODS and owner not in ("os", "ast"):
                what = f".{node.attr}() ({NEWER_METHODS[node.attr]})"
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            what = f"{node.id} ({NEWER_BUILTINS[node.id]})"
        elif isinstance(node, ast.keyword) and node.arg in NEWER_KEYWORDS:
            what = f"{node.arg}= ({NEWER_KEYWORDS[node.arg]})"
        if what:
            found.append(f"{filename}:{getattr(node, 'lineno', '?')}: {what}")
    return found


def _sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def test_the_oldest_python_is_310_in_setup_cfg_and_in_ruff():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["options"]["python_requires"].strip() == ">=3.10"
    assert 'target-version = "py310"' in (ROOT / "ruff.toml").read_text()


def test_no_standard_library_name_newer_than_310_is_used():
    found = [f for p in _sources() for f in newer_than_310(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert found == [], "Python 3.10 lacks these (guard them with `if sys.version_info >= ...`):\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source, flagged",
    [
        ("import tomllib", True),
        ("import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib", False),
        ("if True:\n    import tomllib", True),
        ("from datetime import UTC", True),
        ("import datetime\ndef now():\n    return datetime.datetime.now(datetime.UTC)", True),
        ("from typing import Any, Self", True),
        ("from typing import Any, Callable", False),
        ("import hashlib\nhashlib.file_digest(f, 'sha256')", True),
        ("try:\n    pass\nexcept ExceptionGroup:\n    pass", True),
        ("subprocess.Popen(['x'], process_group=0)", True),
        ("for d, ds, fs in os.walk('.'):\n    pass", False),
        ("for d, ds, fs in Path('.').walk():\n    pass", True),
        ("exc.add_note('while pushing')", True),
    ],
)
def test_the_scan_finds_what_310_lacks_and_accepts_a_version_guard(source, flagged):
    assert bool(newer_than_310(source)) is flagged


def _python310() -> str | None:
    """A working Python 3.10: this one, python3.10 on PATH (a pyenv shim may name one it cannot run),
    or the newest under pyenv's versions folder."""
    if sys.version_info[:2] == (3, 10):
        return sys.executable
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [
        shutil.which("python3.10"),
        *sorted(glob.glob(os.path.join(pyenv, "versions", "3.10.*", "bin", "python")), reverse=True),
    ]
    for python in filter(None, candidates):
        try:
            answer = subprocess.run(
                [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, timeout=30
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == "(3, 10)":
            return python
    return None


COMPILE_ALL = """
import sys
bad = []
for path in sys.argv[1:]:
    try:
        compile(open(path, encoding="utf-8").read(), path, "exec")
    except SyntaxError as exc:
        bad.append(f"{path}:{exc.lineno}: {exc.msg}")
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""


def test_every_file_compiles_under_python_310():
    python = _python310()
    if python is None:
        pytest.skip(
            "no Python 3.10 interpreter (python3.10 on PATH or in ~/.pyenv/versions); CI's 3.10 job "
            "runs the suite on 3.10"
        )
    # compile() writes no .pyc files into the tree
    result = subprocess.run(
        [python, "-c", COMPILE_ALL, *map(str, _sources())], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, "syntax that Python 3.10 does not accept:\n" + result.stdout + result.stderr


def test_a_syntax_newer_than_310_fails_the_compile_under_310(tmp_path):
    python = _python310()
    if python is None:
        pytest.skip("no Python 3.10 interpreter (python3.10 on PATH or in ~/.pyenv/versions)")
    newer = tmp_path / "newer.py"
    newer.write_text("try:\n    pass\nexcept* ValueError:\n    pass\n")  # except* came in 3.11
    result = subprocess.run([python, "-c", COMPILE_ALL, str(newer)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and f"{newer}:3:" in result.stdout
