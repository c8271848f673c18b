"""What a session tells a display as it goes (kept light: the CLI imports it before torch)."""

from __future__ import annotations


class Progress:
    """Session events for a display; the default does nothing (tests, --quiet)."""

    def start(self, serial: str, total: int) -> None: ...

    def step(self, serial: str, model: str, phase: str) -> None: ...

    def done(self, serial: str, model: str, phase: str, status: str) -> None: ...

    def message(self, text: str) -> None: ...
