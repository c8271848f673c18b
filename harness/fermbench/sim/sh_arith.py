"""`$(( ))` as Android's mksh evaluates it: signed 32-bit integers that wrap, C operators and
precedence, variables by name (unset or empty is 0), assignments (`=`, `+=`, ...), `++`/`--`.
Errors are mksh's words ("zero divisor", "unexpected end of expression", ...)."""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|\+\+|--|<<=|>>=|\*\*|<<|>>|<=|>=|==|!="
    r"|&&|\|\||[-+*/%&|^]=|[-+*/%()<>!~?:=&|^,])"
)

# binary operators: precedence (higher binds tighter)
_BINARY = {
    ",": 1,
    "||": 4,
    "&&": 5,
    "|": 6,
    "^": 7,
    "&": 8,
    "==": 9,
    "!=": 9,
    "<": 10,
    ">": 10,
    "<=": 10,
    ">=": 10,
    "<<": 11,
    ">>": 11,
    "+": 12,
    "-": 12,
    "*": 13,
    "/": 13,
    "%": 13,
}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="}


class ArithError(Exception):
    """What mksh says after `EXPR: `."""


def wrap(n: int) -> int:
    """Signed 32-bit, as mksh's arithmetic."""
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ArithError("zero divisor")
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward zero
        return wrap(q if op == "/" else a - q * b)
    return wrap(
        {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "<<": lambda: a << (b & 31),
            ">>": lambda: a >> (b & 31),
            "<": lambda: int(a < b),
            ">": lambda: int(a > b),
            "<=": lambda: int(a <= b),
            ">=": lambda: int(a >= b),
            "==": lambda: int(a == b),
            "!=": lambda: int(a != b),
            "&": lambda: a & b,
            "|": lambda: a | b,
            "^": lambda: a ^ b,
            "&&": lambda: int(bool(a) and bool(b)),
            "||": lambda: int(bool(a) or bool(b)),
            ",": lambda: b,
        }[op]()
    )


class _Eval:
    def __init__(self, text: str, get: Callable[[str], str], put: Callable[[str, str], None]):
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise ArithError(f"unexpected '{text[pos:].strip()[:1]}'")
            self.tokens.append(m.group(1))
            pos = m.end()
        self.k = 0
        self.get, self.put = get, put

    def peek(self) -> str:
        return self.tokens[self.k] if self.k < len(self.tokens) else ""

    def take(self) -> str:
        tok = self.peek()
        if not tok:
            raise ArithError("unexpected end of expression")
        self.k += 1
        return tok

    def var(self, name: str) -> int:
        value = self.get(name).strip()
        if not value:
            return 0
        return wrap(_Eval(value, self.get, self.put).run())

    def run(self) -> int:
        if not self.tokens:
            return 0
        value = self.expr(0)
        if self.peek():
            raise ArithError(f"unexpected '{self.peek()}'")
        return value

    def expr(self, min_prec: int) -> int:
        # assignment (right-associative, lowest above ',')
        if (
            re.fullmatch(r"[A-Za-z_]\w*", self.peek())
            and self.k + 1 < len(self.tokens)
            and self.tokens[self.k + 1] in _ASSIGN
            and min_prec <= 2
        ):
            name, op = self.take(), self.take()
            rhs = self.expr(2)
            value = rhs if op == "=" else _apply(op[:-1], self.var(name), rhs)
            self.put(name, str(value))
            return value
        left = self.unary()
        while True:
            op = self.peek()
            if op == "?" and min_prec <= 3:
                self.take()
                a = self.expr(0)
                if self.take() != ":":
                    raise ArithError("missing ':'")
                b = self.expr(3)
                left = a if left else b
                continue
            prec = _BINARY.get(op)
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.expr(prec + 1)
            left = _apply(op, left, right)

    def unary(self) -> int:
        tok = self.take()
        if tok in ("-", "+", "!", "~"):
            v = self.unary()
            return wrap(-v if tok == "-" else v if tok == "+" else int(not v) if tok == "!" else ~v)
        if tok in ("++", "--"):
            name = self.take()
            value = wrap(self.var(name) + (1 if tok == "++" else -1))
            self.put(name, str(value))
            return value
        if tok == "(":
            value = self.expr(0)
            if self.take() != ")":
                raise ArithError("missing ')'")
            return value
        if tok[0].isdigit():
            return wrap(int(tok, 16) if tok[:2].lower() == "0x" else int(tok))  # mksh: 010 is ten
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            if self.peek() in ("++", "--"):
                old = self.var(tok)
                self.put(tok, str(wrap(old + (1 if self.take() == "++" else -1))))
                return old
            return self.var(tok)
        raise ArithError(f"unexpected '{tok}'")


def evaluate(text: str, get: Callable[[str], str], put: Callable[[str, str], None]) -> int:
    """The value of an arithmetic expression; ArithError with mksh's reason."""
    return _Eval(text, get, put).run()
