"""Shards: pools of devices and the queue of units of work they share (`--shard`).

"Shard" names this queue; "farm" names the adb servers and their devices (device/farm.py).

A unit of work is one variant's latency repeat, or one of its accuracy, real-world and app-size
phases. Every pool has a queue of the units it still has to run, in the session's seeded order;
each device of the pool takes the next unit it can run when it is free.

Without --shard every device is a pool of its own and runs every unit (as before). With it,
identical devices (same ro.product.model and build fingerprint) form one pool and each unit runs
once, on whichever device takes it, recorded under that device: a pool of N phones finishes
about N times sooner. A unit whose device is lost goes back to the queue; a resumed session
queues only the units that no device of the pool has finished.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..store import OK, SKIPPED, Record, SessionStore, Variant
from ..store.records import PhaseName

PHASES_AFTER_LATENCY = tuple(p for p in PhaseName if p is not PhaseName.LATENCY)


@dataclass(frozen=True)
class Unit:
    variant: Variant
    phase: PhaseName
    repeat: int | None = None  # the latency repeat


def model_order(seed: int, key: str, repeat: int, variants: Iterable[Variant]) -> list[Variant]:
    """Seeded per pool (a device's own key without --shard) and repeat: a resumed session runs the same order."""
    ordered = sorted(variants)
    return random.Random(f"{seed}:{key}:{repeat}").sample(ordered, len(ordered))


def plan_units(seed: int, key: str, repeats: int, variants: Iterable[Variant]) -> list[Unit]:
    """Every repeat's latency in that repeat's model order, then each model's other phases."""
    variants = list(variants)
    units = [Unit(v, PhaseName.LATENCY, r) for r in range(repeats) for v in model_order(seed, key, r, variants)]
    return units + [Unit(v, phase) for v in model_order(seed, key, 0, variants) for phase in PHASES_AFTER_LATENCY]


def identity_key(identity: dict[str, Any]) -> str:
    """What makes devices identical for --shard: the model and the build fingerprint."""
    return f"{identity.get('model')} | {identity.get('fingerprint')}"


def check_identical(devices: list[tuple[str, dict[str, Any]]]) -> None:
    """--shard spreads work over identical devices only; ConfigError naming the ones that differ."""
    groups: dict[str, list[str]] = {}
    for key, identity in devices:
        groups.setdefault(identity_key(identity), []).append(key)
    if len(groups) > 1:
        kinds = "; ".join(f"{', '.join(keys)}: {kind}" for kind, keys in groups.items())
        raise ConfigError(
            f"--shard needs identical devices (same model and build fingerprint), these differ: "
            f"{kinds}; drop --shard, or name identical devices with --device"
        )


class WorkQueue:
    """The units a pool still has to run; thread-safe, shared by the pool's device workers.

    A device with nothing left to take waits while another device of the pool still runs a unit:
    if that device is lost, its unit comes back and must find a taker."""

    def __init__(self, units: list[Unit]):
        self._units = list(units)
        self._running = 0  # units taken and not yet finished or given back
        self._changed = threading.Condition()

    def take(self, runnable: set[Variant], stop: threading.Event) -> Unit | None:
        """The first unit of a variant this device can run (removed from the queue); None once
        none is left and none can come back, or the session is stopping."""
        with self._changed:
            while not stop.is_set():
                for i, unit in enumerate(self._units):
                    if unit.variant in runnable:
                        self._running += 1
                        return self._units.pop(i)
                if self._running == 0:
                    break
                self._changed.wait(0.5)  # wake up now and then to notice `stop`
        return None

    def finished(self) -> None:
        """A taken unit ended (ok, failed or interrupted): it is recorded, not queued again."""
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    def give_back(self, unit: Unit) -> None:
        """A unit its device could not finish (the device was lost): next in line for another."""
        with self._changed:
            self._units.insert(0, unit)
            self._running -= 1
            self._changed.notify_all()


@dataclass
class Pool:
    """Devices that share one queue. `holders`: every device of the session whose records count
    for this pool (its members, and, on --resume, identical devices that ran units before)."""

    key: str
    members: list[str]
    shared: bool  # --shard: units are spread; otherwise one device runs all of its own
    units: list[Unit]  # everything planned
    holders: list[str] = field(default_factory=list)
    queue: WorkQueue = field(default_factory=lambda: WorkQueue([]))

    def done(self, store: SessionStore, unit: Unit) -> bool:
        return any(finished(store.record(d, unit.variant), unit.phase, unit.repeat) for d in self.holders)


def finished(rec: Record, phase: str, repeat: int | None) -> bool:
    """The phase ran to its end: ok, or skipped with its reason (no --fer-data, ...)."""
    found = rec.phase(phase, repeat)
    return found is not None and found.status in (OK, SKIPPED)


def stored(store: SessionStore, device: str, variant: Variant) -> Record | None:
    """The record of (device, variant) if one was written."""
    return store.record(device, variant) if store.record_path(device, variant).exists() else None


def release_unfinished(store: SessionStore, pool: Pool, variants: list[Variant]) -> None:
    """--resume of a shared pool: a unit that failed or was interrupted on one device leaves that
    device's record, so that whichever device runs it next holds it alone. A record left with no
    phase says why it is empty."""
    for device in pool.holders:
        for v in variants:
            rec = stored(store, device, v)
            if rec is None or not present_phases(rec):
                continue  # refused or blocked devices keep their record-level reason
            for phase, repeat in present_phases(rec):
                if not finished(rec, phase, repeat):
                    rec.drop_phase(phase, repeat)
            rec.reopen()
            finish_shared(rec)
            store.save_record(rec)


def present_phases(rec: Record) -> list[tuple[PhaseName, int | None]]:
    """The phases (and latency repeats) a record holds, finished or not."""
    return [(PhaseName.LATENCY, r.repeat) for r in rec.latency] + [
        (p, None) for p in PHASES_AFTER_LATENCY if rec.phase(p) is not None
    ]


def finish_shared(rec: Record) -> None:
    """A shared pool's record holds only the units its device ran: ok when those are."""
    present = present_phases(rec)
    if present:
        rec.finish(present)
    else:
        rec.skip("--shard: its unfinished units went back to the pool; other devices run them")
