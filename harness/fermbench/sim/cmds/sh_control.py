"""Builtins of the phone's shell (mksh) that steer the script itself: break, continue, return,
shift, read, eval, `:`, and the lookups `command` and `type`. Their errors read
`/system/bin/sh: NAME: ...`, as mksh writes them."""

from __future__ import annotations

from ..process import Ctx, LoopControl, ReturnFromFunction
from .registry import command


def _count(ctx: Ctx) -> int | None:
    if not ctx.args:
        return 1
    if not ctx.args[0].isdigit() or int(ctx.args[0]) < 1:
        ctx.sh_error(f"{ctx.args[0]}: bad number")
        return None
    return int(ctx.args[0])


@command("break", summary="leave the Nth enclosing loop (default 1)", builtin=True)
def break_(ctx: Ctx) -> int:
    return _jump(ctx, again=False)


@command("continue", summary="go on with the next round of the Nth enclosing loop (default 1)", builtin=True)
def continue_(ctx: Ctx) -> int:
    return _jump(ctx, again=True)


def _jump(ctx: Ctx, again: bool) -> int:
    levels = _count(ctx)
    if levels is None:
        return 1
    if ctx.session.loops == 0:
        return ctx.sh_error("can't " + ("continue" if again else "break"))
    raise LoopControl(min(levels, ctx.session.loops), again)


@command("return", summary="leave a function with a status (default: the last one)", builtin=True)
def return_(ctx: Ctx) -> int:
    code = ctx.session.status
    if ctx.args:
        if not ctx.args[0].lstrip("-").isdigit():
            return ctx.sh_error(f"{ctx.args[0]}: bad number")
        code = int(ctx.args[0]) & 0xFF
    raise ReturnFromFunction(code)


@command("shift", summary="drop the first N positional parameters (default 1)", builtin=True)
def shift(ctx: Ctx) -> int:
    n = _count(ctx) if ctx.args != ["0"] else 0
    if n is None:
        return 1
    if n > len(ctx.session.positional):
        return ctx.sh_error(f"{n}: bad number")
    ctx.session.positional = ctx.session.positional[n:]
    return 0


@command(":", summary="do nothing, successfully", builtin=True)
def colon(ctx: Ctx) -> int:
    return 0


@command("eval", summary="run its arguments, joined, as a command line in this shell", builtin=True)
def eval_(ctx: Ctx) -> int:
    return ctx.shell.eval(ctx, " ".join(ctx.args)) if ctx.args else 0


@command(
    "read",
    summary="read a line of stdin into NAME... (the last takes the rest); -r (keep backslashes); "
    "status 1 at end of input",
    builtin=True,
)
def read(ctx: Ctx) -> int:
    args = list(ctx.args)
    raw = False
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-r":
            raw = True
        else:
            return ctx.sh_error(f"{flag}: unknown option")
    names = args or ["REPLY"]
    line = bytearray()
    ended = True
    while not ctx.cancel.is_set():
        c = ctx.stdin.read(1)  # byte by byte, so the rest of stdin stays for the next reader
        if not c:
            break
        if c == b"\n":
            ended = False
            break
        line += c
    text = line.decode("utf-8", "replace")
    if not raw:
        text = text.replace("\\", "")
    fields = text.split(None, len(names) - 1) if len(names) > 1 else [text.strip()]
    for k, name in enumerate(names):
        ctx.session.env[name] = fields[k] if k < len(fields) else ""
    return 1 if ended and not line else 0


def _lookup(ctx: Ctx, name: str, verbose: bool) -> bool:
    found = ctx.shell.describe(ctx.session, name)
    if found is None:
        if verbose:
            ctx.write(f"{name} not found\n")
        return False
    kind, where = found
    if not verbose:
        ctx.write(f"{where}\n")
    else:
        ctx.write(
            {
                "keyword": f"{name} is a reserved word\n",
                "function": f"{name} is a function\n",
                "builtin": f"{name} is a shell builtin\n",
                "tool": f"{name} is {where}\n",
            }[kind]
        )
    return True


@command(
    "command", summary="command -v|-V NAME... (what a name is), or command NAME ARGS (skipping functions)", builtin=True
)
def command_(ctx: Ctx) -> int:
    args = list(ctx.args)
    if args and args[0] in ("-v", "-V"):
        verbose = args[0] == "-V"
        return 0 if all(_lookup(ctx, name, verbose) for name in args[1:]) and args[1:] else 1
    if args and args[0] == "-p":
        args.pop(0)
    if not args:
        return 0
    return ctx.shell.run_argv(ctx, args)


@command(
    "type", summary="what each NAME is: a reserved word, a function, a shell builtin or /system/bin/NAME", builtin=True
)
def type_(ctx: Ctx) -> int:
    return 0 if all(_lookup(ctx, name, True) for name in ctx.args) else 1
