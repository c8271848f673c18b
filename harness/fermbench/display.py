"""Text from outside fermbench (serials, device names and states from an adb server, error
messages that quote them) made safe for a terminal: a hostile adb server must not be able to send
escape sequences (clear the screen, retitle the window) or rich markup through a serial."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """The text with every control character (ESC, CR, BEL, ...) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def markup_safe(text: object) -> str:
    """plain(), with rich markup escaped too: for table cells and other rich-rendered strings."""
    from rich.markup import escape

    return escape(plain(text))
