"""The shell language of the simulated phone: words and the syntax tree of a command line.

A recursive-descent parser over the text itself (no separate token list), so that `$( ... )`
can parse its inner command line in place, as POSIX sh does. Written here rather than taken from
a library: bashlex (the one parser for Python found) raises NotImplementedError on `case` and
on `$(( ))`, and keeps no record of which parts of a word were quoted, which globbing and field
splitting need.

Covered: quoting, `$X ${X} ${X:-w} ${X-w} ${X:=w} ${X:+w} ${X:?w} ${#X} ${X#p} ${X##p} ${X%p}
${X%%p}`, `$( )`, backquotes, `$(( ))`, pipelines with `!`, `&&`, `||`, `;`, newlines, `{ }`,
`( )`, if/elif/else, for, while, until, case, functions `NAME() { ... }`, redirections.
Refused with a syntax error: `&` (background jobs) and here-documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class ShellSyntaxError(Exception):
    pass


# -- words ---------------------------------------------------------------------------------------


@dataclass
class Lit:
    text: str
    quoted: bool


@dataclass
class Param:
    """`$NAME`, `${NAME}`, `${NAME<op>word}` or `${#NAME}` (op '#len')."""

    name: str
    quoted: bool
    op: str = ""
    arg: Word | None = None


@dataclass
class CmdSub:
    """`$( ... )` or a backquoted command: its output, trailing newlines removed."""

    body: Node
    quoted: bool


@dataclass
class Arith:
    """`$(( ... ))`: the expression is expanded like a quoted word, then evaluated."""

    expr: Word
    quoted: bool


WordPart = Lit | Param | CmdSub | Arith


@dataclass
class Word:
    parts: list[WordPart] = field(default_factory=list)

    def plain(self) -> str | None:
        """The text of a word made only of unquoted literal characters, else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None


# -- the syntax tree -----------------------------------------------------------------------------


@dataclass
class Redirect:
    fd: int
    op: str  # '>', '>>', '<', '>&' (dup)
    target: Word | None = None
    dup: int | None = None  # the M of N>&M


@dataclass
class Simple:
    assigns: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Pipeline:
    commands: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]  # ('&&' | '||', pipeline)


@dataclass
class Seq:
    items: list[Node]


@dataclass
class Group:
    body: Node
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class If:
    branches: list[tuple[Node, Node]]  # (condition, body), if then elifs
    otherwise: Node | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    name: str
    items: list[Word] | None  # None: "$@"
    body: Node
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class While:
    cond: Node
    body: Node
    until: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Case:
    subject: Word
    arms: list[tuple[list[Word], Node | None]]
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class FuncDef:
    name: str
    body: Node


