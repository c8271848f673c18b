"""A checklist of one device or host: each check ok, a warning or a refusal, with its fix.

bench/preflight.py fills one before every session and for `fermbench doctor`; apk/fit.py adds
the runner's own checks to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .runner import protocol as p

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    level: str  # ok | warn | fail
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" + (f"; {self.fix}" if self.fix else "")


@dataclass
class Preflight:
    serial: str
    checks: list[Check] = field(default_factory=list)
    info: p.InfoResult | None = None
    tags: list[str] = field(default_factory=list)

    def add(self, name: str, level: str, message: str, fix: str = "") -> Check:
        check = Check(name, level, message, fix)
        self.checks.append(check)
        return check

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.level == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.level == WARN]

    @property
    def ok(self) -> bool:
        return not self.failed

    def refusal(self) -> str:
        """One line naming the device, what is wrong and the fix (for DeviceError)."""
        return "; ".join(str(c) for c in self.failed)
