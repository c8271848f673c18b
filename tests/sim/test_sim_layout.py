"""How the simulated phone's code hangs together: imports inside `fermbench.sim` run one way
(no circle, none hidden inside a function), and the reference `fermbench sim --help-commands`
prints is generated from the registered handlers and services, so it cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

import fermbench.sim as sim_package
from fermbench.cli import main
from fermbench.sim import services
from fermbench.sim.cmds import COMMANDS, SUMMARIES, command, registry

SIM = Path(sim_package.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported fermbench.sim module, inside a function?) for each relative import in a file."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    inner = {
        id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [(n, id(node) in inner) for n in names if n.startswith("fermbench.sim")]
    return found


def test_imports_inside_sim_run_one_way():
    graph: dict[str, set[str]] = {}
    hidden = []
    for path in SIM.rglob("*.py"):
        for target, in_function in _imports(path):
            graph.setdefault(_module_name(path), set()).add(target)
            if in_function:
                hidden.append(f"{_module_name(path)} -> {target}")
    assert not hidden, f"imports hidden inside functions: {hidden}"

    def cycle_from(start: str, seen: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(start, ())):
            if nxt in seen:
                return seen[seen.index(nxt) :] + [nxt]
            found = cycle_from(nxt, seen + [nxt])
            if found:
                return found
        return None

    for module in sorted(graph):
        assert cycle_from(module, [module]) is None, f"import circle: {cycle_from(module, [module])}"
    # the line between the shell and its commands: neither imports the other
    assert not any(t.startswith("fermbench.sim.cmds") for t in graph["fermbench.sim.shell"])
    assert not any(
        t == "fermbench.sim.shell" for m, ts in graph.items() if m.startswith("fermbench.sim.cmds") for t in ts
    )


def help_commands() -> str:
    result = CliRunner().invoke(main, ["sim", "--help-commands"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_reference_lists_every_handler_and_service():
    text = help_commands()
    listed = {line.split()[0] for line in text.splitlines() if line.startswith("  ")}
    assert set(COMMANDS) <= listed
    assert {s.prefix for s in services.SERVICES} <= listed
    for name, summary in SUMMARIES.items():
        assert summary in text, name


def test_a_newly_registered_command_appears_in_the_reference():
    @command("zz-probe", summary="a probe registered by the test")
    def probe(ctx) -> int:
        return 0

    try:
        assert "  zz-probe  " in help_commands() and "a probe registered by the test" in help_commands()
    finally:
        del registry.COMMANDS["zz-probe"], registry.SUMMARIES["zz-probe"]
    assert "zz-probe" not in help_commands()
