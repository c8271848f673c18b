"""One benchmark session: export, prepare inputs, then one worker per device runs every phase of
every model, writing each result to the store as it finishes.

Order on a device: for each repeat, the models in a seeded random order (recorded), each one's
latency after a bounded cool-down; then per model FER-2013 accuracy, real-world accuracy and app
size. A phase that fails is recorded with its error and the session goes on. A device that
drops off is waited for (reconnect budget) and the phase retried once it is back; past the
budget the device is marked failed and the other devices carry on. With --shard, identical
devices take these units of work from one shared queue instead (bench/shards.py).
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..device.errors import DeviceOffline
from ..errors import DeviceError, FermbenchError, RunnerError, StorageError
from ..store import (
    COMPLETE,
    FAILED,
    INTERRUPTED,
    OK,
    PARTIAL,
    PHASE_FAILED,
    PHASE_TYPES,
    RUNNING,
    SKIPPED,
    AccuracyPhase,
    Phase,
    RealworldPhase,
    Record,
    SessionStore,
    Variant,
)
from ..store.records import PhaseName
from ..targets import Environment, Target
from ..threads import Worker
from . import phases
from .exports import ModelFile
from .inputs import ImageSet, host_predictions
from .progress import Progress
from .settings import Settings
from .shards import (
    Pool,
    Unit,
    WorkQueue,
    identity_key,
    model_order,
    plan_units,
    present_phases,
    release_unfinished,
    stored,
)

SETTLE_POLL_S = 2.0
SETTLE_TEMP_MARGIN_C = 1.0  # battery within 1 degree C of where the session started
MAX_PHASE_ATTEMPTS = 3  # a phase is retried after a reconnect at most this often


@dataclass
class Totals:
    """Where the session's wall time went (seconds), for the harness-overhead figure."""

    wall_s: float = 0.0
    export_s: float = 0.0
    inputs_s: float = 0.0
    host_predictions_s: float = 0.0
    runner_s: float = 0.0
    transfer_s: float = 0.0
    cooldown_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **kw: float) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def to_dict(self) -> dict[str, float]:
        return {
            k: round(getattr(self, k), 4)
            for k in ("wall_s", "export_s", "inputs_s", "host_predictions_s", "runner_s", "transfer_s", "cooldown_s")
        }


@dataclass
class Outcome:
    store: SessionStore
    status: str
    records: list[Record]
    totals: Totals


class DeviceLost(FermbenchError):
    """The device stayed away longer than the reconnect budget."""


class Interrupted(FermbenchError):
    """The session is stopping (Ctrl-C, SIGTERM, or a fatal error elsewhere): not a device's fault."""


def planned_phases(settings: Settings) -> list[tuple[PhaseName, int | None]]:
    plan: list[tuple[PhaseName, int | None]] = [(PhaseName.LATENCY, r) for r in range(settings.repeats)]
    return plan + [(phase, None) for phase in PhaseName if phase is not PhaseName.LATENCY]


