"""The documented `fermbench` examples, and how tests/test_doc_examples.py runs each one.

Found, never listed by hand:
  - every `fermbench ...` line in the verbatim (`\\b`) paragraphs of every command's --help
    ("Examples:", "Typical session:", ...), walking the click command tree;
  - every `fermbench ...` command in the fenced code blocks of the Markdown files in MARKDOWN
    (`\\` continuations joined; `&&`, `||`, `;` and `|` chains split; pip, python, adb, ssh ...
    segments skipped; `# comments` dropped; `> FILE` kept as where stdout goes).

How each one runs is decided below, in one place: POLICY (the first rule whose pattern matches the
command as documented), TINY (options added so it finishes in seconds) and PLACEHOLDERS (words of
the documentation that stand for something only the reader has). A new example needs no entry if
it runs as written in the test's temporary checkout; if it cannot, its test fails and says to add
one here.
"""

from __future__ import annotations

import inspect
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click

# The Markdown files whose fenced blocks hold commands a reader copies (globs, from the repo root).
MARKDOWN = ("README.md", "docs/*.md", "android-runner/README.md")

RUN = "run"  # run it through the CLI, in a temporary checkout, against the simulated phone
SYNTAX = "syntax"  # parse its arguments only (unknown options, bad choices, missing values fail)
SERVE = "serve"  # a command that serves until stopped: start it, check what it says, SIGTERM it


@dataclass(frozen=True)
class Rule:
    pattern: str  # re.search'ed in the example as documented ("fermbench ...")
    how: str  # RUN, SYNTAX or SERVE
    reason: str
    add: tuple[str, ...] = ()  # arguments appended to the command
    prepare: str | None = None  # a preparation of the checkout (test_doc_examples.PREPARE)


POLICY: tuple[Rule, ...] = (
    Rule(
        r"^fermbench runner build\b",
        SYNTAX,
        "needs JDK 17, the Android SDK and the network (Gradle); the one-line error without them is "
        "tested in tests/apk/test_runner_build.py",
    ),
    Rule(
        r"^fermbench verify\b",
        SYNTAX,
        "checks a phone session made with built runner APKs; .ci/run runs it end to end on a simulated phone "
        "(ci/on-simulated-phone.sh) and tests/bench/test_verify.py shows each check failing",
    ),
    Rule(
        r"^fermbench doctor\b.*--build\b",
        SYNTAX,
        "--build checks JDK 17, the Android SDK and Gradle, which this machine lacks (doctor then exits 1, "
        "as it should)",
    ),
    Rule(
        r"--quant \S*int8",
        SYNTAX,
        "an int8 ExecuTorch export calibrates and checks 1,000 images per model: about a minute per model on "
        "2 cores; tests/export/test_pte_export.py runs that path end to end",
    ),
    Rule(
        r"^fermbench sim\b(?!.*--help-commands)",
        SERVE,
        "serves until Ctrl-C: started, each serial it prints checked, then stopped with SIGTERM",
    ),
    Rule(
        r"^fermbench runner install --device \S+$",
        RUN,
        "installs the APKs `runner build` left in android-runner/; the test's checkout has runner APKs there "
        "(made for the simulated phone), and --project points at that checkout instead of this one",
        add=("--project", "android-runner"),
    ),
    Rule(
        r"^fermbench train --resume\b",
        RUN,
        "resumes an interrupted run: a 2-epoch run of that id is interrupted (Ctrl-C) after epoch 1 first",
        prepare="interrupted_training",
    ),
    Rule(
        r"^fermbench run --resume\b",
        RUN,
        "resumes an interrupted session: one interrupted (Ctrl-C) after its first phase is copied in, and "
        "the placeholder id names it",
        prepare="interrupted_session",
    ),
    Rule(r"", RUN, "runs as written, in a temporary checkout (see TINY and PLACEHOLDERS)"),
)

# Options added (when the example does not give them) so that a command finishes in seconds.
# Never with --resume: a resumed run or session keeps its own settings and refuses others.
TINY: dict[str, tuple[str, ...]] = {
    "run": ("--warmup", "1", "--warmup-seconds", "0", "--iterations", "5", "--min-seconds", "0", "--cooldown", "none"),
    "train": ("--epochs", "1"),
}

# Words of the documentation that stand for the reader's own things -> (the value the test puts
# there, named as in Stage.values of test_doc_examples.py; why that value).
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "SERIAL": ("phone_a", "a phone's adb serial: a simulated phone with both runners, on the local adb server"),
    "emulator-5554": ("phone_a", "an emulator's serial: the same simulated phone (it is behind adb as one is)"),
    "127.0.0.1:5037": ("server_a", "the local adb server: a private one (ANDROID_ADB_SERVER_PORT), never the user's"),
    "127.0.0.1:15037": (
        "server_b",
        "a second adb server (a farm's, through an SSH tunnel): another private one, "
        "with a phone identical to the first",
    ),
    "15037": ("port_b", "that second server's port (--adb-port)"),
    "20240101-120000-a1b2": (
        "session",
        "a stored session's id: the earlier of the two in results/ (for --resume, the interrupted one)",
    ),
    "15555": ("free_port", "a fixed port may be taken on a shared machine: the first of a free block"),
}
# A word that looks like a placeholder (SERIAL, HOST:PORT, <session-id>) but is not in PLACEHOLDERS.
UNKNOWN_PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_]{2,}(?:[:/][A-Z][A-Z0-9_]*)*|<[\w-]+>)$")

