"""Writing one session folder as it goes (layout: results/README.md).

Every JSON file is replaced atomically; a killed session leaves finished records intact and
`fermbench run --resume <session-id>` carries on from them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ResultsError
from ..fileio import append_line, atomic_write_text, storage_error
from ..locks import ProcessLock, pid_alive
from ..paths import results_dir
from . import migrate
from .files import git_revision, new_session_id, now_iso, read_json, read_typed, slug, variant_stem, write_typed
from .reader import resolve_session
from .records import SCHEMA_VERSION, Harness, Phase, Record, SessionDevice, SessionInfo, Variant

SAMPLE_COLUMNS = ("phase", "index", "ns")  # phase: first | warmup | timed


LOCK_FILE = ".lock"


# Schema 2 differs from 3 only in how a repeat's readings are laid out: read, migrated and
# rewritten as 3, a session started by a fermbench of schema 2 can go on.
RESUMABLE_SCHEMA_VERSIONS = (2, SCHEMA_VERSION)


class SessionStore:
    """Writes one session folder. Thread-safe: one worker per device shares it. One process at a
    time: creating or opening a store takes the session's lock file until close()."""

    def __init__(self, path: Path, info: SessionInfo, lock: ProcessLock):
        self.path = Path(path)
        self.info = info
        self._lock = threading.RLock()
        self.process_lock = lock

    def close(self) -> None:
        self.process_lock.release()

    @staticmethod
    def _take_lock(path: Path, session_id: str) -> ProcessLock:
        lock = ProcessLock(path / LOCK_FILE, f"fermbench run, session {session_id}")
        if not lock.try_acquire():
            holder = lock.owner()
            raise ResultsError(
                f"session {session_id} is being written by {holder or 'another process'}; "
                f"wait for that run to end (or stop it) before resuming it"
            )
        return lock

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        settings: dict[str, Any],
        *,
        root: Path | None = None,
        session_id: str | None = None,
        seed: int | None = None,
    ) -> SessionStore:
        root = Path(root) if root is not None else results_dir()
        session_id = session_id or new_session_id()
        path = root / session_id
        if path.exists():
            raise ResultsError(f"session folder {path} already exists; pick another id or --resume it")
        info = SessionInfo(
            session_id=session_id,
            harness=Harness(__version__, git_revision()),
            created=now_iso(),
            updated=now_iso(),
            settings=settings,
            seed=seed,
        )
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise storage_error(path, exc) from None
        store = cls(path, info, cls._take_lock(path, session_id))
        store._save_info()
        store.log(f"session {session_id} created by fermbench {__version__}")
        return store

    @classmethod
    def open(cls, session: str | Path, *, root: Path | None = None) -> SessionStore:
        """Reopen a session folder (by id under `root`, or by path) to resume it."""
        path = resolve_session(session, root)
        raw = read_json(path / "session.json")
        version = raw.get("schema_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise ResultsError(
                f"session {path.name} was written by a newer fermbench (results schema {version}, this "
                f"one writes {SCHEMA_VERSION}): resume it with that version "
                f"({(raw.get('harness') or {}).get('version')}) or upgrade fermbench"
            )
        if version not in RESUMABLE_SCHEMA_VERSIONS:
            raise ResultsError(
                f"session {path.name} was written by an older fermbench (results schema "
                f"{raw.get('schema_version')}): report it, but resume it with the fermbench that "
                f"wrote it ({(raw.get('harness') or {}).get('version')}) or start a new session"
            )
        info = read_typed(SessionInfo, path / "session.json", migrate.session)
        lock = cls._take_lock(path, info.session_id)
        try:
            store = cls(path, info, lock)
            for stale in path.rglob(".*.tmp"):  # half-written files of a writer that was killed
                stale.unlink(missing_ok=True)
            with store._lock:  # its status changes only once it really runs again (BenchmarkSession.run)
                store.info.resumed.append(now_iso())
                store._save_info()
            store.log("session resumed")
            if lock.previous is not None and not pid_alive(lock.previous.pid):
                store.log(f"took over the session's lock from {lock.previous}, which is no longer running")
        except BaseException:
            lock.release()
            raise
        return store

    @property
    def session_id(self) -> str:
        return self.info.session_id

    # -- session.json ----------------------------------------------------------------------

    def _save_info(self) -> None:
        self.info.updated = now_iso()
        write_typed(self.path / "session.json", self.info)

    def set_status(self, status: str, totals: dict[str, float] | None = None, error: str | None = None) -> None:
        with self._lock:
            self.info.status = status
            self.info.error = error
            if totals is not None:
                self.info.totals = totals
            self._save_info()

    def set_device(self, serial: str, **fields: Any) -> None:
        """Record (or update) a device's identity, properties, runner, tags, status."""
        with self._lock:
            current = self.info.devices.get(serial) or SessionDevice(serial=serial, slug=slug(serial))
            self.info.devices[serial] = dataclasses.replace(current, **fields)
            self._save_info()

    def set_adb_servers(self, servers: list[str], local: str) -> None:
        """The adb servers the session uses (HOST:PORT), so that --resume asks the same ones."""
        with self._lock:
            self.info.adb_servers = list(servers)
            self.info.adb_local_server = local
            self._save_info()

    def set_order(self, serial: str, repeat: int, order: list[str]) -> None:
        """The model order a device ran in one repeat (seeded; recorded so a reader can check)."""
        with self._lock:
            self.info.order.setdefault(serial, {})[str(repeat)] = list(order)
            self._save_info()

    def set_model(self, variant: Variant, meta: dict[str, Any]) -> None:
        with self._lock:
            self.info.models[variant.key] = meta
            self._save_info()

    # -- records ---------------------------------------------------------------------------

    def record_path(self, serial: str, variant: Variant) -> Path:
        return self.path / "records" / slug(serial) / f"{variant_stem(variant)}.json"

    def record(self, serial: str, variant: Variant) -> Record:
        """The stored record of (device, model, runtime, quant), or a new one."""
        path = self.record_path(serial, variant)
        if not path.exists():
            return Record(serial, variant.model, variant.runtime, variant.quant)
        return read_typed(Record, path, lambda obj: migrate.record(obj, {}))

    def save_record(self, record: Record) -> Path:
        record.updated = now_iso()
        return write_typed(self.record_path(record.device, Variant(record.model, record.runtime, record.quant)), record)

    def save_phase(
        self, record: Record, phase: str, result: Phase, repeat: int | None, planned: Sequence[tuple[str, int | None]]
    ) -> None:
        """Store one finished phase and the record's status that follows from it."""
        record.set_phase(phase, result, now_iso(), repeat)
        record.finish(planned)
        self.save_record(record)

    # -- raw data files --------------------------------------------------------------------

    def write_samples(
        self,
        serial: str,
        variant: Variant,
        repeat: int,
        timed_ns: Iterable[int],
        *,
        first_ns: int | None = None,
        warmup_ns: Iterable[int] = (),
    ) -> str:
        """Write every raw sample of one latency repeat; returns its path relative to the session.

        Rows: the first inference after load (`first`), warm-up iterations where the runner
        reports them one by one (`warmup`), then every timed iteration (`timed`).
        """
        rel = f"samples/{slug(serial)}/{variant_stem(variant)}.r{repeat}.csv"
        buf = io.StringIO()
        buf.write(",".join(SAMPLE_COLUMNS) + "\n")
        first = [] if first_ns is None else [first_ns]
        for phase, values in (("first", first), ("warmup", warmup_ns), ("timed", timed_ns)):
            for i, ns in enumerate(values):
                buf.write(f"{phase},{i},{int(ns)}\n")
        atomic_write_text(self.path / rel, buf.getvalue())
        return rel

    def write_predictions(
        self, serial: str, variant: Variant, dataset: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]
    ) -> str:
        """Write per-image predictions as CSV; returns the path relative to the session."""
        rel = f"predictions/{slug(serial)}/{variant_stem(variant)}.{dataset}.csv"
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path / rel, buf.getvalue())
        return rel

    def log(self, message: str, *, device: str | None = None, model: str | None = None) -> None:
        where = " ".join(f"[{x}]" for x in (device, model) if x)
        with self._lock:
            append_line(self.path / "log.txt", f"{now_iso()} {where + ' ' if where else ''}{message}")