class BenchmarkSession:
    """Everything one run needs, given complete: the store, the settings, the opened targets, the
    exported models (and why others are not runnable), the image sets."""

    def __init__(
        self,
        store: SessionStore,
        settings: Settings,
        targets: list[Target],
        variants: list[Variant],
        images: dict[str, ImageSet],
        files: dict[Variant, ModelFile],
        *,
        export_errors: dict[Variant, str] | None = None,
        skipped: dict[tuple[str, Variant], str] | None = None,
        totals: Totals | None = None,
        progress: Progress | None = None,
        scoring: Scoring | None = None,
    ):
        self.store = store
        self.settings = settings
        self.targets = targets
        self.variants = variants
        self.images = images
        self.files = files
        self.export_errors = export_errors or {}
        self.skipped = skipped or {}  # (serial, variant) -> why that device cannot run it
        self.scoring = scoring or Scoring.study(variants, images)
        self.totals = totals or Totals()
        self.progress = progress or Progress()
        self.host_top: dict[tuple[Variant, str], np.ndarray[Any, Any]] = {}
        self.stop = threading.Event()  # set on Ctrl-C/SIGTERM or a fatal error: every worker winds down
        self.fatal: StorageError | None = None  # results cannot be written: the session cannot go on
        self.plan = planned_phases(settings)
        self.pools: dict[str, Pool] = {}  # device key -> its pool (bench/shards.py)

    # -- host-side preparation ---------------------------------------------------------------

    def predict_on_host(self) -> None:
        t0 = time.perf_counter()
        for v, f in self.files.items():
            for dataset in self.scoring.sets_of(v.model):
                images = self.images[dataset]
                if len(images.images):
                    mean, std = phases.model_normalisation(f)
                    self.host_top[(v, dataset)] = host_predictions(
                        f.path, f.sha256, images, phases.runtime_of(f), mean=mean, std=std
                    )
        self.totals.add(host_predictions_s=time.perf_counter() - t0)

    # -- per device -------------------------------------------------------------------------

    def cool_down(self, target: Target, baseline: Environment) -> float:
        """The wait between two measurements, as --cooldown says; returns the seconds waited."""
        mode, limit = self.settings.cooldown, self.settings.cooldown_seconds
        if mode == "none":
            return 0.0
        if mode == "fixed":  # the device idle for a fixed time, as ExecuTorch's device-farm jobs do
            t0 = time.perf_counter()
            self.stop.wait(limit)
            return time.perf_counter() - t0
        return self.settle(target, baseline)

    def settle(self, target: Target, baseline: Environment) -> float:
        """Wait (at most cooldown_seconds) for thermal status none and the battery back near its
        start temperature. Targets that cannot tell (host) return at once."""
        limit = self.settings.cooldown_seconds
        t0 = time.perf_counter()
        while True:
            try:
                env = target.environment()
            except DeviceError:
                return time.perf_counter() - t0  # unreadable now: the next phase will find out why
            hot = env.thermal_status is not None and env.thermal_status > 0
            warm = (
                env.battery_temp_c is not None
                and baseline.battery_temp_c is not None
                and env.battery_temp_c > baseline.battery_temp_c + SETTLE_TEMP_MARGIN_C
            )
            waited = time.perf_counter() - t0
            if not (hot or warm) or waited >= limit or self.stop.is_set():
                return waited
            time.sleep(min(SETTLE_POLL_S, limit - waited))

    def wait_for_device(self, target: Target, error: Exception) -> bool:
        """After an error: False if the device is still there and the error was not a broken link
        (the error is the phase's own); True once it is back within the budget; DeviceLost past it."""
        link_broke = isinstance(error, DeviceOffline)  # includes DeviceDisconnected
        if not link_broke and target.connected():
            return False
        budget = self.settings.reconnect_budget_seconds
        self.store.log(f"device lost ({error}); waiting up to {budget:.0f} s for it", device=target.serial)
        self.progress.message(f"{target.serial}: lost, waiting up to {budget:.0f} s to reconnect")
        deadline = time.monotonic() + budget
        while not self.stop.is_set():
            if target.reconnect():
                self.store.log("device back", device=target.serial)
                return True
            if time.monotonic() >= deadline:
                break
            self.stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        if self.stop.is_set():
            raise Interrupted(f"stopped while waiting for {target.serial} to come back")
        raise DeviceLost(
            f"device {target.serial} did not come back within {budget:.0f} s "
            f"(reconnect_budget_seconds); last error: {error}"
        )

    def run_phase(
        self, target: Target, record: Record, phase: PhaseName, repeat: int | None, fn: Callable[[phases.Timing], Phase]
    ) -> None:
        """Run one phase, retrying it when the device dropped off and came back; record it.

        When the session is stopping, a phase that did not finish is not the phase's failure:
        the record is marked interrupted (`--resume` runs the phase again)."""
        label = phase if repeat is None else f"{phase} #{repeat + 1}"
        self.progress.step(target.serial, record.model, label)
        timing = phases.Timing(stop=self.stop)
        for attempt in range(1, MAX_PHASE_ATTEMPTS + 1):
            timing = phases.Timing(stop=self.stop)
            try:
                result = fn(timing)
            except StorageError:
                raise  # results cannot be written: the whole session stops (see _guarded)
            except FermbenchError as exc:
                result = PHASE_TYPES[phase](status=PHASE_FAILED, error=str(exc))
                if self.stop.is_set():
                    break
                if (
                    isinstance(exc, (DeviceError, RunnerError))
                    and attempt < MAX_PHASE_ATTEMPTS
                    and self.wait_for_device(target, exc)
                ):
                    self.store.log(
                        f"{label}: retrying after the device came back ({exc})",
                        device=target.serial,
                        model=record.model,
                    )
                    continue
            except Exception as exc:  # a bug must not cost the other models their results
                result = PHASE_TYPES[phase](status=PHASE_FAILED, error=f"internal error {type(exc).__name__}: {exc}")
            break
        if self.stop.is_set() and not result.ok:
            self.mark_interrupted(record, label)
            return
        self.totals.add(runner_s=timing.runner_s, transfer_s=timing.transfer_s)
        if record.variant in self.files:  # which file this phase measured: --resume and the report check it
            result.model_sha256 = self.files[record.variant].sha256
        # a shared pool's record holds just the units its device ran
        planned = list(dict.fromkeys(present_phases(record) + [(phase, repeat)])) if self.settings.shard else self.plan
        self.store.save_phase(record, phase, result, repeat, planned)
        self.store.log(
            f"{label}: {result.status}" + (f" ({result.error})" if result.error else ""),
            device=target.serial,
            model=record.model,
        )
        self.progress.done(target.serial, record.model, label, result.status)

    def mark_interrupted(self, record: Record, label: str) -> None:
        self.store.log(f"{label}: interrupted", device=record.device, model=record.model)
        if self.settings.shard and not present_phases(record):
            return  # a shared unit that never finished here is the pool's again on --resume: no record
        record.interrupt(f"interrupted during {label}; finish it with `fermbench run --resume {self.store.session_id}`")
        self.store.save_record(record)

    def runnable(self, serial: str) -> list[Variant]:
        """The variants this device can run: exported, and not skipped for it."""
        return [
            v
            for v in self.variants
            if v in self.files and v not in self.export_errors and (serial, v) not in self.skipped
        ]

    def build_pools(self) -> list[Pool]:
        """One pool per device, or with --shard one pool of identical devices; each pool's queue
        holds the units no device of it has finished (so --resume never runs a unit twice)."""
        seed, repeats = self.store.info.seed or 0, self.settings.repeats
        pools: list[Pool] = []
        if self.settings.shard:
            identities = {d: identity_key(dev.identity) for d, dev in self.store.info.devices.items()}
            key = identities[self.targets[0].serial]  # start.py refused --shard over devices that differ
            variants = sorted({v for t in self.targets for v in self.runnable(t.serial)})
            pool = Pool(
                key,
                [t.serial for t in self.targets],
                True,
                plan_units(seed, key, repeats, variants),
                holders=[d for d, k in identities.items() if k == key],
            )
            release_unfinished(self.store, pool, variants)
            pools.append(pool)
        else:
            for t in self.targets:
                runnable = self.runnable(t.serial)
                pools.append(
                    Pool(t.serial, [t.serial], False, plan_units(seed, t.serial, repeats, runnable), holders=[t.serial])
                )
                for repeat in range(repeats):
                    self.store.set_order(
                        t.serial, repeat, [v.key for v in model_order(seed, t.serial, repeat, runnable)]
                    )
        for pool in pools:
            pool.queue = WorkQueue([u for u in pool.units if not pool.done(self.store, u)])
            self.pools.update(dict.fromkeys(pool.members, pool))
        return pools

    def note_order(self, serial: str, unit: Unit) -> None:
        """In a shared pool a device's order is the latency units it took, as it took them."""
        if unit.phase == PhaseName.LATENCY and unit.repeat is not None:
            taken = self.store.info.order.get(serial, {}).get(str(unit.repeat), [])
            self.store.set_order(serial, unit.repeat, taken + [unit.variant.key])

    def device_worker(self, target: Target) -> None:
        serial = target.serial
        pool = self.pools[serial]
        records = {v: self.store.record(serial, v) for v in self.variants}
        for (device, variant), why in self.skipped.items():
            if device == serial:
                records[variant].skip(why)
                self.store.save_record(records[variant])
        blocked = {v: err for v, err in self.export_errors.items() if (serial, v) not in self.skipped}
        for v, err in blocked.items():
            records[v].fail(err)
            self.store.save_record(records[v])
        runnable = set(self.runnable(serial))
        if not pool.shared:
            for v in runnable:  # on resume, an earlier record-level failure or interruption is tried again
                records[v].reopen()
                records[v].finish(self.plan)
                self.store.save_record(records[v])
        self.progress.start(serial, len(pool.units))
        try:
            baseline = self._environment(target)
            cool = False  # the device's first latency needs no cool-down
            while True:
                unit = pool.queue.take(runnable, self.stop)
                if unit is None:
                    return
                try:
                    self.run_unit(target, pool, records[unit.variant], unit, baseline, cool)
                except DeviceLost:
                    pool.queue.give_back(unit)  # another device of the pool may run it
                    raise
                except BaseException:
                    pool.queue.finished()  # never leave the pool's other devices waiting for it
                    raise
                pool.queue.finished()
                cool = cool or unit.phase == PhaseName.LATENCY
        except Interrupted:
            return
        except DeviceLost as exc:
            self.store.set_device(serial, status="failed", error=str(exc))
            self.store.log(str(exc), device=serial)
            self.progress.message(str(exc))
            if pool.shared:
                return  # what it finished stands; its unit went back to the pool
            for rec in records.values():
                if rec.status not in (OK, SKIPPED):
                    rec.fail(f"device lost: {exc}")
                    self.store.save_record(rec)

    def run_unit(self, target: Target, pool: Pool, rec: Record, unit: Unit, baseline: Environment, cool: bool) -> None:
        """One unit of work on this device: a latency repeat after its cool-down, or another phase."""
        if pool.shared:
            rec.reopen()  # a shared record's status follows from the units it holds
            self.note_order(target.serial, unit)
        if unit.phase == PhaseName.LATENCY:
            waited = self.cool_down(target, baseline) if cool else 0.0
            self.totals.add(cooldown_s=waited)
            fn = self.latency_fn(target, unit, waited)
        else:
            fn = self.phase_fn(target, unit.variant, unit.phase)
        self.run_phase(target, rec, unit.phase, unit.repeat, fn)

    def latency_fn(self, target: Target, unit: Unit, waited: float) -> Callable[[phases.Timing], Phase]:
        def latency(timing: phases.Timing) -> Phase:
            out = phases.latency_phase(
                self.store, target, self.files[unit.variant], unit.repeat or 0, self.settings, timing
            )
            out.cooldown_seconds = round(waited, 3)
            return out

        return latency

    def _environment(self, target: Target) -> Environment:
        try:
            return target.environment()
        except DeviceError:
            return Environment()

    def phase_fn(self, target: Target, v: Variant, phase: PhaseName) -> Callable[[phases.Timing], Phase]:
        """The measurement of a phase after latency (latency_fn measures latency, after its cool-down);
        ValueError for any other name."""
        builders = {
            PhaseName.ACCURACY: self.accuracy_fn,
            PhaseName.REALWORLD: self.realworld_fn,
            PhaseName.APPSIZE: self.appsize_fn,
        }
        build = builders.get(PhaseName(phase))  # PhaseName("x") raises ValueError
        if build is None:
            raise ValueError(f"phase {phase} is measured by latency_fn, not phase_fn")
        return build(target, v)

    def accuracy_fn(self, target: Target, v: Variant) -> Callable[[phases.Timing], Phase]:
        f, dataset = self.files[v], self.scoring.accuracy.get(v.model)
        if dataset is None:
            why = self.scoring.no_accuracy.get(v.model, "no --fer-data given")
            return lambda timing: AccuracyPhase(status=SKIPPED, reason=why)
        images = self.images[dataset]
        return lambda timing: phases.accuracy_phase(
            self.store, target, f, images, self.host_top[(v, dataset)], self.settings, timing
        )

    def realworld_fn(self, target: Target, v: Variant) -> Callable[[phases.Timing], Phase]:
        f, photos = self.files[v], self.images.get("photos")
        if v.model not in self.scoring.photos:
            why = self.scoring.no_photos.get(v.model, "no --photos given")
            return lambda timing: RealworldPhase(status=SKIPPED, reason=why)
        if photos is None:
            return lambda timing: RealworldPhase(status=SKIPPED, reason="no --photos given")
        return lambda timing: phases.realworld_phase(
            self.store, target, f, photos, self.host_top.get((v, "photos")), self.settings, timing
        )

    def appsize_fn(self, target: Target, v: Variant) -> Callable[[phases.Timing], Phase]:
        f = self.files[v]
        return lambda timing: phases.appsize_phase(target, f, self.settings)

    # -- the whole session --------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run every worker; on Ctrl-C/SIGTERM stop them, mark what was in progress interrupted,
        and re-raise KeyboardInterrupt; a full disk (StorageError) fails the session with its reason."""
        t0 = time.perf_counter()
        self.store.set_status(RUNNING)
        pools = self.build_pools()
        self.predict_on_host()
        # Worker, not Thread.join: an interrupted join can mark a running thread stopped (threads.py)
        workers = [Worker(functools.partial(self._guarded, t), f"fermbench-{t.serial}").start() for t in self.targets]
        try:
            for w in workers:
                while not w.wait(0.2):  # short waits keep Ctrl-C responsive
                    pass
        except KeyboardInterrupt:
            self.stop.set()
            self._wind_down(workers)
            raise
        if self.fatal is not None:
            self._fail_session(self.fatal)
            raise self.fatal
        self.totals.add(wall_s=time.perf_counter() - t0)
        if self.settings.shard:
            return self._end_shared(pools)
        # every device of the session, refused ones included: a refusal makes the session partial
        records = [self.store.record(serial, v) for serial in self.store.info.devices for v in self.variants]
        ok = sum(r.status == OK for r in records)
        skipped = sum(r.status == SKIPPED for r in records)  # a runtime a device cannot run is no failure
        status = COMPLETE if ok + skipped == len(records) and ok else FAILED if ok == 0 else PARTIAL
        self.store.set_status(status, self.totals.to_dict())
        self.store.log(
            f"session {status}: {ok}/{len(records)} (device, variant) records ok"
            + (f", {skipped} skipped" if skipped else "")
        )
        return Outcome(self.store, status, records, self.totals)

    def _end_shared(self, pools: list[Pool]) -> Outcome:
        """--shard: complete when every unit of work ran ok on some device of its pool, no variant
        failed to export and no device failed (refused, unreachable or lost)."""
        done = sum(pool.done(self.store, u) for pool in pools for u in pool.units)
        planned = sum(len(pool.units) for pool in pools)
        failed = sorted(d for d, dev in self.store.info.devices.items() if dev.status == "failed")
        status = (
            COMPLETE
            if done == planned and done and not self.export_errors and not failed
            else FAILED
            if done == 0
            else PARTIAL
        )
        self.store.set_status(status, self.totals.to_dict())
        self.store.log(
            f"session {status}: {done}/{planned} units of work ok over {len(self.targets)} devices"
            + (f"; failed devices: {', '.join(failed)}" if failed else "")
        )
        records = [r for d in self.store.info.devices for v in self.variants if (r := stored(self.store, d, v))]
        return Outcome(self.store, status, records, self.totals)

    def _wind_down(self, workers: list[Worker]) -> None:
        """After Ctrl-C/SIGTERM: wait for the workers to record what they were doing, then mark the
        session interrupted. A second Ctrl-C meanwhile does not cut this short (the session would
        stay "running"): the bounded wait goes on and the status is written; in the main thread
        further Ctrl-C and SIGTERM are ignored until the process has stopped what it started."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self._join(workers, max(0.0, deadline - time.monotonic()))
                break
            except KeyboardInterrupt:
                continue
        for _ in range(3):
            try:
                self.store.log("interrupted (Ctrl-C or SIGTERM); resume with --resume " + self.store.session_id)
                self.store.set_status(INTERRUPTED, error="interrupted by Ctrl-C or SIGTERM")
                return
            except KeyboardInterrupt:
                continue

    def _join(self, workers: list[Worker], timeout: float = 30.0) -> None:
        """Wait (bounded) for stopping workers to record what they were doing."""
        deadline = time.monotonic() + timeout
        for w in workers:
            w.wait(max(0.0, deadline - time.monotonic()))

    def _fail_session(self, error: StorageError) -> None:
        """Say why on disk if anything can still be written there (a full disk may refuse even that)."""
        try:
            self.store.log(f"session failed: {error}")
            self.store.set_status(FAILED, error=str(error))
        except StorageError:
            pass

    def _guarded(self, target: Target) -> None:
        try:
            self.device_worker(target)
        except StorageError as exc:  # no room for results: stop everything, the main thread reports it
            self.fatal = self.fatal or exc
            self.stop.set()
        except Exception as exc:  # last resort: record, never take the other devices down
            try:
                self.store.set_device(target.serial, status="failed", error=f"{type(exc).__name__}: {exc}")
                self.store.log(f"worker crashed: {type(exc).__name__}: {exc}", device=target.serial)
            except StorageError as storage:
                self.fatal = self.fatal or storage
                self.stop.set()