Node = Simple | Pipeline | AndOr | Seq | Group | If | For | While | Case | FuncDef
Compound = (Group, If, For, While, Case)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REDIRECT = re.compile(r"(\d*)(>>|>&|<&|<<|>\||>|<)")  # an optional fd number and the operator
_DIGITS = re.compile(r"\d+")
_META = " \t\n;&|()<>"
# The shell's reserved words (mksh's subset that this shell parses); `command -v`/`type` name them too.
RESERVED = frozenset({"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case", "esac", "{", "}", "!"})  # fmt: skip
# Words that end a list: the parser stops there and the construct that opened it takes them.
_ENDERS = {"then", "elif", "else", "fi", "do", "done", "esac", "}"}
_PARAM_OPS = (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%")


@dataclass
class _Tok:
    kind: str  # 'word', 'op', 'redir', 'eof'
    value: str = ""
    word: Word | None = None
    redirect: Redirect | None = None
    start: int = 0


class _Parser:
    def __init__(self, text: str, pos: int = 0):
        self.text = text
        self.pos = pos
        self._peeked: _Tok | None = None

    # -- tokens ----------------------------------------------------------------------------

    def peek(self) -> _Tok:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def take(self) -> _Tok:
        tok = self.peek()
        self._peeked = None
        return tok

    def _skip_blanks(self) -> None:
        t, n = self.text, len(self.text)
        while self.pos < n:
            c = t[self.pos]
            if c in " \t":
                self.pos += 1
            elif t.startswith("\\\n", self.pos):
                self.pos += 2
            elif c == "#":
                while self.pos < n and t[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    def _scan(self) -> _Tok:
        self._skip_blanks()
        t, i = self.text, self.pos
        if i >= len(t):
            return _Tok("eof", start=i)
        m = _REDIRECT.match(t, i)
        if m:
            fd_text, op = m.groups()
            self.pos = m.end()
            fd = int(fd_text) if fd_text else (0 if op[0] == "<" else 1)
            if op == "<<":
                raise ShellSyntaxError("here-documents are not supported")
            if op in (">&", "<&"):
                d = _DIGITS.match(t, self.pos)
                if not d:
                    raise ShellSyntaxError(f"'{op}' needs a file descriptor number")
                self.pos = d.end()
                return _Tok("redir", op, redirect=Redirect(fd, ">&", dup=int(d.group())), start=i)
            return _Tok("redir", op, redirect=Redirect(fd, ">" if op == ">|" else op), start=i)
        for op in ("&&", "||", ";;", "\n", ";", "|", "(", ")", "&"):
            if t.startswith(op, i):
                self.pos = i + len(op)
                if op == "&":
                    raise ShellSyntaxError("'&' (background jobs) is not supported")
                return _Tok("op", op, start=i)
        word = self._read_word(_META, False)
        return _Tok("word", word=word, start=i)

    # -- words -----------------------------------------------------------------------------

    def _read_word(self, stops: str, in_dq: bool) -> Word:
        """Read a word from self.pos up to an unquoted stop character (or '"' inside quotes)."""
        t, n = self.text, len(self.text)
        parts: list[WordPart] = []

        def lit(s: str, quoted: bool) -> None:
            last = parts[-1] if parts else None
            if isinstance(last, Lit) and last.quoted == quoted:
                last.text += s
            else:
                parts.append(Lit(s, quoted))

        while self.pos < n:
            c = t[self.pos]
            if in_dq and c == '"':
                break
            if not in_dq and c in stops:
                break
            if c == "\\":
                nxt = t[self.pos + 1] if self.pos + 1 < n else ""
                if nxt == "\n":
                    self.pos += 2
                elif in_dq and nxt not in '$`"\\':
                    lit("\\", True)
                    self.pos += 1
                else:
                    lit(nxt, True)
                    self.pos += 2
            elif c == "'" and not in_dq:
                close = t.find("'", self.pos + 1)
                if close < 0:
                    raise ShellSyntaxError("no closing quote")
                lit(t[self.pos + 1 : close], True)
                self.pos = close + 1
            elif c == '"' and not in_dq:
                self.pos += 1
                parts.append(Lit("", True))  # so that "" is an (empty) argument
                inner = self._read_word("", True)
                if self.pos >= n or t[self.pos] != '"':
                    raise ShellSyntaxError("no closing quote")
                self.pos += 1
                parts.extend(inner.parts)
            elif c == "`":
                parts.append(self._backquote(in_dq))
            elif c == "$":
                part = self._dollar(in_dq)
                if part is None:
                    lit("$", in_dq)
                else:
                    parts.append(part)
            else:
                lit(c, in_dq)
                self.pos += 1
        return Word(parts)

    def _backquote(self, in_dq: bool) -> CmdSub:
        t, i = self.text, self.pos + 1
        body = []
        while True:
            if i >= len(t):
                raise ShellSyntaxError("no closing '`'")
            c = t[i]
            if c == "`":
                break
            if c == "\\" and i + 1 < len(t) and t[i + 1] in "$`\\":
                body.append(t[i + 1])
                i += 2
                continue
            body.append(c)
            i += 1
        self.pos = i + 1
        return CmdSub(parse_node("".join(body)), in_dq)

    def _dollar(self, in_dq: bool) -> WordPart | None:
        t, i = self.text, self.pos
        nxt = t[i + 1] if i + 1 < len(t) else ""
        if t.startswith("$((", i):
            end = _arith_end(t, i + 3)
            sub = _Parser(t[i + 3 : end])
            expr = sub._read_word("", True)
            self.pos = end + 2
            return Arith(expr, in_dq)
        if nxt == "(":
            inner = _Parser(t, i + 2)
            body = inner.parse_list(stop_ops=frozenset(")"))
            close = inner.take()
            if close.kind != "op" or close.value != ")":
                raise ShellSyntaxError("missing ')' of '$('")
            self.pos = inner.pos
            return CmdSub(body, in_dq)
        if nxt == "{":
            return self._braced(in_dq)
        if nxt in ("?", "$", "#", "@", "*", "!", "-") or nxt.isdigit():
            self.pos = i + 2
            return Param(nxt, in_dq)
        m = _NAME.match(t, i + 1)
        if m:
            self.pos = m.end()
            return Param(m.group(), in_dq)
        self.pos = i + 1
        return None

    def _braced(self, in_dq: bool) -> Param:
        t = self.text
        i = self.pos + 2
        length = t.startswith("#", i) and i + 1 < len(t) and t[i + 1] != "}"
        if length:
            i += 1
        m = _NAME.match(t, i) or re.compile(r"[?$#@*!-]|\d+").match(t, i)
        if not m:
            raise ShellSyntaxError("bad substitution")
        name, i = m.group(), m.end()
        if length:
            if not t.startswith("}", i):
                raise ShellSyntaxError("bad substitution")
            self.pos = i + 1
            return Param(name, in_dq, "#len")
        if t.startswith("}", i):
            self.pos = i + 1
            return Param(name, in_dq)
        op = next((o for o in _PARAM_OPS if t.startswith(o, i)), None)
        if op is None:
            raise ShellSyntaxError("bad substitution")
        self.pos = i + len(op)
        arg = self._read_word("}", False)
        if not t.startswith("}", self.pos):
            raise ShellSyntaxError("missing '}'")
        self.pos += 1
        if in_dq:
            for p in arg.parts:
                p.quoted = True
        return Param(name, in_dq, op, arg)

    # -- grammar ---------------------------------------------------------------------------

    def _is(self, tok: _Tok, *words: str) -> bool:
        return tok.kind == "word" and tok.word is not None and tok.word.plain() in words

    def _skip_newlines(self) -> None:
        while self.peek().kind == "op" and self.peek().value == "\n":
            self.take()

    def expect_word(self, name: str) -> None:
        tok = self.take()
        if not self._is(tok, name):
            raise ShellSyntaxError(f"expected '{name}', found {_describe(tok)}")

    def parse_list(self, stop_ops: frozenset[str] = frozenset(), enders: frozenset[str] = frozenset()) -> Node:
        items: list[Node] = []
        while True:
            self._skip_newlines()
            tok = self.peek()
            ender = tok.word.plain() if tok.kind == "word" and tok.word is not None else None
            if (
                tok.kind == "eof"
                or (tok.kind == "op" and tok.value in stop_ops | {")", ";;"})
                or (ender in _ENDERS and (not enders or ender in enders))
            ):
                break
            if tok.kind == "op" and tok.value == ";" and not items:
                raise ShellSyntaxError("unexpected ';'")
            items.append(self.parse_and_or())
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";", "\n"):
                self.take()
            elif not (
                tok.kind == "eof"
                or (tok.kind == "op" and tok.value in stop_ops | {")", ";;"})
                or (tok.kind == "word" and tok.word is not None and tok.word.plain() in _ENDERS)
            ):
                raise ShellSyntaxError(f"unexpected {_describe(tok)}")
        return items[0] if len(items) == 1 else Seq(items)

    def parse_and_or(self) -> Node:
        first = self.parse_pipeline()
        rest: list[tuple[str, Node]] = []
        while self.peek().kind == "op" and self.peek().value in ("&&", "||"):
            op = self.take().value
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise ShellSyntaxError(f"unexpected end after '{op}'")
            rest.append((op, self.parse_pipeline()))
        return AndOr(first, rest) if rest else first

    def parse_pipeline(self) -> Node:
        negate = False
        if self._is(self.peek(), "!"):
            self.take()
            negate = True
        commands = [self.parse_command()]
        while self.peek().kind == "op" and self.peek().value == "|":
            self.take()
            self._skip_newlines()
            if self.peek().kind == "eof":
                raise ShellSyntaxError("unexpected end after '|'")
            commands.append(self.parse_command())
        return Pipeline(commands, negate) if negate or len(commands) > 1 else commands[0]

    def parse_command(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value == "(":
            self.take()
            body = self.parse_list(stop_ops=frozenset(")"))
            self._expect_op(")")
            return self._redirects(Group(body, subshell=True))
        if tok.kind == "eof" or tok.kind == "op":
            raise ShellSyntaxError(f"unexpected {_describe(tok)}")
        keyword = tok.word.plain() if tok.kind == "word" and tok.word else None
        if keyword == "{":
            self.take()
            body = self.parse_list(enders=frozenset({"}"}))
            self.expect_word("}")
            return self._redirects(Group(body, subshell=False))
        if keyword == "if":
            return self._redirects(self._parse_if())
        if keyword in ("while", "until"):
            self.take()
            cond = self.parse_list(enders=frozenset({"do"}))
            self.expect_word("do")
            body = self.parse_list(enders=frozenset({"done"}))
            self.expect_word("done")
            return self._redirects(While(cond, body, until=keyword == "until"))
        if keyword == "for":
            return self._redirects(self._parse_for())
        if keyword == "case":
            return self._redirects(self._parse_case())
        if keyword in _ENDERS or keyword in ("then", "in"):
            raise ShellSyntaxError(f"unexpected '{keyword}'")
        return self._parse_simple()

    def _expect_op(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.value != op:
            raise ShellSyntaxError(f"expected '{op}', found {_describe(tok)}")

    def _redirects(self, node: Group | If | For | While | Case) -> Node:
        while self.peek().kind == "redir":
            node.redirects.append(self._redirect(self.take()))
        return node

    def _redirect(self, tok: _Tok) -> Redirect:
        r = tok.redirect
        assert r is not None
        if r.op != ">&":
            target = self.take()
            if target.kind != "word":
                raise ShellSyntaxError(f"'{r.op}' needs a file name")
            r.target = target.word
        return r

    def _parse_if(self) -> If:
        self.take()
        branches = []
        otherwise = None
        while True:
            cond = self.parse_list(enders=frozenset({"then"}))
            self.expect_word("then")
            body = self.parse_list(enders=frozenset({"elif", "else", "fi"}))
            branches.append((cond, body))
            tok = self.take()
            if self._is(tok, "elif"):
                continue
            if self._is(tok, "else"):
                otherwise = self.parse_list(enders=frozenset({"fi"}))
                self.expect_word("fi")
            elif not self._is(tok, "fi"):
                raise ShellSyntaxError(f"expected 'fi', found {_describe(tok)}")
            return If(branches, otherwise)

    def _parse_for(self) -> For:
        self.take()
        tok = self.take()
        name = tok.word.plain() if tok.kind == "word" and tok.word else None
        if not name or not _NAME.fullmatch(name):
            raise ShellSyntaxError(f"bad 'for' variable {_describe(tok)}")
        self._skip_newlines()
        items: list[Word] | None = None
        if self._is(self.peek(), "in"):
            self.take()
            items = []
            while self.peek().kind == "word":
                items.append(self.take().word)  # type: ignore[arg-type]
        tok = self.peek()
        if tok.kind == "op" and tok.value in (";", "\n"):
            self.take()
        self._skip_newlines()
        self.expect_word("do")
        body = self.parse_list(enders=frozenset({"done"}))
        self.expect_word("done")
        return For(name, items, body)

    def _parse_case(self) -> Case:
        self.take()
        subject = self.take()
        if subject.kind != "word" or subject.word is None:
            raise ShellSyntaxError("'case' needs a word")
        self._skip_newlines()
        self.expect_word("in")
        arms: list[tuple[list[Word], Node | None]] = []
        while True:
            self._skip_newlines()
            tok = self.peek()
            if self._is(tok, "esac"):
                self.take()
                return Case(subject.word, arms)
            if tok.kind == "op" and tok.value == "(":
                self.take()
            patterns = []
            while True:
                pat = self.take()
                if pat.kind != "word" or pat.word is None:
                    raise ShellSyntaxError(f"bad pattern {_describe(pat)}")
                patterns.append(pat.word)
                sep = self.take()
                if sep.kind == "op" and sep.value == ")":
                    break
                if not (sep.kind == "op" and sep.value == "|"):
                    raise ShellSyntaxError(f"expected ')' in case, found {_describe(sep)}")
            body: Node | None = None
            if not (self.peek().kind == "op" and self.peek().value == ";;") and not self._is(self.peek(), "esac"):
                body = self.parse_list(enders=frozenset({"esac"}))
            arms.append((patterns, body))
            tok = self.peek()
            if tok.kind == "op" and tok.value == ";;":
                self.take()
            elif not self._is(tok, "esac"):
                raise ShellSyntaxError(f"expected ';;' or 'esac', found {_describe(tok)}")

    def _parse_simple(self) -> Node:
        cmd = Simple()
        while True:
            tok = self.peek()
            if tok.kind == "redir":
                cmd.redirects.append(self._redirect(self.take()))
            elif tok.kind == "word" and tok.word is not None:
                self.take()
                first = tok.word.parts[0] if tok.word.parts else None
                if (
                    not cmd.words
                    and isinstance(first, Lit)
                    and not first.quoted
                    and "=" in first.text
                    and _NAME.fullmatch(first.text.split("=", 1)[0])
                ):
                    name, _, value = first.text.partition("=")
                    cmd.assigns.append((name, Word([Lit(value, False)] + tok.word.parts[1:])))
                    continue
                cmd.words.append(tok.word)
                if len(cmd.words) == 1 and not cmd.assigns and self.peek().kind == "op" and self.peek().value == "(":
                    return self._parse_function(tok.word)
            else:
                break
        if not cmd.words and not cmd.assigns and not cmd.redirects:
            raise ShellSyntaxError(f"unexpected {_describe(self.peek())}")
        return cmd

    def _parse_function(self, name_word: Word) -> FuncDef:
        name = name_word.plain()
        if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name) or name in RESERVED:
            raise ShellSyntaxError("'(' (subshells) must start a command")
        self.take()
        self._expect_op(")")
        self._skip_newlines()
        body = self.parse_command()
        if not isinstance(body, Compound):
            raise ShellSyntaxError(f"function {name} needs a body in {{ }}")
        return FuncDef(name, body)


def _arith_end(text: str, start: int) -> int:
    """Index of the '))' that closes a `$((` whose expression starts at `start`."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                if text.startswith("))", i):
                    return i
                raise ShellSyntaxError("missing '))'")
            depth -= 1
        i += 1
    raise ShellSyntaxError("missing '))'")


def _describe(tok: _Tok) -> str:
    if tok.kind == "eof":
        return "end of line"
    if tok.kind == "op":
        return "newline" if tok.value == "\n" else f"'{tok.value}'"
    if tok.kind == "redir":
        return f"'{tok.value}'"
    plain = tok.word.plain() if tok.word else None
    return f"'{plain}'" if plain is not None else "a word"


def parse_node(text: str) -> Node:
    """The syntax tree of a whole command line; ShellSyntaxError if it is not valid sh."""
    p = _Parser(text)
    node = p.parse_list()
    tok = p.peek()
    if tok.kind != "eof":
        raise ShellSyntaxError(f"unexpected {_describe(tok)}")
    return node