# What a command that did its job prints (exit code 0 alone would pass a command that did nothing).
DONE: dict[str, str] = {
    "train": r"(?m)^done: val_acc",
    "evaluate": r"accuracy",
    "export": r"(?m)^written to ",
    "run": r"(?m)^results: ",
    "doctor": r"doctor: ",
    "devices": r"adb servers? |\"devices\": \[",  # the table's title, or --json's list
    "runner install": r"(?m)^installed \S+\.apk on ",
    "runner status": r"\(\w+ flavor\): ok",
    "models": r"fermbench models|MACs",  # the zoo's table, or the one --model names
    "data check": r"PublicTest",
}


@dataclass(frozen=True)
class Example:
    argv: tuple[str, ...]  # the arguments after `fermbench`
    stdout_to: str | None  # the FILE of `> FILE`
    sources: tuple[str, ...]  # where it is documented ("fermbench run --help", "README.md:26")

    @property
    def text(self) -> str:
        return "fermbench " + shlex.join(self.argv) + (f" > {self.stdout_to}" if self.stdout_to else "")

    def __str__(self) -> str:
        return self.text

    def rule(self) -> Rule:
        return next(r for r in POLICY if re.search(r.pattern, self.text))

    def command(self, root: click.Group) -> str:
        """The command path it runs, e.g. "runner install" (options and values left out)."""
        path: list[str] = []
        cmd: click.Command = root
        for word in self.argv:
            if not isinstance(cmd, click.Group):
                break
            sub = cmd.get_command(click.Context(cmd), word)
            if sub is None:
                break
            path.append(word)
            cmd = sub
        return " ".join(path)


# -- finding them -----------------------------------------------------------------------------


def split_shell(line: str) -> list[list[str]]:
    """One shell line as its commands' words: split at && || ; |, comments dropped. A `<name>`
    placeholder stays one word (a shell would read redirections)."""
    line = re.sub(r"(?<![<>\w])<([\w-]+)>(?![<>\w])", r"'<\1>'", line)
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lex:
        if token in ("&&", "||", ";", "|"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def fermbench_args(words: list[str]) -> list[str] | None:
    """The arguments of a `fermbench ...` (or `python3 -m fermbench.cli ...`) command, else None."""
    if words[:1] == ["$"]:
        words = words[1:]
    if words[:1] == ["fermbench"]:
        return words[1:]
    if len(words) >= 3 and re.fullmatch(r"python3?", words[0]) and words[1:3] == ["-m", "fermbench.cli"]:
        return words[3:]
    return None


# a line that runs fermbench: at its start or after && || ; | (not a file tree naming fermbench/)
RUNS_FERMBENCH = re.compile(r"(?:^|&&|\|\||;|\|)\s*(?:\$\s+)?(?:fermbench|python3? -m fermbench\.cli)(?:\s|$)")


def commands_in(line: str) -> list[tuple[tuple[str, ...], str | None]]:
    """(arguments, stdout file) of each fermbench command of a shell line."""
    if not RUNS_FERMBENCH.search(line):
        return []
    found = []
    for words in split_shell(line):
        args = fermbench_args(words)
        if args is None:
            continue
        stdout_to = None
        if args[-2:-1] == [">"]:  # `> FILE` at the end; other redirections stay and fail as arguments
            stdout_to, args = args[-1], args[:-2]
        found.append((tuple(args), stdout_to))
    return found


def help_lines(help_text: str) -> list[str]:
    """The `fermbench ...` lines of a help text's verbatim (\\b) paragraphs, as written."""
    lines = []
    for para in re.split(r"\n\s*\n", inspect.cleandoc(help_text)):
        rows = para.splitlines()
        if rows and rows[0].strip() == "\b":
            lines += [r.strip() for r in rows[1:] if re.match(r"\s*(\$\s+)?fermbench\s", r)]
    return lines


def walk(root: click.Group) -> list[tuple[str, click.Command]]:
    """("fermbench runner install", command) for the root and every command below it."""
    found: list[tuple[str, click.Command]] = []

    def visit(cmd: click.Command, path: str, parent: click.Context | None) -> None:
        found.append((path, cmd))
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd, info_name=path.split()[-1], parent=parent)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{path} lists {name} but cannot load it"
                visit(sub, f"{path} {name}", ctx)

    visit(root, "fermbench", None)
    return found


def markdown_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, shell line) of each line of the fenced code blocks, `\\` continuations joined."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        opened = re.match(r"\s*(```+|~~~+)", raw)
        if opened and (fence is None or opened.group(1)[0] == fence[0]):
            fence, pending = (opened.group(1) if fence is None else None), ""
            continue
        if fence is None:
            continue
        if not pending:
            start = no
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append((start, pending + raw))
        pending = ""
    return out


def collect(root: click.Group, repo: Path) -> tuple[dict[str, list[Example]], dict[str, list[Example]]]:
    """(examples per command's help, examples per Markdown file), each as documented there."""
    helps = {
        path: [
            Example(args, out, (f"{path} --help",))
            for line in help_lines(cmd.help or "")
            for args, out in commands_in(line)
        ]
        for path, cmd in walk(root)
    }
    docs: dict[str, list[Example]] = {}
    for pattern in MARKDOWN:
        for md in sorted(repo.glob(pattern)):
            name = md.relative_to(repo).as_posix()
            docs[name] = [
                Example(args, out, (f"{name}:{no}",))
                for no, line in markdown_lines(md.read_text())
                for args, out in commands_in(line)
            ]
    return helps, docs


def unique(*groups: dict[str, list[Example]]) -> list[Example]:
    """Every distinct example once, with all the places that document it."""
    merged: dict[tuple[tuple[str, ...], str | None], Example] = {}
    for group in groups:
        for examples in group.values():
            for ex in examples:
                key = (ex.argv, ex.stdout_to)
                seen = merged.get(key)
                merged[key] = ex if seen is None else Example(ex.argv, ex.stdout_to, seen.sources + ex.sources)
    return list(merged.values())
