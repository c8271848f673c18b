"""Collect every offender in a dataset, then fail once with the first few and the count.

Loading never drops a bad image silently: one bad file anywhere stops the load and names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DataError

SHOWN = 5  # offenders named in the message; the count covers all of them


@dataclass
class Problems:
    source: str
    items: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def raise_if_any(self, fix: str) -> None:
        if not self.items:
            return
        shown = "; ".join(self.items[:SHOWN])
        more = f" (and {len(self.items) - SHOWN} more)" if len(self.items) > SHOWN else ""
        noun = "problem" if len(self.items) == 1 else "problems"
        raise DataError(f"{self.source}: {len(self.items)} {noun}: {shown}{more}; {fix}")
