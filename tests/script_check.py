"""Checks a CI shell script's calls against the real package: every `fermbench ...` invocation
names a command that exists and only options that command has, and every `python3 -m MOD` and
every import in a `python3 -c` one-liner resolves. A stale import or a renamed option then fails
the suite here, not on GitHub's next run."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import shlex

import click

STOP = {";", ";;", "|", "||", "&&", "&", ")", "(", "then", "do", "fi", "done", "esac"}


def logical_lines(text: str) -> list[str]:
    """The script's lines with `\\` continuations joined and comment lines dropped."""
    joined = text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def calls(text: str, program: str) -> list[list[str]]:
    """Each call of `program` in the script: its arguments up to the end of the command."""
    found = []
    for line in logical_lines(text):
        try:
            tokens = _tokens(line)
        except ValueError:
            continue  # not shell words we can split (an unterminated quote in a string): not a call
        for i, tok in enumerate(tokens):
            if tok == program:
                args = []
                for t in tokens[i + 1 :]:
                    if t in STOP:
                        break
                    args.append(t)
                found.append(args)
    return found


def check_fermbench_call(args: list[str]) -> list[str]:
    """Problems of one `fermbench ARGS` call: an unknown (sub)command or option."""
    from fermbench.cli import main

    command: click.Command = main
    path = ["fermbench"]
    rest = list(args)
    ctx = click.Context(main)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            return [f"`{' '.join(path)} {rest[0]}`: no such command"]
        path.append(rest.pop(0))
        command = sub
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    shown = " ".join(path)
    return [
        f"`{shown}`: no option {word.split('=', 1)[0]}"
        for word in rest
        if word.startswith("-") and word.split("=", 1)[0] not in known
    ]


def _module_has(module: str, name: str) -> bool:
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return False
    if hasattr(imported, name):
        return True
    try:  # a submodule of a package
        return importlib.util.find_spec(f"{module}.{name}") is not None
    except ImportError:  # `module` is not a package
        return False


def check_python_call(args: list[str]) -> list[str]:
    """Problems of one `python3 ARGS` call: `-m MODULE` that is not there, `-c CODE` whose imports fail."""
    if len(args) >= 2 and args[0] == "-m":
        if args[1] in ("pip", "pytest", "mypy"):
            return []
        return [] if importlib.util.find_spec(args[1]) else [f"`python3 -m {args[1]}`: no such module"]
    if len(args) >= 2 and args[0] == "-c":
        problems = []
        for node in ast.walk(ast.parse(args[1])):
            if isinstance(node, ast.Import):
                problems += [
                    f"`import {a.name}`: no such module" for a in node.names if importlib.util.find_spec(a.name) is None
                ]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if importlib.util.find_spec(node.module) is None:
                    problems.append(f"`from {node.module} import ...`: no such module")
                else:
                    problems += [
                        f"`from {node.module} import {a.name}`: no such name"
                        for a in node.names
                        if not _module_has(node.module, a.name)
                    ]
        return problems
    return []


def check_script(text: str) -> list[str]:
    """Every problem of the script's fermbench and python calls, and any heredoc (the job's
    assertions belong in the package, `fermbench verify`, not in inline programs)."""
    problems = [p for args in calls(text, "fermbench") for p in check_fermbench_call(args)]
    problems += [p for args in calls(text, "python3") for p in check_python_call(args)]
    problems += [
        f"line {n}: a heredoc: put what it does in the package"
        for n, line in enumerate(text.splitlines(), 1)
        if "<<" in line and not line.lstrip().startswith("#")
    ]
    return problems