@dataclass(frozen=True)
class Scoring:
    """Which image sets score which model: its accuracy set (FER-2013 for the FER models, else the
    --images set preprocessed its way; a key of the session's images) and whether the face-cropped
    photos apply; for the others, why not (the skipped phase says it)."""

    accuracy: dict[str, str] = field(default_factory=dict)  # model -> images key
    photos: frozenset[str] = frozenset()  # models scored on the real-world photos
    no_accuracy: dict[str, str] = field(default_factory=dict)  # model -> why it has no accuracy set
    no_photos: dict[str, str] = field(default_factory=dict)  # model -> why photos do not apply

    def sets_of(self, model: str) -> list[str]:
        return [k for k in (self.accuracy.get(model), "photos" if model in self.photos else None) if k]

    @classmethod
    def study(cls, variants: list[Variant], images: dict[str, ImageSet]) -> Scoring:
        """Every model is a FER model (the sessions built before other models existed; tests)."""
        models = {v.model for v in variants}
        return cls(
            accuracy={m: "fer2013" for m in models if "fer2013" in images},
            photos=frozenset(models),
        )


@contextlib.contextmanager
def caller_signal_handlers() -> Iterator[None]:
    """SIGINT and SIGTERM given back as the caller had them, once the session has stopped what it
    started. An interrupted session ignores both while it winds down (_wind_down); left ignored,
    they would stay so in a caller that goes on (a test, a notebook) and in every child it starts
    later (an ignored signal stays ignored across exec). A caller that exits right after the
    interrupt (the CLI) keeps late signals harmless itself (commands.interrupt_once)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread sets handlers
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(sig, handler)
